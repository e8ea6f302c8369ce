"""Uploaded files, checked and stored: report attachments and intervention documents alike."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from tongxin.core.documents import StoredDocument, document_kind


def check_uploads(uploads: Sequence[UploadedFile[Any]], *, field: str, most: int) -> list[str]:
    """The kind of each upload (as the care agreement's scan is checked: PDF, JPEG or PNG by
    their first bytes, at most 5 MB each), at most ``most`` of them; ValidationError on
    ``field``. Report attachments and intervention documents alike."""
    if len(uploads) > most:
        raise ValidationError({field: [_("At most %(n)d files can be attached.") % {"n": most}]})
    kinds = []
    for upload in uploads:
        try:
            kinds.append(document_kind(upload))
        except ValidationError as exc:
            raise ValidationError({field: exc.messages}) from exc
    return kinds


def store_uploads[F: StoredDocument](
    uploads: Sequence[UploadedFile[Any]],
    kinds: list[str],
    build: Callable[[str, int], F],
) -> list[F]:
    """Save each checked upload as the row ``build(kind, size)`` makes, under a random name;
    if one fails, the files already saved are deleted again."""
    stored: list[F] = []
    try:
        for upload, kind in zip(uploads, kinds, strict=True):
            item = build(kind, upload.size or 0)
            item.store(upload)
            item.save()
            stored.append(item)
    except Exception:
        for item in stored:
            item.file.delete(save=False)
        raise
    return stored
