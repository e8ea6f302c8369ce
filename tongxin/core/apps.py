from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """Shared plumbing of the foundation layer: what several apps need and none owns."""

    name = "tongxin.core"
    label = "core"
    verbose_name = _("Shared plumbing")

    def ready(self) -> None:
        # Every database connection watches its writes from the moment it opens.
        from tongxin.core import generation  # noqa: F401
