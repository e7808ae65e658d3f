"""What lets our pages live inside an LMS's iframe, and no one else's.

Framing: Django's XFrameOptionsMiddleware forbids it everywhere. A session started by an
LTI launch remembers the launching platform's origins; its pages then carry
`frame-ancestors 'self' <those origins>` in their Content-Security-Policy (written by
django-csp's middleware, outside this one) and no `X-Frame-Options`.

Cookies: everyone's are SameSite=Lax. Inside the iframe our cookies are third-party: they
are sent only when SameSite=None (with Secure), and current browsers drop unpartitioned
third-party cookies (headless Chromium here keeps none of them; see
tests/browser/test_lti_iframe.py). Over HTTPS the session and CSRF cookies of LTI sessions,
and the launch-state cookie, are therefore `SameSite=None; Secure; Partitioned` (CHIPS):
the browser keeps them for this tool inside this LMS only. Browsers that refuse even those
get the launch's "open in a new window" handoff instead.
"""

from __future__ import annotations

from collections.abc import Callable
from http import cookies

from csp.constants import SELF
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
        origins = self._lti_origins(request)
        if origins:
            self._frame_ancestors(response, origins)
        if settings.SESSION_COOKIE_SECURE:
            embedded = {settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME} if origins else ()
            for name, morsel in response.cookies.items():
                if name in embedded or name.startswith(STATE_COOKIE_PREFIX):
                    morsel["samesite"] = "None"
                    morsel["partitioned"] = True
        return response

    @staticmethod
    def _lti_origins(request: HttpRequest) -> list[str]:
        """The launching platform's origins when this is an LTI session, else nothing."""
        session = getattr(request, "session", None)
        origins = session.get(FRAME_SESSION_KEY) if session is not None else None
        if not origins or not isinstance(origins, list):
            return []
        return [o for o in origins if isinstance(o, str) and o.startswith(("https://", "http://"))]

    @staticmethod
    def _frame_ancestors(response: HttpResponse, origins: list[str]) -> None:
        update = dict(getattr(response, "_csp_update", None) or {})
        update["frame-ancestors"] = [SELF, *origins]
        # Read by csp.middleware.CSPMiddleware, which writes the header outside this one.
        response._csp_update = update  # type: ignore[attr-defined]
        if "X-Frame-Options" in response:
            del response["X-Frame-Options"]
