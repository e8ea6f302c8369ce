"""The versioned JSON API, ``/api/v1/``. Each app contributes its endpoints here."""

from django.urls import path

from tongxin.accounts import api as accounts_api
from tongxin.registry import api as registry_api

app_name = "api"
urlpatterns = [
    path("auth/token", accounts_api.token_create, name="auth_token"),
    path("me", accounts_api.me, name="me"),
    path("classify", registry_api.classify, name="classify"),
]
