"""What the JSON API accepts as a request body, and how it answers a body it refuses.

Every body is hostile, the anonymous token request's included:

- JSON is read with a size limit (Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE``, which DRF does not
  apply to the stream it parses) and a nesting limit: no payload of ours nests deeper than a few
  levels, while 100,000 nested brackets exhaust the parser's recursion (a 500 before this).
- multipart/form-data (reports and addenda with photos) is refused above a total size before
  anything is written to disk.
- A Django ``ValidationError`` that reaches the API (a service's, a typed query parameter's)
  answers 400 with its messages by field, as a serializer's would, rather than a 500.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework import parsers, status
from rest_framework.exceptions import APIException, ParseError, ValidationError
from rest_framework.response import Response

# The deepest a JSON body may nest: the deepest of ours (a classification's parents' spells of
# work away) has 4 levels.
MAX_JSON_DEPTH = 32
# A report with its photos: five files of 5 MB and the form's fields.
DEFAULT_MAX_MULTIPART_BYTES = 26 * 1024 * 1024


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(
            _("The request is too large: at most %(size)s are accepted.") % {"size": _size(limit)}
        )


def _size(limit: int) -> str:
    megabytes = limit / (1024 * 1024)
    return f"{megabytes:.0f} MB" if megabytes >= 1 else f"{limit // 1024} KB"


def json_depth(value: Any) -> int:
    """How deep ``value`` nests (a scalar 0, ``[]`` 1, ``[[1]]`` 2), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if depth > MAX_JSON_DEPTH:
            break
        stack.extend((c, depth) for c in children if isinstance(c, list | Mapping))
    return deepest


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with a size and a nesting limit, and its errors in the user's
    language (never the parser's English, never a 500)."""

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise RequestTooLarge(limit)
        not_text = ParseError(_("The body is not text in the charset its Content-Type names."))
        try:
            # Text codecs only: a compression codec (bz2_codec) would expand a small body.
            encoding = parsers.get_encoding(dict(parser_context or {}))  # type: ignore[attr-defined]
            text = codecs.decode(raw, encoding)
        except (ParseError, UnicodeError, LookupError):
            raise not_text from None
        try:
            data = json.loads(text, parse_constant=_refuse_constant if self.strict else None)
        except RecursionError:
            raise ParseError(self.too_deep()) from None
        except json.JSONDecodeError as exc:
            raise ParseError(
                _("The body is not valid JSON (line %(line)d, column %(column)d).")
                % {"line": exc.lineno, "column": exc.colno}
            ) from None
        except ValueError:  # NaN, Infinity, an integer of thousands of digits
            raise ParseError(_("The body is not valid JSON.")) from None
        if json_depth(data) > MAX_JSON_DEPTH:
            raise ParseError(self.too_deep())
        return data

    @staticmethod
    def too_deep() -> str:
        return _("The JSON is nested too deeply: at most %(depth)d levels are accepted.") % {
            "depth": MAX_JSON_DEPTH
        }


class MultiPartParser(parsers.MultiPartParser):
    """DRF's multipart parser, refusing a body larger than ``TONGXIN_API_MAX_MULTIPART_BYTES``
    before reading it (Django limits the fields' size, not the files')."""

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        limit = int(
            getattr(settings, "TONGXIN_API_MAX_MULTIPART_BYTES", DEFAULT_MAX_MULTIPART_BYTES)
        )
        request = (parser_context or {}).get("request")
        meta = getattr(request, "META", {})
        try:
            length = int(meta.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            raise RequestTooLarge(limit)
        try:
            return super().parse(stream, media_type, parser_context)
        except ParseError:
            raise ParseError(_("The multipart/form-data body cannot be read.")) from None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus: a Django ValidationError answers 400 with its messages by field; a
    body Django refuses as too large 413, and as otherwise suspicious (too many fields) 400."""
    # Imported here: rest_framework.views reads the parser setting, which names this module.
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            exc = ValidationError(exc.message_dict)
        else:
            exc = ValidationError({"detail": exc.messages})
    elif isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0)
    elif isinstance(exc, SuspiciousOperation):
        exc = ParseError(_("The request cannot be read: too many fields or files."))
    return drf_exception_handler(exc, context)
