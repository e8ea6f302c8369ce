"""Pages of mandatory reports, under /reports/."""

from tongxin.protection.views import urlpatterns

app_name = "reports"

__all__ = ["app_name", "urlpatterns"]
