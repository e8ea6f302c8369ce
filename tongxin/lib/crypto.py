"""Encryption of ID numbers and phone numbers at rest (个人信息保护), and a keyed hash to find
ID numbers again.

A stored value is ``version (1 byte) + nonce (12 bytes) + AES-256-GCM ciphertext and tag``. The
version byte names the key it was sealed with and is also authenticated (it is the GCM
associated data), so it cannot be changed to trick decryption into another key.

``lookup_hash`` is HMAC-SHA256 of the *normalised* number under its own key: equal numbers give
equal hashes, which is what exact-match search and a uniqueness constraint need, while someone
holding only the database cannot compute the hash of a guessed number (there are few enough
valid ID numbers to try them all against a plain SHA-256).

Phone numbers are sealed the same way under a key of their own (``encrypt_phone``, stored as
base64 text by ``tongxin.lib.fields.EncryptedPhoneField``, decision 018). Nothing looks a phone
up, so phones have no lookup hash.

The working keys (ID numbers, their lookup, phones, and the audit trail's chain key:
``audit_chain_key``) are derived from one 32-byte master key with HKDF-SHA256, each under its
own label, so the master key itself is never used for two purposes (decision 016).

Where the master key comes from, first match wins (docs/data-key.md):

1. ``TONGXIN_DATA_KEY``: the key as base64url (padding optional), for deployments that keep
   secrets outside the disk, e.g. in the service manager's environment.
2. ``TONGXIN_DATA_KEY_FILE`` (``settings.TONGXIN_DATA_KEY_FILE``): a file holding the same text,
   kept away from the data, e.g. ``/etc/tongxin/data_key`` readable by the service's user only.
   It must exist: a mistyped path must not quietly start a new key that opens nothing.
3. ``var/data_key`` in ``settings.VAR_DIR``: the same text format, created once with mode 0600
   by the first process that needs it. Fine for the demo and a laptop; in production it sits
   beside the SQLite file, so one copied folder holds both the data and its key. With DEBUG off
   the application refuses to serve with it (``key_in_data_dir``, the check ``tongxin.E001`` and
   ``tongxin/wsgi.py``) unless ``TONGXIN_ACCEPT_KEY_IN_DATA_DIR=1`` says the risk is accepted.

Back the key up apart from the database: without it the encrypted numbers are lost for good.

Adding a key (rotation, not implemented yet):

1. Give the new master key a new version, e.g. read ``TONGXIN_DATA_KEY_2`` / ``var/data_key_2``
   into ``_KeyRing`` as version 2 beside version 1, and make it ``CURRENT_VERSION``. ``decrypt``
   already picks the key by the blob's version byte, so old values keep reading.
2. Re-encrypt every stored value (ID numbers and phones; ``_KNOWN_VERSIONS`` names both
   versions meanwhile) in a management command (decrypt, encrypt, save), in batches.
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
FILE_ENV_VAR = "TONGXIN_DATA_KEY_FILE"
KEY_FILE_NAME = "data_key"
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
CURRENT_VERSION = 1
_KNOWN_VERSIONS = frozenset({CURRENT_VERSION})
# base64 of the shortest sealed value (version, nonce, tag: 29 bytes) is 40 characters, twice
# the longest plain phone number.
SEALED_TEXT_MIN = 40

_ENCRYPTION_LABEL = b"tongxin id-number encryption v1"
_LOOKUP_LABEL = b"tongxin id-number lookup v1"
_AUDIT_CHAIN_LABEL = b"tongxin audit chain v1"
_PHONE_LABEL = b"tongxin phone encryption v1"


class DecryptionError(Exception):
    """A stored value could not be decrypted: wrong key, unknown key version, or tampering."""


@dataclass(frozen=True)
class _KeyRing:
    ciphers: dict[int, AESGCM]
    phone_ciphers: dict[int, AESGCM]
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


def _configured_key_file() -> Path | None:
    configured = settings.TONGXIN_DATA_KEY_FILE
    return Path(configured) if configured else None


def key_source() -> Path | None:
    """The file the master key is read from, or None when it comes from the environment."""
    if os.environ.get(ENV_VAR, "").strip():
        return None
    return _configured_key_file() or _key_file()


def key_in_data_dir() -> Path | None:
    """The key file, if the key in use sits inside the data directory (``settings.VAR_DIR``)
    where the SQLite file, uploads and exports are: whoever copies that folder has the data
    and the key that opens it. None when the key comes from elsewhere."""
    path = key_source()
    if path is None:
        return None
    data_dir = Path(settings.VAR_DIR).resolve()
    return path if path.resolve().is_relative_to(data_dir) else None


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


def key_location_problem() -> str | None:
    """Why the application must not serve with this key, or None: with DEBUG off, a key inside
    the data directory, unless ``TONGXIN_ACCEPT_KEY_IN_DATA_DIR`` accepts the risk (the demo)."""
    if settings.DEBUG or settings.TONGXIN_ACCEPT_KEY_IN_DATA_DIR:
        return None
    path = key_in_data_dir()
    if path is None:
        return None
    return (
        f"The data key is read from {path}, inside the data directory {settings.VAR_DIR}: "
        "whoever copies that folder can open every encrypted ID and phone number. Give the "
        f"key in {ENV_VAR} or in a file outside it named by {FILE_ENV_VAR} "
        "(docs/data-key.md), or set TONGXIN_ACCEPT_KEY_IN_DATA_DIR=1 to accept the risk."
    )


def _master_key() -> bytes:
    from_env = os.environ.get(ENV_VAR, "").strip()
    if from_env:
        return _decode_key(from_env, ENV_VAR)
    configured = _configured_key_file()
    if configured is not None:
        if not configured.is_file():
            raise ImproperlyConfigured(
                f"{FILE_ENV_VAR} names {configured}, which is not a file (docs/data-key.md)"
            )
        return _decode_key(configured.read_text(encoding="ascii"), str(configured))
    path = _key_file()
    if not path.exists():
        _create_key_file(path)
    return _decode_key(path.read_text(encoding="ascii"), str(path))


@functools.cache
def _keys() -> _KeyRing:
    master = _master_key()
    return _KeyRing(
        ciphers={CURRENT_VERSION: AESGCM(_derive(master, _ENCRYPTION_LABEL))},
        phone_ciphers={CURRENT_VERSION: AESGCM(_derive(master, _PHONE_LABEL))},
        lookup_key=_derive(master, _LOOKUP_LABEL),
        audit_chain_key=_derive(master, _AUDIT_CHAIN_LABEL),
    )


def reset_keys_cache() -> None:
    """Forget the loaded keys, so the next call reads the environment and key file again."""
    _keys.cache_clear()


def encrypt(plain: str) -> bytes:
    """Seal ``plain`` (UTF-8) under the current key with a fresh random nonce."""
    return _seal(_keys().ciphers, plain)


def decrypt(blob: bytes | bytearray | memoryview) -> str:
    """Open a value made by ``encrypt``; raise ``DecryptionError`` if that cannot be done.

    Accepts a ``memoryview`` because that is what PostgreSQL's driver returns for ``bytea``.
    """
    return _open(_keys().ciphers, blob)


def encrypt_phone(plain: str) -> str:
    """Seal a phone number under the phones' own key: base64 text of the same layout as
    ``encrypt``'s, for a text column. Equal numbers give different texts (random nonce)."""
    return base64.b64encode(_seal(_keys().phone_ciphers, plain)).decode("ascii")


def decrypt_phone(text: str) -> str:
    """Open a value made by ``encrypt_phone``; raise ``DecryptionError`` if that cannot be done."""
    try:
        blob = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DecryptionError("The encrypted phone number is not base64 text.") from exc
    return _open(_keys().phone_ciphers, blob)


def looks_sealed(text: str) -> bool:
    """Whether ``text`` has the shape of an ``encrypt_phone`` value (without opening it): the
    data migrations tell the rows already encrypted from plain numbers (20 characters at most)
    with it."""
    if len(text) < SEALED_TEXT_MIN:
        return False
    try:
        blob = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return blob[0] in _KNOWN_VERSIONS


def _seal(ciphers: dict[int, AESGCM], plain: str) -> bytes:
    header = bytes([CURRENT_VERSION])
    # A random 96-bit nonce is safe for far more values than a registry will ever hold
    # (the usual bound is 2**32 encryptions per key).
    nonce = os.urandom(NONCE_BYTES)
    sealed = ciphers[CURRENT_VERSION].encrypt(nonce, plain.encode("utf-8"), header)
    return header + nonce + sealed


def _open(ciphers: dict[int, AESGCM], blob: bytes | bytearray | memoryview) -> str:
    data = bytes(blob)
    if len(data) < 1 + NONCE_BYTES + TAG_BYTES:
        raise DecryptionError("The encrypted value is too short to be one of ours.")
    version = data[0]
    cipher = ciphers.get(version)
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
