import logging
import signal
from collections.abc import Callable, Iterator
from io import StringIO
from typing import Any

import pytest
from asgiref.local import Local
from django.core.management import call_command
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils import translation

from tongxin.core import pagecache
from tongxin.privacy_guard import guard
from tongxin.testing import Actors, build_stock_world, runtime_role_start, runtime_role_stop


@pytest.fixture(autouse=True)
def _fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _plain_static_names(settings: Any) -> None:
    """Pages render in tests without a collectstatic: static files under their plain names. The
    e2e servers collect them and serve them hashed and compressed, as production does."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@receiver(setting_changed)
def _reset_task_backends(*, setting: str, **kwargs: Any) -> None:
    """A test that changes TASKS gets backends made from it (Django 6.1 does this for CACHES,
    not yet for TASKS)."""
    if setting == "TASKS":
        from django.tasks import task_backends

        handler: Any = task_backends
        handler.__dict__.pop("settings", None)  # a cached_property
        handler._settings = None
        handler._connections = Local()


@pytest.fixture(autouse=True)
def _no_kept_pages() -> None:
    """Each test starts with no page kept from another (decision 024): a test's writes are
    rolled back, so the data generation can come round to a number an earlier test saw."""
    pagecache.forget_all()


@pytest.fixture(autouse=True)
def _tasks_run_at_once(settings: Any) -> None:
    """Background tasks run in the test's process when they are enqueued, that is when the
    transaction that enqueues them commits (``django_capture_on_commit_callbacks`` in a test).
    Through the database and ``db_worker``, as in production: interop/tests/test_tasks.py."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def _no_full_id_numbers(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test: no full ID number in a page, an API answer or a log record."""
    if request.node.get_closest_marker("no_privacy_guard"):
        yield
        return
    with guard():
        yield


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """The stock world, built once per test database; each test rolls its own changes back.
    On PostgreSQL the tests then run as the application's runtime role, with its privileges
    and no more (docs/deploy-database.md)."""
    with django_db_blocker.unblock():
        from django.test import override_settings

        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            build_stock_world()
        role = runtime_role_start()
    yield
    with django_db_blocker.unblock():
        runtime_role_stop(role)


@pytest.fixture
def actors(db: None) -> Actors:
    return Actors()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium for the tests marked ``e2e`` (tongxin/e2e.py), one per worker."""
    from tongxin.e2e import chromium

    with chromium() as b:
        yield b


@pytest.fixture
def run_worker(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], None]]:
    """``manage.py db_worker --batch``: run every queued task, then exit. In the test's
    transaction, so the worker must not close the connection that holds it (a worker process
    closes its own). The worker installs its own signal handlers and log levels; the test
    process gets its own back."""
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )
    signals = (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)
    handlers = {s: signal.getsignal(s) for s in signals}
    loggers = {name: logging.getLogger(name).level for name in ("django.tasks", "django_tasks_db")}

    def run() -> None:
        # A worker process speaks the site's language (settings.LANGUAGE_CODE): Chinese.
        with translation.override("zh-hans"):
            call_command(
                "db_worker", "--batch", "--no-startup-delay", "--verbosity", "0", stdout=StringIO()
            )

    yield run
    for s, handler in handlers.items():
        signal.signal(s, handler)
    for name, level in loggers.items():
        logging.getLogger(name).setLevel(level)
