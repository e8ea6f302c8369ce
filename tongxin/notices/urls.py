"""Pages of the notification centre, under /visits/notifications/ (where they were before the
centre left the visits app: the addresses did not change)."""

from django.urls import URLPattern

from tongxin.notices import views

app_name = "notices"
urlpatterns: list[URLPattern] = views.urlpatterns
