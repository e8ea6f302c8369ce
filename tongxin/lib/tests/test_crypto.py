import base64
import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tongxin.lib.crypto import (
    ENV_VAR,
    KEY_FILE_NAME,
    DecryptionError,
    decrypt,
    decrypt_phone,
    encrypt,
    encrypt_phone,
    key_in_data_dir,
    key_location_problem,
    lookup_hash,
    reset_keys_cache,
)

NUMBER = "62072420150615123X"


def _key_text(fill: int) -> str:
    return base64.urlsafe_b64encode(bytes([fill]) * 32).decode("ascii")


@pytest.fixture(autouse=True)
def _private_keys(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Every test gets its own key file directory and no key from the environment, so no test
    # ever touches the real var/data_key; the cache is cleared on both sides.
    settings.VAR_DIR = tmp_path
    settings.TONGXIN_DATA_KEY_FILE = ""
    settings.TONGXIN_ACCEPT_KEY_IN_DATA_DIR = False
    settings.DEBUG = False
    monkeypatch.delenv(ENV_VAR, raising=False)
    reset_keys_cache()
    yield
    reset_keys_cache()


def _use_env_key(monkeypatch: pytest.MonkeyPatch, fill: int) -> None:
    monkeypatch.setenv(ENV_VAR, _key_text(fill))
    reset_keys_cache()


# round trip -----------------------------------------------------------------------------------


@pytest.mark.parametrize("plain", [NUMBER, "", "高台县 张三 620724", "emoji 🙂 and \x00 bytes"])
def test_it_decrypts_what_it_encrypted(plain: str) -> None:
    assert decrypt(encrypt(plain)) == plain


@given(plain=st.text())
@hypothesis_settings(max_examples=50, deadline=None)
def test_it_round_trips_any_text(plain: str) -> None:
    assert decrypt(encrypt(plain)) == plain


def test_it_lays_out_version_nonce_ciphertext_and_tag() -> None:
    blob = encrypt(NUMBER)
    assert blob[0] == 1
    assert len(blob) == 1 + 12 + len(NUMBER.encode()) + 16
    assert NUMBER.encode() not in blob


def test_it_uses_a_fresh_nonce_each_time() -> None:
    first, second = encrypt(NUMBER), encrypt(NUMBER)
    assert first != second
    assert first[1:13] != second[1:13]
    assert decrypt(first) == decrypt(second) == NUMBER


def test_it_accepts_a_memoryview_as_postgresql_returns_it() -> None:
    assert decrypt(memoryview(encrypt(NUMBER))) == NUMBER


# tampering and wrong keys ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("position", "error"),
    [
        pytest.param(0, "key version", id="version"),
        pytest.param(1, "does not open", id="nonce"),
        pytest.param(13, "does not open", id="ciphertext"),
        pytest.param(-1, "does not open", id="tag"),
    ],
)
def test_it_detects_a_changed_byte(position: int, error: str) -> None:
    blob = bytearray(encrypt(NUMBER))
    blob[position] ^= 0x01
    with pytest.raises(DecryptionError, match=error):
        decrypt(bytes(blob))


@pytest.mark.parametrize("length", [0, 1, 28])
def test_it_refuses_a_truncated_value(length: int) -> None:
    with pytest.raises(DecryptionError, match="too short"):
        decrypt(encrypt(NUMBER)[:length])


def test_it_detects_a_cut_off_tag() -> None:
    with pytest.raises(DecryptionError, match="does not open"):
        decrypt(encrypt(NUMBER)[:-1])


def test_it_refuses_a_value_sealed_with_another_key(monkeypatch: pytest.MonkeyPatch) -> None:
    _use_env_key(monkeypatch, 1)
    blob = encrypt(NUMBER)
    _use_env_key(monkeypatch, 2)
    with pytest.raises(DecryptionError, match="not the one it was encrypted with"):
        decrypt(blob)


# lookup hash ----------------------------------------------------------------------------------


def test_it_hashes_the_same_number_alike() -> None:
    digest = lookup_hash(NUMBER)
    assert digest == lookup_hash(NUMBER)
    assert len(digest) == 64
    assert int(digest, 16) >= 0
    reset_keys_cache()
    assert lookup_hash(NUMBER) == digest  # the key file is read back, not made anew


def test_it_hashes_different_numbers_differently() -> None:
    assert lookup_hash(NUMBER) != lookup_hash("620724201506151240")


def test_it_hashes_under_a_key_not_plain_sha256() -> None:
    assert lookup_hash(NUMBER) != hashlib.sha256(NUMBER.encode()).hexdigest()


def test_it_hashes_differently_under_another_key(monkeypatch: pytest.MonkeyPatch) -> None:
    _use_env_key(monkeypatch, 1)
    first = lookup_hash(NUMBER)
    _use_env_key(monkeypatch, 2)
    assert lookup_hash(NUMBER) != first


# where the key comes from ---------------------------------------------------------------------


def test_it_creates_a_private_key_file_once(tmp_path: Path) -> None:
    blob = encrypt(NUMBER)
    path = tmp_path / KEY_FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text().strip()
    assert len(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))) == 32
    assert [p.name for p in tmp_path.iterdir()] == [KEY_FILE_NAME]  # no temporary file left

    reset_keys_cache()
    assert decrypt(blob) == NUMBER
    assert path.read_text().strip() == text


def test_it_creates_the_key_file_private_whatever_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        encrypt(NUMBER)
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / KEY_FILE_NAME).stat().st_mode) == 0o600


def test_it_creates_var_dir_if_missing(settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path / "fresh" / "var"
    reset_keys_cache()
    encrypt(NUMBER)
    assert (tmp_path / "fresh" / "var" / KEY_FILE_NAME).exists()


def test_it_keeps_a_key_file_another_process_wrote_first(tmp_path: Path) -> None:
    (tmp_path / KEY_FILE_NAME).write_text(_key_text(3) + "\n")
    blob = encrypt(NUMBER)
    assert (tmp_path / KEY_FILE_NAME).read_text() == _key_text(3) + "\n"
    reset_keys_cache()
    assert decrypt(blob) == NUMBER


def test_it_uses_the_key_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _use_env_key(monkeypatch, 4)
    blob = encrypt(NUMBER)
    digest = lookup_hash(NUMBER)
    assert not (tmp_path / KEY_FILE_NAME).exists()

    # The same key written to the key file opens the value: the env var really was the key.
    (tmp_path / KEY_FILE_NAME).write_text(_key_text(4).rstrip("="))
    monkeypatch.delenv(ENV_VAR)
    reset_keys_cache()
    assert decrypt(blob) == NUMBER
    assert lookup_hash(NUMBER) == digest


def test_it_prefers_the_environment_to_the_key_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blob = encrypt(NUMBER)  # under a new key file
    _use_env_key(monkeypatch, 5)
    with pytest.raises(DecryptionError):
        decrypt(blob)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        pytest.param("not base64 at all!", "not base64url", id="not-base64"),
        pytest.param(base64.urlsafe_b64encode(b"short").decode(), "32 bytes, not 5", id="short"),
    ],
)
def test_it_refuses_a_bad_key_in_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str, error: str
) -> None:
    monkeypatch.setenv(ENV_VAR, value)
    reset_keys_cache()
    with pytest.raises(ImproperlyConfigured, match=error):
        encrypt(NUMBER)


# phones ---------------------------------------------------------------------------------------


def test_it_seals_phones_under_their_own_key() -> None:
    text = encrypt_phone("13900000001")
    assert decrypt_phone(text) == "13900000001"
    assert text != encrypt_phone("13900000001")  # a fresh nonce each time
    with pytest.raises(DecryptionError):
        decrypt(base64.b64decode(text))  # not the ID numbers' key
    with pytest.raises(DecryptionError):
        decrypt_phone(base64.b64encode(encrypt("13900000001")).decode())


def test_it_refuses_a_phone_that_is_not_sealed_text() -> None:
    with pytest.raises(DecryptionError):
        decrypt_phone("13900000001")


# where the key is kept (docs/data-key.md) -----------------------------------------------------


def _outside_key_file(settings: Any, tmp_path: Path, fill: int) -> Path:
    path = tmp_path.parent / f"{tmp_path.name}-etc" / "data_key"
    path.parent.mkdir()
    path.write_text(_key_text(fill) + "\n")
    settings.TONGXIN_DATA_KEY_FILE = str(path)
    reset_keys_cache()
    return path


def test_it_reads_the_key_from_a_file_outside_the_data_directory(
    settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _outside_key_file(settings, tmp_path, 6)
    blob = encrypt(NUMBER)
    assert not (tmp_path / KEY_FILE_NAME).exists()  # no key was made beside the data
    assert key_in_data_dir() is None
    assert key_location_problem() is None
    _use_env_key(monkeypatch, 6)  # the same key, given the other way
    assert decrypt(blob) == NUMBER


def test_the_environment_wins_over_the_key_file(
    settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _outside_key_file(settings, tmp_path, 7)
    _use_env_key(monkeypatch, 8)
    blob = encrypt(NUMBER)
    monkeypatch.delenv(ENV_VAR)
    reset_keys_cache()
    with pytest.raises(DecryptionError):
        decrypt(blob)


def test_it_refuses_a_key_file_that_is_not_there(settings: Any, tmp_path: Path) -> None:
    settings.TONGXIN_DATA_KEY_FILE = str(tmp_path.parent / "typo" / "data_key")
    reset_keys_cache()
    with pytest.raises(ImproperlyConfigured, match="TONGXIN_DATA_KEY_FILE"):
        encrypt(NUMBER)
    assert not (tmp_path.parent / "typo").exists()  # a mistyped path starts no new key


def test_it_refuses_a_key_inside_the_data_directory_with_debug_off(tmp_path: Path) -> None:
    assert key_in_data_dir() == tmp_path / KEY_FILE_NAME
    problem = key_location_problem()
    assert problem is not None
    assert str(tmp_path / KEY_FILE_NAME) in problem
    assert "TONGXIN_ACCEPT_KEY_IN_DATA_DIR" in problem


def test_a_key_file_named_inside_the_data_directory_is_refused_too(
    settings: Any, tmp_path: Path
) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "data_key").write_text(_key_text(9))
    settings.TONGXIN_DATA_KEY_FILE = str(tmp_path / "keys" / ".." / "keys" / "data_key")
    assert key_location_problem() is not None


@pytest.mark.parametrize("setting", ["DEBUG", "TONGXIN_ACCEPT_KEY_IN_DATA_DIR"])
def test_debug_or_the_accepted_risk_allows_the_key_inside(settings: Any, setting: str) -> None:
    setattr(settings, setting, True)
    assert key_location_problem() is None


def test_a_key_from_the_environment_is_never_inside(monkeypatch: pytest.MonkeyPatch) -> None:
    _use_env_key(monkeypatch, 10)
    assert key_in_data_dir() is None
    assert key_location_problem() is None
