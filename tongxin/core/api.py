"""Plumbing of the JSON API shared by the apps: record versions sent as ``ETag`` and named
in ``If-Match``, the 428 and 412 answers to a change without one or based on an older version
(listing what changed meanwhile), and the pieces of the schema they share."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from tongxin.core.versions import FieldChange

# The 404 of an endpoint about a child: the same answer for "not there" and "not yours".
NOT_FOUND = OpenApiResponse(description="No such child, or not in your area (the same answer).")
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description='The ETag of the version your change is based on, e.g. `"3"`.',
)


# One changed field (``versions.FieldChange``). No docstring: it would become the schema's
# description.
class FieldChangeSerializer(serializers.Serializer[Any]):
    at = serializers.DateTimeField()
    by = serializers.CharField()
    record = serializers.CharField()
    field = serializers.CharField()
    # A declared field (DRF takes it off the class), not the Field.label it shadows for mypy.
    label = serializers.CharField()  # type: ignore[assignment]
    old = serializers.CharField()
    new = serializers.CharField()


# The 412 answer: the current version and what changed after the one named.
class StaleSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()
    current_version = serializers.IntegerField()
    changes = FieldChangeSerializer(many=True, help_text="what changed after your version")


# ASCII digits only, and few of them: int() of thousands of digits raises (a 500 before).
_ETAG = re.compile(r'^\s*(?:W/)?"?([0-9]{1,18})"?\s*$', re.ASCII)


def if_match(request: Request) -> int | None:
    """The version named in If-Match, or None when the header is missing; -1 when it names
    no version of ours (``*`` or garbage), which never matches."""
    header = request.headers.get("If-Match")
    if header is None or not header.strip():
        return None
    found = _ETAG.match(header)
    return int(found.group(1)) if found else -1


def field_changes(changes: list[FieldChange]) -> list[dict[str, Any]]:
    """Field changes as the body of an answer (``FieldChangeSerializer``)."""
    return [c.__dict__ for c in changes]


def stale_response(current: int, changes: list[FieldChange], detail: str | None = None) -> Response:
    """The 412 answer to a change based on an older version: the current version (also as
    the ETag) and what changed after the one the change was based on."""
    body = StaleSerializer(
        {
            "detail": detail or _("The file changed since your version; nothing was saved."),
            "current_version": current,
            "changes": field_changes(changes),
        }
    ).data
    response = Response(body, status=status.HTTP_412_PRECONDITION_FAILED)
    response["ETag"] = f'"{current}"'
    return response


def tagged(body: Any, version: int, code: int = status.HTTP_200_OK) -> Response:
    """An answer about one record, tagged with its version; personal data, kept nowhere."""
    response = Response(body, status=code)
    response["ETag"] = f'"{version}"'
    response["Cache-Control"] = "private, no-store"
    return response


def precondition(
    request: Request,
    current: int,
    changes_since: Callable[[int], list[FieldChange]],
    detail: str | None = None,
) -> Response | int:
    """The version If-Match names when it is the current one; else the 428 or 412 answer
    (``changes_since(version)`` lists what changed after an older version; ``detail`` says
    what changed, when it is not the child's file)."""
    version = if_match(request)
    if version is None:
        return Response(
            {"detail": _("If-Match is required: send the ETag of the version you changed.")},
            status=status.HTTP_428_PRECONDITION_REQUIRED,
        )
    if version != current:
        return stale_response(
            current, changes_since(version) if 0 < version < current else [], detail
        )
    return version
