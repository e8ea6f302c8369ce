"""Pages of benefits, under /benefits/."""

from tongxin.benefits.views import urlpatterns

app_name = "benefits"

__all__ = ["app_name", "urlpatterns"]
