"""The hash chain: every entry is linked to the one before, and ``audit_verify`` finds the first
entry someone with the database changed, removed, put in or moved (decision 016)."""

# The SQL is the tampering; its numbers come from the test's own entries.
# ruff: noqa: S608

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tongxin.audit.anchors import Anchor
from tongxin.audit.chain import GENESIS, as_stored, canonical, entry_hash
from tongxin.audit.models import AppendOnlyError, AuditChainHead, AuditEvent
from tongxin.audit.services import audit_record
from tongxin.audit.verify import verify_chain
from tongxin.testing import Actors, database_owner


@pytest.fixture(autouse=True)
def _english_and_no_anchor_file(settings: Any, tmp_path: Path) -> None:
    settings.LANGUAGE_CODE = "en"
    settings.TONGXIN_AUDIT_ANCHOR_FILE = tmp_path / "anchors.txt"


@pytest.fixture
def entries(actors: Actors) -> list[AuditEvent]:
    made = [
        audit_record(
            actor=actors.county_admin,
            action="child.view",
            object_type="child",
            object_code=f"00000000-0000-0000-0000-00000000000{i}",
            division_code="620724100201",
            ip="10.0.0.1",
            detail={"fields": ["name", "birth_date"], "n": i},
        )
        for i in range(6)
    ]
    return [AuditEvent.objects.get(pk=e.pk) for e in made]


def tamper(*statements: str | tuple[str, list[Any]]) -> None:
    """What someone with the database does: the triggers off, the rows changed."""
    with database_owner(), connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER audit_auditevent_no_update")
            cursor.execute("DROP TRIGGER audit_auditevent_no_delete")
        else:
            # The superuser's way (ALTER TABLE … DISABLE TRIGGER is the owner's).
            cursor.execute("SET LOCAL session_replication_role = replica")
        for statement in statements:
            sql, params = statement if isinstance(statement, tuple) else (statement, [])
            cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")


def verify_command(*args: str) -> str:
    out = StringIO()
    call_command("audit_verify", *args, stdout=out)
    return out.getvalue()


def broken_message(*args: str) -> str:
    with pytest.raises(CommandError) as caught:
        verify_command(*args)
    return str(caught.value)


def test_it_chains_each_entry_to_the_one_before(entries: list[AuditEvent]) -> None:
    seqs = [e.seq for e in entries]
    assert seqs == list(range(seqs[0], seqs[0] + 6))
    for before, entry in itertools.pairwise(entries):
        assert entry.prev_hash == before.hash
    for entry in entries:
        assert entry.hash == entry_hash(entry.prev_hash, entry.chain_fields())
    head = AuditChainHead.objects.get()
    assert (head.seq, head.hash) == (entries[-1].seq, entries[-1].hash)


def test_it_records_everything_it_recorded_before(
    entries: list[AuditEvent], actors: Actors
) -> None:
    entry = entries[2]
    assert (entry.actor_id, entry.actor_username, entry.actor_role) == (
        actors.county_admin.pk,
        "county_admin",
        "county_admin",
    )
    assert (entry.action, entry.object_type, entry.division_code, entry.ip, entry.result) == (
        "child.view",
        "child",
        "620724100201",
        "10.0.0.1",
        "ok",
    )
    assert entry.detail == {"fields": ["name", "birth_date"], "n": 2}


def test_an_untouched_trail_verifies(entries: list[AuditEvent]) -> None:
    out = verify_command()
    assert "The audit trail is intact" in out
    assert f"to {entries[-1].seq})" in out


def test_values_the_database_rewrites_still_verify(actors: Actors) -> None:
    """What comes back from the database is not always what went in: an IPv6 address in
    capitals, a float that JSON gives back as an integer, a tuple, keys in another order."""
    audit_record(
        actor=None,
        action="auth.login_failed",
        ip="2001:DB8:0:0::1",
        detail={"z": 1.0, "a": (1, 2.5, 1e20), "中文": "值", "nested": {"b": None, "a": True}},
    )
    audit_record(actor=actors.auditor, action="auth.login", ip="::ffff:10.1.2.3")
    outcome = verify_chain()
    assert outcome.broken is None
    assert outcome.checked == AuditEvent.objects.count()


def test_it_finds_a_changed_entry(entries: list[AuditEvent]) -> None:
    target = entries[3]
    tamper(f"UPDATE audit_auditevent SET actor_username = 'someone' WHERE seq = {target.seq}")
    outcome = verify_chain()
    assert outcome.broken is not None
    assert (outcome.broken.kind, outcome.broken.seq) == ("altered", target.seq)
    assert outcome.last == target.seq - 1
    message = broken_message()
    assert f"Entry {target.seq} (id {target.pk}, written " in message
    assert "was changed" in message


def test_it_finds_a_changed_detail_or_time(entries: list[AuditEvent]) -> None:
    tamper(
        (
            f"UPDATE audit_auditevent SET at = %s WHERE seq = {entries[1].seq}",
            [datetime(2020, 1, 1, tzinfo=UTC)],
        )
    )
    outcome = verify_chain()
    assert outcome.broken is not None
    assert (outcome.broken.kind, outcome.broken.seq) == ("altered", entries[1].seq)


def test_it_finds_a_deleted_entry(entries: list[AuditEvent]) -> None:
    target = entries[2]
    tamper(f"DELETE FROM audit_auditevent WHERE seq = {target.seq}")
    outcome = verify_chain()
    assert outcome.broken is not None
    assert (outcome.broken.kind, outcome.broken.seq) == ("missing", target.seq + 1)
    message = broken_message()
    assert f"Entries {target.seq} to {target.seq} are missing" in message


def test_it_finds_a_deleted_entry_whose_gap_was_closed(entries: list[AuditEvent]) -> None:
    target = entries[2]
    tamper(
        f"DELETE FROM audit_auditevent WHERE seq = {target.seq}",
        f"UPDATE audit_auditevent SET seq = seq - 1 WHERE seq > {target.seq}",
    )
    outcome = verify_chain()
    assert outcome.broken is not None
    assert (outcome.broken.kind, outcome.broken.seq) == ("link", target.seq)
    assert f"Entry {target.seq} (id {entries[3].pk}" in broken_message()


def test_it_finds_two_entries_swapped(entries: list[AuditEvent]) -> None:
    a, b = entries[1].seq, entries[2].seq
    tamper(
        f"UPDATE audit_auditevent SET seq = -1 WHERE seq = {a}",
        f"UPDATE audit_auditevent SET seq = {a} WHERE seq = {b}",
        f"UPDATE audit_auditevent SET seq = {b} WHERE seq = -1",
    )
    outcome = verify_chain()
    assert outcome.broken is not None
    assert (outcome.broken.kind, outcome.broken.seq) == ("link", a)
    assert "does not follow entry" in broken_message()


def test_it_finds_an_entry_put_in(entries: list[AuditEvent]) -> None:
    """An entry put in between two, its followers moved up one, with a plausible link: its own
    hash cannot be made without the key."""
    k = entries[3].seq
    forged = hashlib.sha256(b"forged").hexdigest()
    tamper(
        f"UPDATE audit_auditevent SET seq = seq + 1000000 WHERE seq >= {k}",
        "UPDATE audit_auditevent SET seq = seq - 999999 WHERE seq >= 1000000",
        (
            "INSERT INTO audit_auditevent (seq, prev_hash, hash, at, actor_username, "
            "actor_role, action, object_type, object_code, division_code, result, detail) "
            f"VALUES ({k}, '{entries[2].hash}', '{forged}', %s, '', '', 'auth.login', '', '', "
            "'', 'ok', '{}')",
            [datetime(2024, 6, 1, tzinfo=UTC)],
        ),
    )
    outcome = verify_chain()
    assert outcome.broken is not None
    assert (outcome.broken.kind, outcome.broken.seq) == ("altered", k)


def test_it_finds_entries_removed_from_the_end(entries: list[AuditEvent]) -> None:
    tamper(f"DELETE FROM audit_auditevent WHERE seq >= {entries[4].seq}")
    outcome = verify_chain()
    assert outcome.broken is not None
    assert (outcome.broken.kind, outcome.broken.seq, outcome.broken.before) == (
        "head",
        entries[5].seq,
        entries[3].seq,
    )
    assert "entries were removed from its end" in broken_message()


def test_a_chain_recomputed_with_the_key_is_caught_by_its_anchor(
    entries: list[AuditEvent],
) -> None:
    """Whoever also has the key can change an entry and recompute every hash after it; the
    anchor written before still names the old hash."""
    anchor = Anchor(day=datetime(2026, 1, 1).date(), seq=entries[4].seq, hash=entries[4].hash)
    changed = {**entries[1].chain_fields(), "actor_username": "someone"}
    prev = entries[0].hash
    rewrites = []
    for entry in entries[1:]:
        fields = changed if entry.pk == entries[1].pk else entry.chain_fields()
        digest = entry_hash(prev, fields)
        rewrites.append(
            f"UPDATE audit_auditevent SET prev_hash = '{prev}', hash = '{digest}'"
            + (", actor_username = 'someone'" if entry.pk == entries[1].pk else "")
            + f" WHERE seq = {entry.seq}"
        )
        prev = digest
    tamper(*rewrites)
    assert verify_chain().broken is None  # the chain alone holds
    outcome = verify_chain(anchors=[anchor])
    assert outcome.broken is not None
    assert (outcome.broken.kind, outcome.broken.seq) == ("anchor", entries[4].seq)


def test_it_checks_the_anchor_file_and_an_exported_copy(
    entries: list[AuditEvent], settings: Any, tmp_path: Path
) -> None:
    good = f"2026-01-01 {entries[2].seq} {entries[2].hash}\n"
    Path(settings.TONGXIN_AUDIT_ANCHOR_FILE).write_text("# anchors\n" + good)
    assert "1 of 1 anchors match" in verify_command()
    copy = tmp_path / "copy.txt"
    copy.write_text(good + f"2026-01-02 {entries[4].seq} {GENESIS}\n")
    message = broken_message("--anchors", str(copy))
    assert f"Entry {entries[4].seq}" in message
    assert "does not match the anchor of 2026-01-02" in message
    copy.write_text(f"2026-01-03 {entries[-1].seq + 5} {GENESIS}\n")
    assert "names entry" in broken_message("--anchors", str(copy))
    copy.write_text(good + "not an anchor\n")
    assert "Line 2 of the anchor file" in broken_message("--anchors", str(copy))


def test_it_can_start_from_the_last_anchor(entries: list[AuditEvent], settings: Any) -> None:
    tamper(f"UPDATE audit_auditevent SET action = 'x' WHERE seq = {entries[0].seq}")
    Path(settings.TONGXIN_AUDIT_ANCHOR_FILE).write_text(
        f"2026-01-01 {entries[3].seq} {entries[3].hash}\n"
    )
    out = verify_command("--from-last-anchor")
    assert f"3 entries checked ({entries[3].seq} to {entries[5].seq})" in out
    assert "was changed" in broken_message()  # from the start, it is found


def test_it_reads_the_trail_a_chunk_at_a_time(entries: list[AuditEvent]) -> None:
    total = AuditEvent.objects.count()
    with CaptureQueriesContext(connection) as queries:
        outcome = verify_chain(chunk=2)
    assert outcome.broken is None
    assert outcome.checked == total
    # The ends, then one query per chunk of two (the last one may come back empty).
    assert len(queries) <= 1 + (total + 1) // 2 + 1


def test_it_refuses_to_write_entries_in_bulk() -> None:
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_create([AuditEvent(action="auth.login")])


def test_a_missing_head_row_is_made_from_the_last_entry(entries: list[AuditEvent]) -> None:
    with database_owner():
        AuditChainHead.objects.all().delete()
    made = audit_record(actor=None, action="auth.login_failed")
    assert (made.seq, made.prev_hash) == (entries[-1].seq + 1, entries[-1].hash)
    assert verify_chain().broken is None


@pytest.mark.parametrize(
    ("written", "read_back"),
    [
        ({"n": 3.0}, {"n": 3}),
        ({"n": 1e20}, {"n": 10**20}),  # jsonb gives 1e20 back as an integer
        ({"t": (1, "a")}, {"t": [1, "a"]}),
        ({"b": 1, "a": 2}, {"a": 2, "b": 1}),
    ],
)
def test_the_hash_does_not_depend_on_how_the_database_gives_values_back(
    written: dict[str, Any], read_back: dict[str, Any]
) -> None:
    fields = {
        "seq": 1,
        "at": datetime(2024, 6, 1, tzinfo=UTC),
        "actor_id": None,
        "actor_username": "",
        "actor_role": "",
        "action": "auth.login",
        "object_type": "",
        "object_code": "",
        "division_code": "",
        "result": "ok",
    }
    assert canonical({**fields, "ip": "2001:DB8::1", "detail": as_stored(written)}) == canonical(
        {**fields, "ip": "2001:db8::1", "detail": read_back}
    )
    assert canonical({**fields, "ip": None, "detail": {"n": 3}}) != canonical(
        {**fields, "ip": None, "detail": {"n": "3"}}
    )
