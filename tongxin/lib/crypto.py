"""Encryption of ID numbers at rest (个人信息保护), and a keyed hash to find them again.

A stored value is ``version (1 byte) + nonce (12 bytes) + AES-256-GCM ciphertext and tag``. The
version byte names the key it was sealed with and is also authenticated (it is the GCM
associated data), so it cannot be changed to trick decryption into another key.

``lookup_hash`` is HMAC-SHA256 of the *normalised* number under its own key: equal numbers give
equal hashes, which is what exact-match search and a uniqueness constraint need, while someone
holding only the database cannot compute the hash of a guessed number (there are few enough
valid ID numbers to try them all against a plain SHA-256).

The working keys (these two, and the audit trail's chain key: ``audit_chain_key``) are derived
from one 32-byte master key with HKDF-SHA256, each under its own label, so the master key itself
is never used for two purposes (decision 016).

Where the master key comes from, first match wins:

1. ``TONGXIN_DATA_KEY``: the key as base64url (padding optional), for deployments that keep
   secrets outside the disk, e.g. in the service manager's environment.
2. ``var/data_key`` in ``settings.VAR_DIR``: the same text format, created once with mode 0600
   by the first process that needs it. Back it up with the database: without it the encrypted
   numbers are lost for good.

Adding a key (rotation, not implemented yet):

1. Give the new master key a new version, e.g. read ``TONGXIN_DATA_KEY_2`` / ``var/data_key_2``
   into ``_KeyRing`` as version 2 beside version 1, and make it ``CURRENT_VERSION``. ``decrypt``
   already picks the key by the blob's version byte, so old values keep reading.
2. Re-encrypt every stored value in a management command (decrypt, encrypt, save), in batches.
3. The lookup hashes depend on the lookup key: either keep deriving it from the version-1 master
   key (nothing to redo), or recompute every hash in the same command before switching lookups.
4. Remove the old key once no blob carries its version.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

ENV_VAR = "TONGXIN_DATA_KEY"
KEY_FILE_NAME = "data_key"
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
CURRENT_VERSION = 1

_ENCRYPTION_LABEL = b"tongxin id-number encryption v1"
_LOOKUP_LABEL = b"tongxin id-number lookup v1"
_AUDIT_CHAIN_LABEL = b"tongxin audit chain v1"


class DecryptionError(Exception):
    """A stored value could not be decrypted: wrong key, unknown key version, or tampering."""


@dataclass(frozen=True)
class _KeyRing:
    ciphers: dict[int, AESGCM]
    lookup_key: bytes
    audit_chain_key: bytes


def _derive(master: bytes, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=label).derive(master)


def _decode_key(text: str, source: str) -> bytes:
    text = text.strip()
    try:
        # validate=True: the lenient default silently drops stray characters from a bad paste.
        key = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImproperlyConfigured(f"{source} is not base64url text") from exc
    if len(key) != KEY_BYTES:
        raise ImproperlyConfigured(f"{source} must hold {KEY_BYTES} bytes, not {len(key)}")
    return key


def _encode_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode("ascii").rstrip("=")


def _key_file() -> Path:
    return Path(settings.VAR_DIR) / KEY_FILE_NAME


def _create_key_file(path: Path) -> None:
    """Write a new random key to ``path`` unless another process got there first.

    The key is written to a private temporary file and then hard-linked into place: linking
    fails if ``path`` exists, so two processes starting together can never overwrite each
    other's key (one of them may already have encrypted with it), and a reader never sees a
    half-written file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        # O_CREAT's mode passes through the umask; make sure it is exactly owner read/write.
        os.fchmod(fd, 0o600)
        os.write(fd, (_encode_key(secrets.token_bytes(KEY_BYTES)) + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


def _master_key() -> bytes:
    from_env = os.environ.get(ENV_VAR, "").strip()
    if from_env:
        return _decode_key(from_env, ENV_VAR)
    path = _key_file()
    if not path.exists():
        _create_key_file(path)
    return _decode_key(path.read_text(encoding="ascii"), str(path))


@functools.cache
def _keys() -> _KeyRing:
    master = _master_key()
    return _KeyRing(
        ciphers={CURRENT_VERSION: AESGCM(_derive(master, _ENCRYPTION_LABEL))},
        lookup_key=_derive(master, _LOOKUP_LABEL),
        audit_chain_key=_derive(master, _AUDIT_CHAIN_LABEL),
    )


def reset_keys_cache() -> None:
    """Forget the loaded keys, so the next call reads the environment and key file again."""
    _keys.cache_clear()


def encrypt(plain: str) -> bytes:
    """Seal ``plain`` (UTF-8) under the current key with a fresh random nonce."""
    header = bytes([CURRENT_VERSION])
    # A random 96-bit nonce is safe for far more values than a registry will ever hold
    # (the usual bound is 2**32 encryptions per key).
    nonce = os.urandom(NONCE_BYTES)
    sealed = _keys().ciphers[CURRENT_VERSION].encrypt(nonce, plain.encode("utf-8"), header)
    return header + nonce + sealed


def decrypt(blob: bytes | bytearray | memoryview) -> str:
    """Open a value made by ``encrypt``; raise ``DecryptionError`` if that cannot be done.

    Accepts a ``memoryview`` because that is what PostgreSQL's driver returns for ``bytea``.
    """
    data = bytes(blob)
    if len(data) < 1 + NONCE_BYTES + TAG_BYTES:
        raise DecryptionError("The encrypted value is too short to be one of ours.")
    version = data[0]
    cipher = _keys().ciphers.get(version)
    if cipher is None:
        raise DecryptionError(f"The encrypted value uses key version {version}, which we lack.")
    nonce, sealed = data[1 : 1 + NONCE_BYTES], data[1 + NONCE_BYTES :]
    try:
        plain = cipher.decrypt(nonce, sealed, data[:1])
    except InvalidTag as exc:
        raise DecryptionError(
            "The encrypted value does not open with this key: the data key is not the one it "
            "was encrypted with, or the value was altered."
        ) from exc
    try:
        return plain.decode("utf-8")
    except UnicodeDecodeError as exc:  # authenticated, so only a bug could get here
        raise DecryptionError("The decrypted value is not UTF-8 text.") from exc


def lookup_hash(normalised_number: str) -> str:
    """HMAC-SHA256 (64 hex digits) of a number for exact-match lookup and uniqueness.

    Pass the number through ``tongxin.lib.idcard.normalise`` first: the hash is of the exact
    text, so ``620724…x`` and ``620724…X`` would otherwise hash differently.
    """
    return hmac.new(
        _keys().lookup_key, normalised_number.encode("utf-8"), hashlib.sha256
    ).hexdigest()


def audit_chain_key() -> bytes:
    """The HMAC key of the audit trail's hash chain (``tongxin.audit.chain``).

    Derived from the version-1 master key: rotating the data key must keep deriving it from
    that key, or every entry written before the rotation stops verifying. HKDF is one-way, so
    this key can be handed to an outside verifier without the power to decrypt ID numbers.
    """
    return _keys().audit_chain_key


# --- the backup key (decision 019) ------------------------------------------------------------

BACKUP_ENV_VAR = "TONGXIN_BACKUP_KEY"
BACKUP_FILE_ENV_VAR = "TONGXIN_BACKUP_KEY_FILE"


class BackupKeyError(Exception):
    """No usable backup key; ``reason`` is ``missing``, ``unreadable`` or ``data_key``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def new_key_text() -> str:
    """A new random 32-byte key as base64url text, the format every key here is read in."""
    return _encode_key(secrets.token_bytes(KEY_BYTES))


def backup_key() -> bytes:
    """The key backup archives are sealed with: ``TONGXIN_BACKUP_KEY`` (base64url), else the
    file named by ``TONGXIN_BACKUP_KEY_FILE``. Never the data key: an archive and the key to the
    ID numbers inside it must not be opened by one secret, and the data key is never in an
    archive. Nothing is generated here: a backup key made silently on the server would be lost
    with the server."""
    text = os.environ.get(BACKUP_ENV_VAR, "").strip()
    source = BACKUP_ENV_VAR
    if not text:
        path = os.environ.get(BACKUP_FILE_ENV_VAR, "").strip()
        if not path:
            raise BackupKeyError("missing")
        try:
            text = Path(path).read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise BackupKeyError("unreadable") from exc
        source = path
    try:
        key = _decode_key(text, source)
    except ImproperlyConfigured as exc:
        raise BackupKeyError("unreadable") from exc
    if hmac.compare_digest(key, _master_key()):
        raise BackupKeyError("data_key")
    return key
