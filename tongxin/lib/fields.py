"""A model field that keeps phone numbers encrypted at rest (decision 018).

``EncryptedPhoneField`` behaves as the ``CharField(max_length=20, blank=True)`` it replaces:
the model, forms (a ``CharField`` with the same length limit), serializers, templates, exports
and django-simple-history's copies see the plain number. Only the column differs: it holds
``encrypt_phone``'s base64 text (AES-256-GCM under the phones' own key, a fresh nonce each
time, so equal numbers are stored differently), in a ``text`` column since the sealed text is
longer than the number (one ``QuerySet.update(phone=…)`` seals its value once, for every row
it changes: save rows one by one where that matters). The empty string stays empty: whether
a phone was given is visible in the database, what it is is not.

Nothing may filter on the column (``phone__icontains``, ``phone="…"``): the database holds no
number to compare. Writers that bypass the ORM's value preparation (the generator's and the
ledger's fast inserts) call ``get_prep_value`` themselves.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Expression

from tongxin.lib.crypto import decrypt_phone, encrypt_phone, looks_sealed

PHONE_MAX_LENGTH = 20


class EncryptedPhoneField(models.CharField):  # type: ignore[type-arg]
    """A phone number, stored encrypted (see the module's docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", PHONE_MAX_LENGTH)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def get_internal_type(self) -> str:
        # The column: text, as the sealed value is longer than max_length (which limits the
        # number, in forms and in full_clean).
        return "TextField"

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt_phone(str(value))

    def from_db_value(
        self, value: str | None, expression: Expression, connection: BaseDatabaseWrapper
    ) -> str | None:
        if value is None or value == "":
            return value
        return decrypt_phone(value)


MIGRATION_BATCH = 1000


def seal_phones(
    connection: BaseDatabaseWrapper, table: str, pk: str, columns: list[str], *, forward: bool
) -> int:
    """Encrypt (``forward``) or decrypt the phone ``columns`` of every row of ``table`` in
    place, ``MIGRATION_BATCH`` rows at a time by primary key, with plain SQL (the data
    migrations: the model state's field would try to decrypt a plain number). A value already
    in the wanted form is left alone, so running it twice changes nothing. Rows rewritten."""
    q = connection.ops.quote_name
    names = ", ".join(q(c) for c in columns)
    some = " OR ".join(f"{q(c)} <> ''" for c in columns)
    select = (
        f"SELECT {q(pk)}, {names} FROM {q(table)} "  # noqa: S608 (model names, values bound)
        f"WHERE {q(pk)} > %s AND ({some}) ORDER BY {q(pk)} LIMIT {MIGRATION_BATCH}"
    )
    update = (
        f"UPDATE {q(table)} SET {', '.join(f'{q(c)} = %s' for c in columns)} "  # noqa: S608
        f"WHERE {q(pk)} = %s"
    )
    rewritten, last = 0, -1
    with connection.cursor() as cursor:
        while True:
            cursor.execute(select, [last])
            rows = cursor.fetchall()
            if not rows:
                return rewritten
            changes = []
            for key, *values in rows:
                new = [_sealed(v) if forward else _opened(v) for v in values]
                if new != values:
                    changes.append([*new, key])
            if changes:
                cursor.executemany(update, changes)
            rewritten += len(changes)
            last = rows[-1][0]


def _sealed(value: str | None) -> str | None:
    if not value or looks_sealed(value):
        return value
    return encrypt_phone(value)


def _opened(value: str | None) -> str | None:
    if not value or not looks_sealed(value):
        return value
    return decrypt_phone(value)
