"""Pages kept until the data changes (decision 024): the data generation moves after every
write that counts, and a kept page is never served once it has moved."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib import messages
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tongxin.core import generation
from tongxin.registry.models import Child
from tongxin.testing import Actors, web_client
from tongxin.visits.tests import worklist_world as world

WORKLIST = "/visits/worklist/"
CHILDREN = "/children/"
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]{64})"')


@pytest.mark.parametrize(
    ("sql", "table"),
    [
        ('SELECT "registry_child"."id" FROM "registry_child"', ""),
        ("\n  select 1", ""),
        ('SAVEPOINT "s1"', ""),
        ("WITH x AS MATERIALIZED (SELECT c.id FROM registry_child c) SELECT * FROM x", ""),
        ('INSERT INTO "registry_child" ("name") VALUES (%s)', "registry_child"),
        ('UPDATE "visits_contact" SET "note" = %s', "visits_contact"),
        ("delete from audit_auditevent where id = 1", "audit_auditevent"),
        ("WITH gone AS (DELETE FROM registry_child RETURNING id) SELECT * FROM gone", None),
        ("VACUUM", None),
    ],
)
def test_it_reads_which_table_a_statement_writes(sql: str, table: str | None) -> None:
    assert generation.written_table(sql) == table


@pytest.mark.django_db
def test_a_write_moves_the_generation_and_bookkeeping_does_not(actors: Actors) -> None:
    before = generation.current(connection)
    Child.objects.filter(village_id=actors.village_director.division_id).update(status_reason="x")
    after_update = generation.current(connection)
    assert after_update == before + 1
    with connection.cursor() as cursor:
        cursor.execute("UPDATE django_session SET expire_date = expire_date WHERE 1 = 0")
        cursor.execute("SELECT COUNT(*) FROM registry_child")
    assert generation.current(connection) == after_update
    with connection.cursor() as cursor:  # a raw write, below the ORM
        cursor.execute("UPDATE registry_child SET status_reason = 'y' WHERE 1 = 0")
    assert generation.current(connection) == after_update + 1


@contextmanager
def _committed(capture: Any) -> Iterator[list[Any]]:
    """A transaction's end as the test's own transaction allows it: the hooks registered inside
    run on the way out, and are then gone, as after a real commit."""
    with capture(execute=True) as hooks:
        yield hooks
    connection.run_on_commit.clear()


@pytest.mark.django_db
def test_it_moves_once_after_the_commit_and_not_for_a_rollback(
    actors: Actors, django_capture_on_commit_callbacks: Any
) -> None:
    start = generation.current(connection)
    with _committed(django_capture_on_commit_callbacks) as hooks:
        with transaction.atomic():
            Child.objects.update(status_reason="a")
            Child.objects.update(status_reason="b")
        # Not before the commit: a reader would take the new number for the old data.
        assert generation.current(connection) == start
    assert len(hooks) == 1
    assert generation.current(connection) == start + 1

    with _committed(django_capture_on_commit_callbacks) as hooks:
        try:
            with transaction.atomic():
                Child.objects.update(status_reason="c")
                raise RuntimeError
        except RuntimeError:
            pass
    assert hooks == []
    assert generation.current(connection) == start + 1

    with _committed(django_capture_on_commit_callbacks) as hooks, transaction.atomic():
        try:
            with transaction.atomic():
                Child.objects.update(status_reason="f")
                raise RuntimeError
        except RuntimeError:
            pass
        # The hook of the rolled-back savepoint went with it; the outer write makes its own.
        Child.objects.update(status_reason="g")
    assert len(hooks) == 1
    assert generation.current(connection) == start + 2


def _page(client: Client, url: str) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), len(queries)


@pytest.mark.django_db
def test_the_worklist_is_kept_until_a_child_changes(actors: Actors) -> None:
    child = world.child(registered_on=date.today() - timedelta(days=400), name="赵保留")
    client = web_client(actors.village_director)
    client.get(WORKLIST)  # the first page sets the browser's CSRF cookie
    made, made_queries = _page(client, WORKLIST)
    kept, kept_queries = _page(client, WORKLIST)
    assert "赵保留" in made
    assert kept_queries < made_queries
    # The same page, but for the CSRF mask (a new one each time).
    assert TOKEN.sub("", kept) == TOKEN.sub("", made)
    assert TOKEN.findall(kept) != TOKEN.findall(made)

    Child.objects.filter(pk=child.pk).update(name="赵改名")
    changed, changed_queries = _page(client, WORKLIST)
    assert "赵改名" in changed
    assert "赵保留" not in changed
    assert changed_queries == made_queries


@pytest.mark.django_db
def test_a_kept_page_is_one_users_own(actors: Actors) -> None:
    world.child(registered_on=date.today() - timedelta(days=400), name="钱本村")
    mine = web_client(actors.village_director)
    mine.get(WORKLIST)
    _page(mine, WORKLIST)
    other = web_client(actors.other_village_director)
    other.get(WORKLIST)
    page, _ = _page(other, WORKLIST)
    assert "钱本村" not in page
    assert actors.other_village_director.name in page


@pytest.mark.django_db
def test_a_kept_pages_csrf_token_is_accepted(actors: Actors) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(actors.village_director)
    client.get(WORKLIST)
    _page(client, WORKLIST)
    kept, _ = _page(client, WORKLIST)
    token = TOKEN.findall(kept)[0]
    response = client.post("/accounts/logout/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302


@pytest.mark.django_db
def test_waiting_messages_are_shown_not_a_kept_page(actors: Actors) -> None:
    client = web_client(actors.village_director)
    client.get(WORKLIST)
    _page(client, WORKLIST)
    # A message waiting in the session (as a form's save leaves one) is part of the next page.
    from django.contrib.messages.storage.cookie import CookieStorage
    from django.http import HttpRequest, HttpResponse

    request = HttpRequest()
    storage = CookieStorage(request)
    storage.add(messages.SUCCESS, "已保存测试消息")
    response = HttpResponse()
    storage.update(response)
    client.cookies["messages"] = response.cookies["messages"].value
    page, _ = _page(client, WORKLIST)
    assert "已保存测试消息" in page


@pytest.mark.django_db
def test_the_county_list_is_kept_per_address_and_day(
    actors: Actors, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.child(registered_on=date.today() - timedelta(days=400), name="孙列表")
    client = web_client(actors.county_admin)
    client.get(CHILDREN)
    _, made_queries = _page(client, CHILDREN)
    _, kept_queries = _page(client, CHILDREN)
    assert kept_queries < made_queries
    _, filtered_queries = _page(client, CHILDREN + "?category=orphan")
    assert filtered_queries > kept_queries
    tomorrow = date.today() + timedelta(days=1)
    monkeypatch.setattr("tongxin.core.pagecache.timezone.localdate", lambda: tomorrow)
    _, next_day_queries = _page(client, CHILDREN)
    assert next_day_queries > kept_queries


@pytest.mark.django_db
def test_nothing_is_kept_when_switched_off(actors: Actors, settings: object) -> None:
    settings.TONGXIN_PAGE_CACHE = False  # type: ignore[attr-defined]
    client = web_client(actors.village_director)
    client.get(WORKLIST)
    _, first = _page(client, WORKLIST)
    _, second = _page(client, WORKLIST)
    assert first == second
