"""Uploaded documents (a scanned agreement, a report's attachment, an intervention's paper):
recognised by their first bytes, never by their name or the browser's word for them; stored
under a random name; served under a name that says nothing.

``StoredDocument`` is the one shape of a stored upload (a report's attachment, an
intervention's document): the app's model inherits it and adds its own foreign keys and the
folder its files go to (``file = models.FileField(upload_to=...)``)."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import models
from django.http import FileResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
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


def content_type_of(kind: str) -> str:
    """The content type a stored document of ``kind`` ("pdf", "jpg", "png") is served with;
    ``application/octet-stream`` for anything else."""
    known = DOCUMENT_TYPES.get(kind)
    return known[1] if known else "application/octet-stream"


def stored_name(kind: str) -> str:
    """A random file name for an upload of ``kind``: the uploaded name is never kept (it may
    carry a child's name)."""
    return f"{uuid.uuid4().hex}.{kind}"


class StoredDocument(models.Model):
    """A photo or PDF kept for a record: its kind from its first bytes at upload, stored under a
    random name, served only through a scoped, audited view under a name that says nothing
    (``download_stem`` and the kind: "attachment.pdf")."""

    # The name a download carries, before the kind: the subclass says what it is.
    download_stem: ClassVar[str] = "document"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Each subclass declares its own, with the folder its files go to (``upload_to``).
    file = models.FileField()
    kind = models.CharField(max_length=4)  # pdf, jpg, png: from the first bytes
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return f"{self.public_id}.{self.kind}"

    @property
    def content_type(self) -> str:
        """The type its first bytes showed at upload."""
        return content_type_of(self.kind)

    @property
    def download_name(self) -> str:
        """The name it is served under: its stem and kind, never the uploaded name."""
        return f"{self.download_stem}.{self.kind}"

    def store(self, upload: UploadedFile[Any]) -> None:
        """Put the checked upload's bytes in ``file`` under a random name (the row is not
        saved)."""
        self.file.save(stored_name(self.kind), upload, save=False)


def document_response(document: StoredDocument) -> FileResponse:
    """The stored document's bytes, streamed inline with its type and download name, never
    cached. The caller has checked the reader's scope and audited the look."""
    response = FileResponse(
        document.file.open("rb"),
        content_type=document.content_type,
        filename=document.download_name,
    )
    add_never_cache_headers(response)
    return response
