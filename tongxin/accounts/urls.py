from django.urls import path

from tongxin.accounts import views

app_name = "accounts"
urlpatterns = [
    path("users/", views.user_list, name="user_list"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/<uuid:public_id>/", views.user_detail, name="user_detail"),
]
