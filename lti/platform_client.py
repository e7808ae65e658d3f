"""Calls to a platform: its JWKS (cached), and OAuth 2 access tokens for its services.

Access tokens come from the client-credentials grant with a JWT client assertion
(RFC 7523) signed by our key, and are cached in Redis until shortly before they expire.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

import requests
from django.conf import settings
from django.core.cache import cache

from lti import keys
from lti.models import Platform

JWKS_CACHE_SECONDS = 300
TOKEN_EARLY_SECONDS = 60


class PlatformError(Exception):
    """A platform did not answer as it should; `retry` says whether trying later may help."""

    def __init__(self, message: str, *, status: int | None = None, retry: bool = True) -> None:
        super().__init__(message)
        self.status = status
        self.retry = retry


def http() -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = "dropout-diagnostics-lti/1"
    return session


def _timeout() -> float:
    return float(settings.LTI_HTTP_TIMEOUT_SECONDS)


def platform_keys(platform: Platform, *, refresh: bool = False) -> list[dict[str, Any]]:
    """The platform's public keys, from its JWKS (cached for five minutes)."""
    cache_key = "lti:jwks:" + _digest(platform.keyset_url)
    found = None if refresh else cache.get(cache_key)
    if found is not None:
        return list(found)
    try:
        response = http().get(platform.keyset_url, timeout=_timeout(), allow_redirects=False)
        response.raise_for_status()
        body = response.json()
    except (requests.RequestException, ValueError) as error:
        raise PlatformError(f"The platform's key set could not be read: {error}") from error
    found = body.get("keys") if isinstance(body, dict) else None
    if not isinstance(found, list):
        raise PlatformError("The platform's key set has no `keys` list.")
    cache.set(cache_key, found, JWKS_CACHE_SECONDS)
    return found


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def _token_cache_key(platform: Platform, scopes: list[str]) -> str:
    return "lti:token:" + _digest(platform.auth_token_url, platform.client_id, *sorted(scopes))


def access_token_forget(platform: Platform, scopes: list[str]) -> None:
    cache.delete(_token_cache_key(platform, scopes))


def access_token(platform: Platform, scopes: list[str]) -> str:
    """A bearer token for `scopes` on the platform's services (cached until it expires)."""
    cache_key = _token_cache_key(platform, scopes)
    token = cache.get(cache_key)
    if token:
        return str(token)
    assertion = keys.sign(
        {
            "iss": platform.client_id,
            "sub": platform.client_id,
            "aud": platform.token_audience,
            "jti": secrets.token_urlsafe(24),
        },
        lifetime=300,
    )
    try:
        response = http().post(
            platform.auth_token_url,
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion,
                "scope": " ".join(sorted(scopes)),
            },
            timeout=_timeout(),
            allow_redirects=False,
        )
    except requests.RequestException as error:
        raise PlatformError(f"The token endpoint did not answer: {error}") from error
    if response.status_code != 200:
        raise PlatformError(
            f"The token endpoint answered {response.status_code}: {response.text[:200]}",
            status=response.status_code,
            retry=response.status_code >= 500 or response.status_code == 429,
        )
    try:
        body = response.json()
        token = str(body["access_token"])
        lifetime = int(body.get("expires_in", 3600))
    except (ValueError, KeyError, TypeError) as error:
        raise PlatformError("The token endpoint's answer has no access_token.") from error
    if lifetime > TOKEN_EARLY_SECONDS:
        cache.set(cache_key, token, lifetime - TOKEN_EARLY_SECONDS)
    return token


def service_request(
    platform: Platform,
    scopes: list[str],
    method: str,
    url: str,
    *,
    accept: str | None = None,
    content_type: str | None = None,
    json_body: Any = None,
) -> requests.Response:
    """Call a platform service with a cached token; a 401 gets one fresh token and a retry."""
    for fresh in (False, True):
        if fresh:
            access_token_forget(platform, scopes)
        headers = {"Authorization": "Bearer " + access_token(platform, scopes)}
        if accept:
            headers["Accept"] = accept
        if content_type:
            headers["Content-Type"] = content_type
        try:
            response = http().request(
                method,
                url,
                headers=headers,
                json=json_body,
                timeout=_timeout(),
                allow_redirects=False,
            )
        except requests.RequestException as error:
            raise PlatformError(f"{method} {url} failed: {error}") from error
        if response.status_code != 401:
            break
    if response.status_code >= 300:
        raise PlatformError(
            f"{method} {url} answered {response.status_code}: {response.text[:200]}",
            status=response.status_code,
            retry=response.status_code >= 500 or response.status_code in (401, 408, 429),
        )
    return response
