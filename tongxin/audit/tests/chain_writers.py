"""Run in a process of its own (``test_concurrent_writers.py`` starts it) on a database of its
own: several threads, each with its own connection, write audit entries at the same moment,
each in a transaction that keeps the chain's head a little while, as two web workers and the
task worker do. Prints what went wrong, as JSON."""

from __future__ import annotations

import json
import sys
import threading
import time

import django


def main() -> None:
    django.setup()
    from django.db import connection, transaction

    from tongxin.audit.services import audit_record

    threads, per_thread = int(sys.argv[1]), int(sys.argv[2])
    start = threading.Barrier(threads)
    errors: list[str] = []

    def write(n: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                with transaction.atomic():
                    audit_record(actor=None, action="auth.login_failed", detail={"t": n, "i": i})
                    time.sleep(0.002)  # the others queue for the head meanwhile
        except Exception as exc:  # reported to the test, which fails on it
            errors.append(repr(exc))
        finally:
            connection.close()

    workers = [threading.Thread(target=write, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    print(json.dumps({"errors": errors}))


if __name__ == "__main__":
    main()
