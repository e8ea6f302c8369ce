"""Uploaded documents (a scanned agreement, a report's attachment, an intervention's paper):
recognised by their first bytes, never by their name or the browser's word for them."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

# The scan: a PDF or a photo, recognised by its first bytes (not by its name or the browser's
# word for it), at most 5 MB.
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
DOCUMENT_TYPES: dict[str, tuple[bytes, str]] = {
    "pdf": (b"%PDF-", "application/pdf"),
    "jpg": (b"\xff\xd8\xff", "image/jpeg"),
    "png": (b"\x89PNG\r\n\x1a\n", "image/png"),
}


def document_kind(upload: UploadedFile[Any]) -> str:
    """The file's kind ("pdf", "jpg", "png") from its first bytes; ValidationError on
    ``document`` when it is none of them or larger than 5 MB."""
    size = upload.size or 0
    if size > MAX_DOCUMENT_BYTES:
        raise ValidationError(
            {"document": [_("The file is larger than 5 MB. Scan at a lower resolution.")]}
        )
    if size == 0:
        raise ValidationError({"document": [_("The file is empty.")]})
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for kind, (magic, _type) in DOCUMENT_TYPES.items():
        if head.startswith(magic):
            return kind
    raise ValidationError(
        {"document": [_("Only PDF, JPEG or PNG files can be uploaded.")]},
    )
