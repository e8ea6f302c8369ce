"""The working-day calendar page, under /settings/."""

from tongxin.workdays.views import urlpatterns

app_name = "workdays"

__all__ = ["app_name", "urlpatterns"]
