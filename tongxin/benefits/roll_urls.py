from django.urls import path

from tongxin.benefits import roll_views as views

app_name = "rolls"
urlpatterns = [
    path("", views.roll_index, name="index"),
    path("upload/", views.roll_upload, name="upload"),
    path("to-register/", views.roll_unmatched, name="unmatched"),
    path("<uuid:public_id>/", views.roll_detail, name="detail"),
    path("<uuid:public_id>/apply/", views.roll_apply, name="apply"),
]
