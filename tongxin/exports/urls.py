"""Pages of background exports, under /exports/."""

from django.urls import URLPattern

from tongxin.exports import views

app_name = "exports"
urlpatterns: list[URLPattern] = views.urlpatterns
