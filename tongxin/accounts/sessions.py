"""The session engine: Django's database sessions, each remembering when it was last saved, so
that ``SessionRenewalMiddleware`` pushes its expiry back at most once a minute instead of writing
it on every request (issue 12). Set as ``SESSION_ENGINE``; the table is Django's own."""

from __future__ import annotations

import time

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore

# The session key holding when the session was last saved (epoch seconds).
SAVED_AT = "_saved_at"


class SessionStore(DatabaseSessionStore):
    def save(self, must_create: bool = False) -> None:
        data = self._get_session(no_load=must_create)  # type: ignore[attr-defined]  # as super()
        if data:
            data[SAVED_AT] = int(time.time())
        super().save(must_create)
