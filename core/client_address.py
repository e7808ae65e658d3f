"""The address a request came from, seen past the reverse proxies we trust.

Behind a proxy every request arrives from the proxy's address; the client's is the last
entry the proxy appended to `X-Forwarded-For`. With TRUSTED_PROXY_COUNT proxies in a row,
it is the entry that many places from the end: entries before it were written by the
client and prove nothing. Login lockouts (django-axes) and the LTI login bound key on it.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """Return the client's IP address (REMOTE_ADDR when no trusted proxy says otherwise)."""
    remote = str(request.META.get("REMOTE_ADDR", ""))
    count: int = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [hop for hop in hops if hop]
    if len(hops) < count:
        return remote
    candidate = hops[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
