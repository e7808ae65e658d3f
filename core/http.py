"""What the pages know of a request."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest


class AuthenticatedRequest(HttpRequest):
    """A request behind `login_required`: its user is a real account."""

    user: User
