"""The versioned JSON API, ``/api/v1/``. Each app contributes its endpoints here."""

from django.urls import path

from tongxin.accounts import api as accounts_api
from tongxin.registry import api as registry_api
from tongxin.registry import api_file as registry_api_file
from tongxin.registry import api_lists as registry_api_lists

app_name = "api"
urlpatterns = [
    path("auth/token", accounts_api.token_create, name="auth_token"),
    path("me", accounts_api.me, name="me"),
    path("classify", registry_api.classify, name="classify"),
    path("children", registry_api_lists.child_list, name="child_list"),
    path("children/<uuid:public_id>", registry_api_file.child_detail, name="child_detail"),
]
