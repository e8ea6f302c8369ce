from typing import Any

import pytest

from tongxin.testing import Actors, build_stock_world


@pytest.fixture(autouse=True)
def _fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> None:
    """The stock world, built once per test database; each test rolls its own changes back."""
    with django_db_blocker.unblock():
        from django.test import override_settings

        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            build_stock_world()


@pytest.fixture
def actors(db: None) -> Actors:
    return Actors()
