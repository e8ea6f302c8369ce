"""Fields shared by the apps' APIs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


def named_choices(
    choices: list[tuple[str, Any]], component: str
) -> Callable[..., serializers.ChoiceField]:
    """A choice field documented as one named schema component (every app's API enums), so the
    same choice set is not named once per field."""

    class NamedChoiceField(serializers.ChoiceField):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(choices=choices, **kwargs)

    schema = {
        "type": "string",
        "enum": [value for value, _label in choices],
        "description": "\n".join(f"* `{value}` - {label}" for value, label in choices),
    }
    return extend_schema_field(schema, component_name=component)(NamedChoiceField)
