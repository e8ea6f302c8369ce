"""The notification centre: one notification per key, the user's own list (unread first),
marking read, the unread count in the navigation, and the e-mail of pending notifications."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tongxin.accounts.models import User
from tongxin.notices import services as notifications
from tongxin.notices.models import Notification
from tongxin.testing import Actors, web_client

pytestmark = pytest.mark.django_db

LIST = reverse("notices:notification_list")
READ = reverse("notices:notification_read")


def _note(user: User, key: str, **over: Any) -> Notification:
    fields = {"kind": "digest", "title": f"标题 {key}", "body": "内容", "url": "", **over}
    return notifications.notify(recipient=user, key=key, **fields)[0]


def test_it_writes_a_notification_once_per_key(actors: Actors) -> None:
    first, created = notifications.notify(
        recipient=actors.village_director, kind="digest", title="一", key="digest:2024-06-25"
    )
    again, created_again = notifications.notify(
        recipient=actors.village_director, kind="digest", title="二", key="digest:2024-06-25"
    )
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert again.title == "一"
    # The same key for someone else is another notification.
    assert notifications.notify(
        recipient=actors.town_supervisor, kind="digest", title="一", key="digest:2024-06-25"
    )[1]
    assert Notification.objects.filter(key="digest:2024-06-25").count() == 2


def test_it_lists_the_users_own_unread_first(actors: Actors) -> None:
    user = actors.village_director
    old_unread = _note(user, "a")
    read = _note(user, "b")
    new_unread = _note(user, "c")
    notifications.mark_read(user=user, key="b")
    theirs = _note(actors.other_village_director, "theirs", title="别人的通知")
    response = web_client(user).get(LIST)
    assert response.status_code == 200
    listed = [n.pk for n in response.context["page"]]
    assert listed == [new_unread.pk, old_unread.pk, read.pk]
    assert theirs.pk not in listed
    assert "别人的通知" not in response.content.decode()
    assert response.context["unread"] == 2


def test_it_marks_one_read_and_never_someone_elses(actors: Actors) -> None:
    user = actors.village_director
    _note(user, "mine")
    _note(user, "other")
    theirs = _note(actors.other_village_director, "mine")
    response = web_client(user).post(READ, {"key": "mine"})
    assert response.status_code == 302
    assert response["Location"] == LIST
    unread = set(
        Notification.objects.filter(recipient=user, read_at__isnull=True).values_list(
            "key", flat=True
        )
    )
    assert unread == {"other"}
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_it_marks_all_read(actors: Actors) -> None:
    user = actors.town_supervisor
    for key in ("a", "b", "c"):
        _note(user, key)
    web_client(user).post(READ)
    assert notifications.unread_count(user) == 0


def test_open_marks_it_read_and_goes_to_its_page(actors: Actors) -> None:
    user = actors.village_director
    _note(user, "go", url="/children/")
    _note(user, "evil", url="https://example.com/phish")
    client = web_client(user)
    response = client.post(READ, {"key": "go", "open": "1"})
    assert response.status_code == 302
    assert response["Location"] == "/children/"
    assert Notification.objects.get(recipient=user, key="go").read_at is not None
    # A link off the site is never followed.
    assert client.post(READ, {"key": "evil", "open": "1"})["Location"] == LIST


def _nav_label(response: Any) -> str:
    (item,) = [i for i in response.context["nav"] if i["url"] == LIST]
    return str(item["label"])


def test_the_navigation_shows_the_unread_count_in_one_query(actors: Actors) -> None:
    user = actors.village_director
    client = web_client(user)
    client.get("/")  # warm the session
    with CaptureQueriesContext(connection) as none:
        response = client.get("/")
    assert "(" not in _nav_label(response)
    for key in ("a", "b", "c"):
        _note(user, key)
    with CaptureQueriesContext(connection) as three:
        response = client.get("/")
    assert "3" in _nav_label(response)
    assert len(three) == len(none)
    counts = [q["sql"] for q in three.captured_queries if "notices_notification" in q["sql"]]
    assert len(counts) == 1


def test_every_signed_in_role_has_the_link_and_county_officers_the_policy(
    actors: Actors,
) -> None:
    for key in ("reporter", "auditor", "department_officer", "county_admin"):
        nav = web_client(getattr(actors, key)).get("/").context["nav"]
        urls = [i["url"] for i in nav]
        assert LIST in urls, key
        assert (reverse("visits:policy") in urls) == (key == "county_admin"), key


def test_pending_notifications_are_emailed_once_per_recipient(actors: Actors) -> None:
    director = actors.village_director
    director.email = "director@example.org"
    director.save(update_fields=["email"])
    a = _note(director, "a", title="第一条")
    b = _note(director, "b", title="第二条")
    no_address = _note(actors.town_supervisor, "a")
    result = notifications.email_pending(
        Notification.objects.filter(pk__in=[a.pk, b.pk, no_address.pk]).select_related("recipient")
    )
    assert (result.sent, result.failed) == (1, 0)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["director@example.org"]
    assert "第一条" in mail.outbox[0].body
    assert "第二条" in mail.outbox[0].body
    assert Notification.objects.filter(pk__in=[a.pk, b.pk], emailed_at__isnull=True).count() == 0
    # Already sent: nothing again.
    again = notifications.email_pending(Notification.objects.filter(pk__in=[a.pk, b.pk]))
    assert again.sent == 0
    assert len(mail.outbox) == 1


def test_a_failed_email_stays_pending(actors: Actors, monkeypatch: pytest.MonkeyPatch) -> None:
    director = actors.village_director
    director.email = "director@example.org"
    director.save(update_fields=["email"])
    note = _note(director, "a")

    def refuse(self: Any, *args: Any, **kwargs: Any) -> int:
        raise OSError("mail server down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    result = notifications.email_pending([note])
    assert (result.sent, result.failed) == (0, 1)
    note.refresh_from_db()
    assert note.emailed_at is None


def test_the_list_takes_the_same_queries_for_3_or_25(actors: Actors) -> None:
    user = actors.village_director
    client = web_client(user)
    client.get(LIST)  # warm the session
    counts = []
    for total in (3, 25):
        for i in range(total - Notification.objects.filter(recipient=user).count()):
            _note(user, f"k{i}:{total}")
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LIST)
        assert len(response.context["page"]) == total
        counts.append(len(queries))
    assert counts[0] == counts[1]
