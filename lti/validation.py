"""Launch validation: every check an id_token must pass before anything is created.

The order matters only for which message a broken launch gets; each failure raises
`LaunchError` with an HTTP status, a stable code and a sentence for the person who sees
it. The state is consumed first, so a launch can never be replayed, valid or not.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jwt
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from lti import claims
from lti.middleware import STATE_COOKIE_PREFIX
from lti.models import Deployment, LaunchState, Platform
from lti.platform_client import PlatformError, platform_keys


class LaunchError(Exception):
    """A refused launch. `return_url` is the platform's launch_presentation.return_url, set
    only once the id_token's signature has verified (never from unverified input)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.return_url = ""


def return_url_of(body: dict[str, Any]) -> str:
    """The verified id_token's launch_presentation.return_url, if it is an http(s) URL."""
    presentation = body.get(claims.LAUNCH_PRESENTATION)
    url = presentation.get("return_url") if isinstance(presentation, dict) else None
    if not isinstance(url, str) or len(url) > 2000:
        return ""
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else ""


@dataclass(frozen=True)
class Launch:
    """A launch that passed every check."""

    platform: Platform
    deployment: Deployment
    claims: dict[str, Any]
    state: LaunchState
    cookieless: bool

    @property
    def message_type(self) -> str:
        return str(self.claims[claims.MESSAGE_TYPE])

    @property
    def teaches(self) -> bool:
        return claims.roles_teach(self.claims.get(claims.ROLES))


def state_cookie_name(state: str) -> str:
    return STATE_COOKIE_PREFIX + state[:16]


def _state_consume(state_value: str) -> LaunchState:
    if not state_value:
        raise LaunchError(400, "missing_state", "The launch has no `state`.")
    now = timezone.now()
    taken = LaunchState.objects.filter(
        state=state_value, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if not taken:
        raise LaunchError(
            400,
            "unknown_state",
            "This launch is unknown, expired or already used. Open the activity from your "
            "course again.",
        )
    return LaunchState.objects.select_related("platform").get(state=state_value)


def _browser_check(request: HttpRequest, state: LaunchState) -> bool:
    """Whether the browser kept no cookie (cookieless); a cookie for another state: refused."""
    cookie = request.COOKIES.get(state_cookie_name(state.state))
    if cookie is None:
        return True
    if not hmac.compare_digest(cookie, state.state):
        raise LaunchError(
            403, "state_mismatch", "This launch was started in another browser or tab."
        )
    return False


def _header(token: str) -> dict[str, Any]:
    if not token:
        raise LaunchError(400, "missing_id_token", "The launch has no `id_token`.")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as error:
        raise LaunchError(
            400, "malformed_id_token", f"The id_token is not a JWT: {error}"
        ) from error
    if header.get("alg") != "RS256":
        raise LaunchError(
            400, "bad_alg", f"The id_token is signed with {header.get('alg')!r}; LTI needs RS256."
        )
    if not header.get("kid"):
        raise LaunchError(400, "missing_kid", "The id_token's header names no key (`kid`).")
    return header


def _unverified(token: str) -> dict[str, Any]:
    try:
        return dict(jwt.decode(token, options={"verify_signature": False}))
    except jwt.InvalidTokenError as error:
        raise LaunchError(
            400, "malformed_id_token", f"The id_token cannot be read: {error}"
        ) from error


def _platform_for(body: dict[str, Any], state: LaunchState) -> Platform:
    issuer = body.get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise LaunchError(400, "missing_iss", "The id_token has no issuer (`iss`).")
    audience = body.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences, list) or not audiences:
        raise LaunchError(400, "missing_aud", "The id_token has no audience (`aud`).")
    platform = state.platform
    if issuer != platform.issuer:
        raise LaunchError(
            400,
            "wrong_iss",
            f"The id_token comes from {issuer!r}, not the platform that logged in.",
        )
    if not platform.is_active:
        raise LaunchError(403, "platform_inactive", "This platform's registration is switched off.")
    if platform.client_id not in audiences:
        raise LaunchError(400, "wrong_aud", "The id_token is not meant for this tool (`aud`).")
    if len(audiences) > 1 and body.get("azp") != platform.client_id:
        raise LaunchError(
            400, "wrong_azp", "The id_token has several audiences and `azp` is not this tool."
        )
    return platform


def _platform_key(platform: Platform, kid: str, *, fresh: bool = False) -> jwt.PyJWK:
    try:
        for refresh in (True,) if fresh else (False, True):
            for jwk in platform_keys(platform, refresh=refresh):
                if isinstance(jwk, dict) and jwk.get("kid") == kid:
                    return jwt.PyJWK(jwk, algorithm="RS256")
    except PlatformError as error:
        raise LaunchError(502, "platform_keys", str(error)) from error
    except jwt.PyJWKError as error:
        raise LaunchError(
            400, "bad_key", f"The platform's key {kid!r} is not usable: {error}"
        ) from error
    raise LaunchError(400, "unknown_kid", f"The platform publishes no key {kid!r}.")


def _verified(token: str, key: jwt.PyJWK, platform: Platform) -> dict[str, Any]:
    try:
        body = jwt.decode(
            token,
            key=key,
            algorithms=["RS256"],
            audience=platform.client_id,
            issuer=platform.issuer,
            leeway=settings.LTI_CLOCK_SKEW_SECONDS,
            options={"require": ["exp", "iat", "iss", "aud"]},
        )
    except jwt.InvalidSignatureError:
        raise LaunchError(
            400, "bad_signature", "The id_token's signature does not verify."
        ) from None
    except jwt.ExpiredSignatureError:
        raise LaunchError(
            400, "expired", "The id_token has expired; open the activity again."
        ) from None
    except jwt.ImmatureSignatureError:
        raise LaunchError(
            400, "iat_in_future", "The id_token was issued in the future (`iat`)."
        ) from None
    except jwt.MissingRequiredClaimError as error:
        raise LaunchError(
            400, f"missing_{error.claim}", f"The id_token has no `{error.claim}`."
        ) from error
    except jwt.InvalidTokenError as error:
        raise LaunchError(400, "invalid_id_token", f"The id_token is not valid: {error}") from error
    issued = body.get("iat")
    if not isinstance(issued, int | float) or issued < time.time() - settings.LTI_MAX_TOKEN_AGE:
        raise LaunchError(400, "too_old", "The id_token was issued too long ago (`iat`).")
    return dict(body)


def _message_checks(body: dict[str, Any], state: LaunchState, request: HttpRequest) -> None:
    nonce = body.get("nonce")
    if not nonce:
        raise LaunchError(400, "missing_nonce", "The id_token has no `nonce`.")
    if not isinstance(nonce, str) or not hmac.compare_digest(nonce, state.nonce):
        raise LaunchError(400, "wrong_nonce", "The id_token's `nonce` is not the one we sent.")
    if body.get(claims.VERSION) != "1.3.0":
        raise LaunchError(400, "wrong_version", "This tool speaks LTI 1.3.0 only (`version`).")
    message_type = body.get(claims.MESSAGE_TYPE)
    if message_type not in claims.MESSAGE_TYPES:
        raise LaunchError(
            400, "unknown_message_type", f"This tool cannot handle {message_type!r} messages."
        )
    if not isinstance(body.get("sub"), str) or not body["sub"]:
        raise LaunchError(
            400, "missing_sub", "The launch does not say who you are (`sub`); it is needed."
        )
    # Required by LTI 1.3 core (an empty list is allowed), as 1EdTech's certification tests it.
    if claims.ROLES not in body:
        raise LaunchError(
            400,
            "missing_roles",
            f"The launch has no roles claim (`{claims.ROLES}`); LTI 1.3 requires it, even "
            "as an empty list. Ask your LMS administrator to send it.",
        )
    roles = body[claims.ROLES]
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise LaunchError(
            400, "bad_roles", "The launch's roles claim must be a list of role names (strings)."
        )
    if message_type == claims.RESOURCE_LINK_REQUEST:
        link = body.get(claims.RESOURCE_LINK)
        if not isinstance(link, dict) or not isinstance(link.get("id"), str) or not link["id"]:
            raise LaunchError(
                400, "missing_resource_link", "A resource launch needs `resource_link.id`."
            )
    else:
        dl = body.get(claims.DEEP_LINKING_SETTINGS)
        if not isinstance(dl, dict) or not isinstance(dl.get("deep_link_return_url"), str):
            raise LaunchError(
                400, "missing_deep_linking_settings", "A deep-linking launch needs its settings."
            )
        accept = dl.get("accept_types")
        if isinstance(accept, list) and claims.LTI_RESOURCE_LINK not in accept:
            raise LaunchError(
                400, "no_resource_links", "The course does not accept links to activities here."
            )
        if not claims.roles_teach(body.get(claims.ROLES)):
            raise LaunchError(403, "not_instructor", "Only instructors can add activities.")
    context = body.get(claims.CONTEXT)
    if not isinstance(context, dict) or not isinstance(context.get("id"), str) or not context["id"]:
        raise LaunchError(
            400, "missing_context", "The launch names no course (`context.id`); open it from one."
        )
    target = body.get(claims.TARGET_LINK_URI)
    if not isinstance(target, str) or not target:
        raise LaunchError(400, "missing_target_link_uri", "The launch has no `target_link_uri`.")
    if urlsplit(target).netloc != request.get_host():
        raise LaunchError(400, "foreign_target", "The `target_link_uri` is not on this site.")
    if target != state.target_link_uri:
        raise LaunchError(
            400, "target_mismatch", "The signed `target_link_uri` is not the one of the login."
        )


def _deployment(body: dict[str, Any], platform: Platform) -> Deployment:
    deployment_id = body.get(claims.DEPLOYMENT_ID)
    if not isinstance(deployment_id, str) or not deployment_id:
        raise LaunchError(400, "missing_deployment_id", "The id_token has no `deployment_id`.")
    deployment = Deployment.objects.filter(platform=platform, deployment_id=deployment_id).first()
    if deployment is None and not platform.deployments.exists():
        # A platform registered with no deployment yet (Canvas makes one only when the app
        # is added to an account or course): its first signed launch names it.
        deployment, _ = Deployment.objects.get_or_create(
            platform=platform, deployment_id=deployment_id[:255]
        )
    if deployment is None:
        raise LaunchError(
            403, "unknown_deployment", f"Deployment {deployment_id!r} is not registered here."
        )
    return deployment


def launch_validate(request: HttpRequest) -> Launch:
    """Check a launch POST completely; raise LaunchError on the first thing wrong."""
    state = _state_consume(str(request.POST.get("state", "")))
    cookieless = _browser_check(request, state)
    token = str(request.POST.get("id_token", ""))
    header = _header(token)
    platform = _platform_for(_unverified(token), state)
    kid = str(header["kid"])
    try:
        body = _verified(token, _platform_key(platform, kid), platform)
    except LaunchError as error:
        if error.code != "bad_signature":
            raise
        # A platform may publish a new key under a kid we have cached: read its key set again,
        # once (a launch needs a state from a login, which is bounded per address).
        body = _verified(token, _platform_key(platform, kid, fresh=True), platform)
    try:
        _message_checks(body, state, request)
        deployment = _deployment(body, platform)
    except LaunchError as error:
        # The platform signed this body: its return URL may take the person back there.
        error.return_url = return_url_of(body)
        raise
    return Launch(platform, deployment, body, state, cookieless)
