"""A sealed stream: a file of any size encrypted and authenticated in chunks (decision 019).

The backup archive (``manage.py backup``) is written through ``SealedWriter`` and read back
through ``SealedReader``, so that neither the database dump nor the archive ever sits whole in
memory. The construction is the STREAM construction of Hoang, Reyhanitabar, Rogaway and Vizár
(as in Tink's streaming AEAD and age) over AES-256-GCM:

    header  = MAGIC (8 bytes) + key id (8 bytes) + salt (16 bytes)
    key     = HKDF-SHA256(backup key, salt, "tongxin backup archive v1")
    chunk i = length (4 bytes, big-endian) + AES-256-GCM(key, nonce_i, plaintext_i, aad=header)
    nonce_i = i (11 bytes, big-endian) + 0x01 for the last chunk, 0x00 for the others

Each archive has its own key (a fresh salt), so the counter nonces never repeat under one key.
The counter in the nonce stops chunks being reordered or dropped; the last-chunk flag stops the
archive being cut short at a chunk boundary; the header is authenticated with every chunk. The
key id (HKDF of the backup key under its own label, one-way) tells a wrong key from an altered
archive without revealing the key.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import struct
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"TXBAK\x00\x00\x01"
CHUNK = 1 << 20
SALT_BYTES = 16
KEY_ID_BYTES = 8
TAG_BYTES = 16
HEADER_BYTES = len(MAGIC) + KEY_ID_BYTES + SALT_BYTES
_ARCHIVE_LABEL = b"tongxin backup archive v1"
_KEY_ID_LABEL = b"tongxin backup key id v1"


class SealError(Exception):
    """The stream cannot be opened: not one of ours, another key, altered or cut short."""


class WrongKeyError(SealError):
    """The stream was sealed with another key."""


def key_id(key: bytes) -> bytes:
    """A short one-way name of ``key``: written in the header, compared before decrypting."""
    return hmac.new(key, _KEY_ID_LABEL, hashlib.sha256).digest()[:KEY_ID_BYTES]


def _stream_cipher(key: bytes, salt: bytes) -> AESGCM:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=_ARCHIVE_LABEL).derive(key)
    return AESGCM(derived)


def _nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


class SealedWriter(io.RawIOBase):
    """Write plaintext in; sealed chunks go to ``out``. ``close()`` seals the last chunk (and
    does not close ``out``)."""

    def __init__(self, out: BinaryIO, key: bytes) -> None:
        super().__init__()
        salt = os.urandom(SALT_BYTES)
        self._out = out
        self._header = MAGIC + key_id(key) + salt
        self._cipher = _stream_cipher(key, salt)
        self._buffer = bytearray()
        self._counter = 0
        out.write(self._header)

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self._buffer += data
        # Keep at least one byte back: the last chunk must be sealed as the last.
        while len(self._buffer) > CHUNK:
            self._seal(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]
        return len(data)

    def _seal(self, plain: bytes, *, last: bool) -> None:
        sealed = self._cipher.encrypt(_nonce(self._counter, last), plain, self._header)
        self._out.write(struct.pack(">I", len(sealed)) + sealed)
        self._counter += 1

    def close(self) -> None:
        if not self.closed:
            self._seal(bytes(self._buffer), last=True)
            self._buffer.clear()
        super().close()


class SealedReader(io.RawIOBase):
    """Read the plaintext of a sealed stream. Every byte handed out has been authenticated; a
    wrong key, an altered chunk or a stream cut short raises ``SealError``."""

    def __init__(self, source: BinaryIO, key: bytes) -> None:
        super().__init__()
        header = source.read(HEADER_BYTES)
        if len(header) != HEADER_BYTES or not header.startswith(MAGIC):
            raise SealError("not a Tongxin backup archive")
        if not hmac.compare_digest(header[len(MAGIC) : len(MAGIC) + KEY_ID_BYTES], key_id(key)):
            raise WrongKeyError("sealed with another key")
        self._source = source
        self._header = header
        self._cipher = _stream_cipher(key, header[-SALT_BYTES:])
        self._counter = 0
        self._plain = b""
        self._pos = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def _next(self) -> None:
        length = self._source.read(4)
        if len(length) != 4:
            raise SealError("cut short")
        (size,) = struct.unpack(">I", length)
        if size < TAG_BYTES or size > CHUNK + TAG_BYTES:
            raise SealError("altered")
        sealed = self._source.read(size)
        if len(sealed) != size:
            raise SealError("cut short")
        # A chunk is the last one exactly when it opens as the last one.
        for last in (False, True):
            try:
                self._plain = self._cipher.decrypt(
                    _nonce(self._counter, last), sealed, self._header
                )
                self._pos = 0
            except InvalidTag:
                continue
            self._counter += 1
            if last:
                self._done = True
                if self._source.read(1):
                    raise SealError("altered: data after the last chunk")
            return
        raise SealError("altered")

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while self._pos == len(self._plain) and not self._done:
            self._next()
        n = min(len(buffer), len(self._plain) - self._pos)
        buffer[:n] = memoryview(self._plain)[self._pos : self._pos + n]
        self._pos += n
        return n
