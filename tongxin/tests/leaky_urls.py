"""A deliberately leaky page, to prove the privacy guard catches leaks."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

LEAKED = "620724201405010019"


def leaky(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"<p>{LEAKED}</p>", content_type="text/html")


def echo(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"<input value='{request.POST.get('id', '')}'>", content_type="text/html")


urlpatterns = [path("leaky/", leaky), path("echo/", echo)]
