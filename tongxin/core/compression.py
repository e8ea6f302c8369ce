"""Compressed pages, where compression cannot leak a secret (BREACH; docs/decisions/010).

A BREACH attacker makes the victim's browser request a page many times, each with a guess
reflected into it, and watches the compressed length. Every such request is started by the
attacker's site; browsers say so (``Sec-Fetch-Site: cross-site``), and those answers go out
uncompressed. Pages the user opened from the site itself, or typed, are compressed, with
Django's random padding (Heal the Breach) and the CSRF token masked per response on top.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseBase
from django.middleware import gzip
from django.utils.cache import patch_vary_headers

# Text worth compressing. Spreadsheets, PDFs and images are compressed already.
COMPRESSIBLE = ("text/", "application/json", "application/javascript", "application/xml")
# Requests another site started (``same-site`` is a sibling host, not this one).
FOREIGN = frozenset({"cross-site", "same-site"})


class GZipMiddleware(gzip.GZipMiddleware):
    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if not response.get("Content-Type", "").startswith(COMPRESSIBLE):
            return response
        patch_vary_headers(response, ("Sec-Fetch-Site",))
        if request.headers.get("Sec-Fetch-Site", "") in FOREIGN:
            patch_vary_headers(response, ("Accept-Encoding",))
            return response
        return super().process_response(request, response)
