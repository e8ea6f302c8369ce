"""``audit_verify`` over a large trail (decision 015): time and peak memory.

Run from the project root::

    .venv/bin/python bench/audit_chain.py                  # 1,000,000 entries, SQLite
    .venv/bin/python bench/audit_chain.py --entries 200000

On a temporary SQLite database (``TONGXIN_VAR_DIR`` in a temporary directory, so its key and
database are thrown away): the audit tables are migrated, the entries written already chained
(hashed here and inserted in bulk, as a county's years of sign-ins, reads and changes would
be), then the whole chain is verified as ``manage.py audit_verify`` does. It prints the time
to write and to verify, entries verified per second, and the peak memory of the process: it
should stay flat however many entries there are, since they are read a chunk at a time.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    entries = parser.parse_args().entries
    var = tempfile.mkdtemp(prefix="tongxin-bench-audit-")
    os.environ["TONGXIN_VAR_DIR"] = var
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "tongxin.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from tongxin.audit.chain import GENESIS, entry_hash
    from tongxin.audit.models import AuditChainHead
    from tongxin.audit.verify import verify_chain

    call_command("migrate", "audit", verbosity=0)
    start = time.perf_counter()
    base = datetime(2024, 1, 1, tzinfo=UTC)
    prev = GENESIS
    batch: list[tuple[int, str, str, str, str, str]] = []
    with transaction.atomic(), connection.cursor() as cursor:
        for seq in range(1, entries + 1):
            at = base + timedelta(seconds=seq * 7)
            code = f"00000000-0000-0000-0000-{seq:012d}"
            fields: dict[str, object] = {
                "seq": seq,
                "at": at,
                "actor_id": None,
                "actor_username": "village_director",
                "actor_role": "village_director",
                "action": "child.view",
                "object_type": "child",
                "object_code": code,
                "division_code": "620724100201",
                "ip": "10.0.0.1",
                "result": "ok",
                "detail": {"fields": ["name", "birth_date"], "n": seq % 97},
            }
            digest = entry_hash(prev, fields)
            batch.append(
                (
                    seq,
                    prev,
                    digest,
                    at.strftime("%Y-%m-%d %H:%M:%S"),
                    code,
                    f'{{"fields": ["name", "birth_date"], "n": {seq % 97}}}',
                )
            )
            prev = digest
            if len(batch) == 10_000 or seq == entries:
                cursor.executemany(
                    "INSERT INTO audit_auditevent (seq, prev_hash, hash, at, actor_username, "
                    "actor_role, action, object_type, object_code, division_code, ip, result, "
                    "detail) VALUES (%s, %s, %s, %s, 'village_director', 'village_director', "
                    "'child.view', 'child', %s, '620724100201', '10.0.0.1', 'ok', %s)",
                    batch,
                )
                batch = []
        AuditChainHead.objects.filter(pk=1).update(seq=entries, hash=prev)
    written = time.perf_counter() - start
    start = time.perf_counter()
    outcome = verify_chain()
    verified = time.perf_counter() - start
    assert outcome.broken is None, outcome.broken
    assert outcome.checked == entries
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"entries                  {entries:>12,}")
    print(f"write (hash + insert)    {written:>11.1f} s")
    print(f"verify                   {verified:>11.1f} s  ({entries / verified:,.0f} entries/s)")
    print(f"peak memory              {peak:>11.0f} MB")


if __name__ == "__main__":
    main()
