"""Keeps the stored risk level in step with the child's facts and open problems."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from tongxin.protection.signals import problems_changed
from tongxin.registry.models import Child
from tongxin.registry.signals import child_facts_changed


@receiver(child_facts_changed, sender=Child, dispatch_uid="visits.risk_refresh")
def _facts_changed(sender: type[Child], child: Child, **kwargs: Any) -> None:
    from tongxin.visits.risk import risk_refresh

    risk_refresh(child)


@receiver(problems_changed, dispatch_uid="visits.risk_refresh_problems")
def _problems_changed(sender: Any, children: tuple[Child, ...], **kwargs: Any) -> None:
    from tongxin.visits.risk import risk_refresh

    for child in children:
        risk_refresh(child)
