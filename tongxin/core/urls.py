"""Pages of the shared settings, under /settings/."""

from tongxin.core.views import urlpatterns

app_name = "core"

__all__ = ["app_name", "urlpatterns"]
