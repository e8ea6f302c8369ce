"""The audit trail's hash chain (decision 016): what an entry's hash covers, and how.

Every entry carries its number in the chain (``seq``: 1, 2, 3 … without gaps), the hash of the
entry before it (``prev_hash``; the first entry's is ``GENESIS``) and its own hash::

    hash = HMAC-SHA-256(audit chain key, VERSION + prev_hash + canonical(entry))

Someone with the database but not the key cannot write a hash that verifies, so a changed,
removed, inserted or reordered entry breaks the chain at that point (``verify``). Someone with
the key too can recompute the chain after a change; the daily anchors kept outside the database
(``anchors``) catch that.

The canonical form is computed from the values as the application writes them and again from
the values as the database gives them back, so it must come out the same both times on SQLite
and PostgreSQL: times in UTC to the microsecond, addresses as ``ipaddress`` prints them (the
``inet`` type rewrites ``2001:DB8::1`` as ``2001:db8::1``), JSON with sorted keys, integral numbers
as integers (``3`` and ``3.0`` alike) and the rest as normalised decimals (``jsonb`` gives ``1e20``
back as an integer, ``1E+20`` either way).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from json.encoder import encode_basestring as _quote
from typing import Any

from tongxin.lib.crypto import audit_chain_key

GENESIS = "0" * 64
VERSION = b"tongxin audit entry v1\n"
# The columns an entry's hash covers, in this order. The database id is not among them: it is
# a storage detail (``seq`` is the entry's number), and the chain holds without it.
HASHED_FIELDS = (
    "seq",
    "at",
    "actor_id",
    "actor_username",
    "actor_role",
    "action",
    "object_type",
    "object_code",
    "division_code",
    "ip",
    "result",
    "detail",
)


@functools.lru_cache(maxsize=4096)
def canonical_ip(value: object) -> str | None:
    """An address as ``ipaddress`` writes it, so that the form written and the form read back
    agree; anything else as it is (SQLite keeps what it is given). Cached: a trail holds few
    addresses, many times."""
    if value is None or value == "":
        return None
    try:
        return str(ipaddress.ip_address(str(value)))
    except ValueError:
        return str(value)


# Below this, an integral number is written as an integer whether it came as 3 or 3.0; at and
# above it, as its normalised decimal (``1E+20``), which is what ``jsonb`` gives back as an
# integer for the float 1e20.
_PLAIN = 10**15


def _number(value: int | float) -> str:
    if isinstance(value, int):
        if -_PLAIN < value < _PLAIN:
            return str(value)
        return str(Decimal(value).normalize())
    if value.is_integer() and -_PLAIN < value < _PLAIN:
        return str(int(value))
    return str(Decimal(repr(value)).normalize())


def _encode(value: object) -> str:
    """Canonical JSON-like text: unambiguous (strings quoted, numbers bare), sorted keys."""
    if isinstance(value, str):
        return _quote(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    if isinstance(value, dict):
        items = sorted((str(k), v) for k, v in value.items())
        return "{" + ",".join(f"{_quote(k)}:{_encode(v)}" for k, v in items) + "}"
    raise TypeError(f"an audit entry cannot hold a {type(value).__name__}")


def _at(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("an audit entry's time must carry its time zone")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def as_stored(detail: Any) -> Any:
    """``detail`` as the database will give it back: JSON turns tuples into lists and keys into
    strings. Applied before an entry is hashed and saved."""
    return json.loads(json.dumps(detail))


def canonical(fields: Mapping[str, Any]) -> bytes:
    """The bytes an entry's hash covers, from its ``HASHED_FIELDS``."""
    detail = fields["detail"]
    if isinstance(detail, str):  # a JSON column read without its decoder
        detail = json.loads(detail)
    parts = [
        _number(fields["seq"]),
        _quote(_at(fields["at"])),
        _encode(fields["actor_id"]),
        _quote(fields["actor_username"]),
        _quote(fields["actor_role"]),
        _quote(fields["action"]),
        _quote(fields["object_type"]),
        _quote(fields["object_code"]),
        _quote(fields["division_code"]),
        _encode(canonical_ip(fields["ip"])),
        _quote(fields["result"]),
        _encode(detail),
    ]
    return "\n".join(parts).encode("utf-8")


def entry_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """The hash of an entry that follows the entry whose hash is ``prev_hash``."""
    message = VERSION + prev_hash.encode("utf-8") + b"\n" + canonical(fields)
    return hmac.new(audit_chain_key(), message, hashlib.sha256).hexdigest()
