from django.urls import path

from tongxin.audit import views

app_name = "audit"
urlpatterns = [
    path("", views.event_list, name="event_list"),
    path("anchors/", views.anchor_download, name="anchor_download"),
]
