"""Pages of the visits app, under /visits/: each view module declares its own patterns."""

from django.urls import URLPattern

from tongxin.visits.views import (
    compliance,
    contacts,
    policy,
    risk,
    worklist,
    worklog,
)

app_name = "visits"
urlpatterns: list[URLPattern] = [
    *worklist.urlpatterns,
    *contacts.urlpatterns,
    *worklog.urlpatterns,
    *risk.urlpatterns,
    *compliance.urlpatterns,
    *policy.urlpatterns,
]
