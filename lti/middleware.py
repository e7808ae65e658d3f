"""Let the LMS that launched a session frame our pages, and no one else.

Django's XFrameOptionsMiddleware forbids framing everywhere. A session started by an
LTI launch remembers the launching platform's origins; its pages then carry
`Content-Security-Policy: frame-ancestors 'self' <those origins>` instead of
`X-Frame-Options`, which browsers ignore when frame-ancestors is present.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

FRAME_SESSION_KEY = "lti_frame_ancestors"


class LtiFrameAncestorsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        origins = session.get(FRAME_SESSION_KEY) if session is not None else None
        if origins and isinstance(origins, list):
            safe = [o for o in origins if isinstance(o, str) and o.startswith("http")]
            if safe and "Content-Security-Policy" not in response:
                response["Content-Security-Policy"] = "frame-ancestors 'self' " + " ".join(safe)
                response.xframe_options_exempt = True
        return response
