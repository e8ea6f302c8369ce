"""The project's URLs plus one view that fails, for the 500 page's test."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from tongxin.urls import handler400
from tongxin.urls import urlpatterns as project_urls


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a failure the 500 page must cover")


urlpatterns = [*project_urls, path("boom/", boom)]
__all__ = ["handler400", "urlpatterns"]
