"""Keeps the stored risk level in step with the child's facts."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from tongxin.registry.models import Child
from tongxin.registry.signals import child_facts_changed


@receiver(child_facts_changed, sender=Child, dispatch_uid="visits.risk_refresh")
def _facts_changed(sender: type[Child], child: Child, **kwargs: Any) -> None:
    from tongxin.visits.risk import risk_refresh

    risk_refresh(child)
