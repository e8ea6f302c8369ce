from django.urls import path

from tongxin.geo import views

app_name = "geo"
urlpatterns = [
    path("", views.division_list, name="division_list"),
    path("<str:code>/", views.division_detail, name="division_detail"),
]
