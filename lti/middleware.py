"""What lets our pages live inside an LMS's iframe, and no one else's.

Framing: Django's XFrameOptionsMiddleware forbids it everywhere. A session started by an
LTI launch remembers the launching platform's origins; its pages then carry
`Content-Security-Policy: frame-ancestors 'self' <those origins>` and no
`X-Frame-Options`.

Cookies: inside the iframe our cookies are third-party, and current browsers drop
unpartitioned third-party cookies (headless Chromium here keeps none of them; see
tests/browser/test_lti_iframe.py). Over HTTPS (SameSite=None) the session, CSRF and
launch-state cookies are therefore marked `Partitioned` (CHIPS): the browser keeps them
for this tool inside this LMS only. Browsers that refuse even those get the launch's
"open in a new window" handoff instead.
"""

from __future__ import annotations

from collections.abc import Callable
from http import cookies

from django.conf import settings
from django.http import HttpRequest, HttpResponse

FRAME_SESSION_KEY = "lti_frame_ancestors"
STATE_COOKIE_PREFIX = "qz_lti_state_"


def partitioned_cookies_enable() -> None:
    """Teach Python's cookie writer the `Partitioned` attribute (built in from 3.14)."""
    reserved = cookies.Morsel._reserved  # type: ignore[attr-defined]
    if "partitioned" not in reserved:
        reserved["partitioned"] = "Partitioned"
        cookies.Morsel._flags.add("partitioned")  # type: ignore[attr-defined]


class LtiEmbeddingMiddleware:
    """Place it before SessionMiddleware and CsrfViewMiddleware: it must see the cookies
    they set and the X-Frame-Options header set after them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        partitioned_cookies_enable()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        self._frame_ancestors(request, response)
        if settings.SESSION_COOKIE_SAMESITE == "None":
            embedded = {settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME}
            for name, morsel in response.cookies.items():
                if name in embedded or name.startswith(STATE_COOKIE_PREFIX):
                    morsel["partitioned"] = True
        return response

    @staticmethod
    def _frame_ancestors(request: HttpRequest, response: HttpResponse) -> None:
        session = getattr(request, "session", None)
        origins = session.get(FRAME_SESSION_KEY) if session is not None else None
        if not origins or not isinstance(origins, list):
            return
        safe = [o for o in origins if isinstance(o, str) and o.startswith(("https://", "http://"))]
        if safe and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = "frame-ancestors 'self' " + " ".join(safe)
            if "X-Frame-Options" in response:
                del response["X-Frame-Options"]
