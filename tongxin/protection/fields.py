"""Protection's API fields that other apps' APIs use too (one schema component each)."""

from __future__ import annotations

from tongxin.core.api_fields import named_choices
from tongxin.protection.rules import Severity

# A problem's severity, in contacts' and problems' answers alike.
SeverityField = named_choices(Severity.choices, "ProblemSeverity")
