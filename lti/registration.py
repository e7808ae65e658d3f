"""LTI Dynamic Registration 1.0 (1EdTech), the tool's side, as Moodle 4.1+ and Canvas run it.

The LMS administrator pastes our registration URL into the LMS, which opens it with
`openid_configuration` (where the platform describes itself) and, usually, a
`registration_token`. We read that configuration, check it, post our client registration
to the platform's `registration_endpoint` (the token as a Bearer token) and store the
platform with the client id, and the deployment, that the platform answers with.

Anyone can open a URL, so ours carries a signed token that only an operator can mint
(`manage.py lti_registration_url`); without it nothing is fetched and nothing is stored,
and the server is not made to call addresses a stranger chose.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core import signing
from django.urls import reverse

from core.errors import ApplicationError
from lti import claims
from lti.models import Platform
from lti.platform_client import http
from lti.platforms import platform_register

PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
REGISTRATION_URL_SALT = "lti.registration-url"
TOOL_NAME = "Dropout diagnostics"
TOOL_DESCRIPTION = (
    "Quizzes and code exercises on dropout in neural networks whose wrong answers name the "
    "misconception behind them; instructors see what their class believes, not only its score."
)
# What the tool asks for: scores and its own gradebook columns (AGS), results read back,
# and the course roster (NRPS).
SCOPES = (
    claims.SCOPE_LINEITEM,
    claims.SCOPE_LINEITEM_READONLY,
    claims.SCOPE_RESULT_READONLY,
    claims.SCOPE_SCORE,
    claims.SCOPE_MEMBERSHIPS,
)
# The launch claims the tool reads (names and e-mail are optional: it works without them).
LAUNCH_CLAIMS = ("iss", "sub", "name", "given_name", "family_name", "email")
MAX_ANSWER_BYTES = 1_000_000


def registration_url_token(*, valid_days: int) -> str:
    """Mint the token of a registration URL that works for `valid_days` days."""
    return signing.dumps(
        {"until": int(time.time()) + valid_days * 86400}, salt=REGISTRATION_URL_SALT
    )


def registration_url_check(*, token: str) -> None:
    """Refuse a registration URL whose token we did not sign or whose time is over."""
    try:
        payload = signing.loads(token, salt=REGISTRATION_URL_SALT)
        until = int(payload["until"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise ApplicationError(
            "This registration URL is not one of ours. Ask the service's operator for a "
            "registration URL (manage.py lti_registration_url) and paste it whole.",
            code="registration_url_invalid",
            status=403,
        ) from None
    if until < time.time():
        raise ApplicationError(
            "This registration URL has expired. Ask the service's operator for a new one "
            "(manage.py lti_registration_url).",
            code="registration_url_expired",
            status=403,
        )


@dataclass(frozen=True)
class PlatformConfiguration:
    """What a platform's OpenID configuration says that we use."""

    url: str
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    registration_endpoint: str
    token_audience: str
    product_family_code: str
    version: str
    message_types: frozenset[str]

    @property
    def name(self) -> str:
        return f"{self.product_family_code} ({urlsplit(self.issuer).netloc})"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _url_check(value: Any, *, field: str, max_length: int = 500) -> str:
    """A URL we may call: https (plain http only while DEBUG is on), with a host."""
    if not isinstance(value, str) or not value:
        raise ApplicationError(
            f"The platform's configuration has no `{field}`.",
            code="configuration_incomplete",
            fields={field: "Required."},
        )
    if len(value) > max_length:
        raise ApplicationError(
            f"The platform's `{field}` is longer than {max_length} characters.",
            code="url_too_long",
            fields={field: f"At most {max_length} characters."},
        )
    schemes = ("https", "http") if settings.DEBUG else ("https",)
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        parts = urlsplit("")
    if parts.scheme not in schemes or not parts.hostname:
        raise ApplicationError(
            f"The platform's `{field}` must be an https URL, not {value[:200]!r}.",
            code="insecure_url",
            fields={field: "Must be an https URL."},
        )
    return value


def _platform_call(
    method: str,
    url: str,
    *,
    registration_token: str,
    failure: str,
    code: str,
    json_body: dict[str, Any] | None = None,
) -> requests.Response:
    """Call the platform, with the registration token as a Bearer token when it gave one."""
    headers = {"Accept": "application/json"}
    if registration_token:
        headers["Authorization"] = "Bearer " + registration_token
    try:
        return http().request(
            method,
            url,
            headers=headers,
            json=json_body,
            timeout=settings.LTI_HTTP_TIMEOUT_SECONDS,
            allow_redirects=False,
        )
    except requests.RequestException as error:
        raise ApplicationError(f"{failure}: {error}", code=code, status=502) from error


def _platform_answer(response: requests.Response, *, what: str) -> dict[str, Any]:
    if len(response.content) > MAX_ANSWER_BYTES:
        raise ApplicationError(f"The platform's {what} is larger than 1 MB.", code="too_large")
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ApplicationError(
            f"The platform's {what} is not a JSON object.", code="not_json", status=502
        )
    return body


def platform_configuration_read(
    *, openid_configuration: str, registration_token: str = ""
) -> PlatformConfiguration:
    """Fetch a platform's OpenID configuration and check what registration needs of it."""
    url = _url_check(openid_configuration, field="openid_configuration", max_length=2000)
    response = _platform_call(
        "GET",
        url,
        registration_token=registration_token,
        failure=f"The platform's configuration at {url[:200]} could not be read",
        code="configuration_unreachable",
    )
    if response.status_code != 200:
        raise ApplicationError(
            f"The platform's configuration at {url[:200]} answered {response.status_code}.",
            code="configuration_unreachable",
            status=502,
        )
    body = _platform_answer(response, what="OpenID configuration")
    issuer = _url_check(body.get("issuer"), field="issuer", max_length=255)
    # Dynamic Registration 1.0, 3.5.1: the issuer and the configuration's URL must share
    # their origin, or any site could pose as the platform it names.
    if _origin(issuer) != _origin(url):
        raise ApplicationError(
            f"The platform calls itself {issuer[:200]!r}, which is not where its configuration "
            f"came from ({_origin(url)}); nothing was registered.",
            code="issuer_mismatch",
            fields={"issuer": "Must have the origin of the openid_configuration URL."},
        )
    methods = body.get("token_endpoint_auth_methods_supported")
    if isinstance(methods, list) and "private_key_jwt" not in methods:
        raise ApplicationError(
            "The platform does not accept signed client assertions (private_key_jwt), which "
            "the tool uses for grades and rosters.",
            code="unsupported_auth_method",
        )
    lti = body.get(PLATFORM_CONFIGURATION)
    if not isinstance(lti, dict):
        raise ApplicationError(
            f"The platform's configuration has no LTI platform configuration "
            f"(`{PLATFORM_CONFIGURATION}`): it may not support LTI 1.3 dynamic registration.",
            code="not_an_lti_platform",
            fields={PLATFORM_CONFIGURATION: "Required."},
        )
    family = lti.get("product_family_code")
    if not isinstance(family, str) or not family:
        raise ApplicationError(
            "The platform's LTI configuration has no `product_family_code`.",
            code="configuration_incomplete",
            fields={"product_family_code": "Required."},
        )
    supported = lti.get("messages_supported")
    types = {m.get("type") for m in supported if isinstance(m, dict)} if supported else set()
    audience = body.get("authorization_server")
    return PlatformConfiguration(
        url=url,
        issuer=issuer,
        authorization_endpoint=_url_check(
            body.get("authorization_endpoint"), field="authorization_endpoint"
        ),
        token_endpoint=_url_check(body.get("token_endpoint"), field="token_endpoint"),
        jwks_uri=_url_check(body.get("jwks_uri"), field="jwks_uri"),
        registration_endpoint=_url_check(
            body.get("registration_endpoint"), field="registration_endpoint"
        ),
        token_audience=audience if isinstance(audience, str) else "",
        product_family_code=family[:100],
        version=str(lti.get("version", ""))[:100],
        message_types=frozenset(t for t in types if isinstance(t, str)),
    )


def tool_registration(*, configuration: PlatformConfiguration, tool_origin: str) -> dict[str, Any]:
    """Our client registration request (Dynamic Registration 1.0, 3.5.2) for a platform."""
    launch = tool_origin + reverse("lti:launch")
    messages: list[dict[str, Any]] = [
        {"type": claims.RESOURCE_LINK_REQUEST, "target_link_uri": launch, "label": TOOL_NAME}
    ]
    # A platform that lists its message types gets deep linking only if it takes it.
    if (
        not configuration.message_types
        or claims.DEEP_LINKING_REQUEST in configuration.message_types
    ):
        messages.append(
            {
                "type": claims.DEEP_LINKING_REQUEST,
                "target_link_uri": launch,
                "label": "Add a dropout quiz",
            }
        )
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": tool_origin + reverse("lti:login"),
        "redirect_uris": [launch],
        "client_name": TOOL_NAME,
        "jwks_uri": tool_origin + reverse("lti:jwks"),
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(SCOPES),
        TOOL_CONFIGURATION: {
            "domain": urlsplit(tool_origin).netloc,
            "target_link_uri": launch,
            "description": TOOL_DESCRIPTION,
            "claims": list(LAUNCH_CLAIMS),
            "messages": messages,
        },
    }


@dataclass(frozen=True)
class Registered:
    platform: Platform
    created: bool
    deployment_id: str
    configuration: PlatformConfiguration


def registration_complete(
    *, configuration: PlatformConfiguration, registration_token: str, tool_origin: str
) -> Registered:
    """Post our registration to the platform and store the platform it answers for."""
    response = _platform_call(
        "POST",
        configuration.registration_endpoint,
        registration_token=registration_token,
        json_body=tool_registration(configuration=configuration, tool_origin=tool_origin),
        failure="The platform's registration endpoint did not answer",
        code="registration_unreachable",
    )
    if response.status_code not in (200, 201):
        raise ApplicationError(
            f"The platform refused the registration ({response.status_code}): "
            f"{response.text[:300]}",
            code="registration_refused",
            status=502,
        )
    body = _platform_answer(response, what="registration answer")
    client_id = body.get("client_id")
    if isinstance(client_id, bool) or not isinstance(client_id, str | int) or client_id == "":
        raise ApplicationError(
            "The platform's registration answer has no `client_id`.",
            code="registration_incomplete",
            status=502,
            fields={"client_id": "Required."},
        )
    tool = body.get(TOOL_CONFIGURATION)
    deployment = tool.get("deployment_id") if isinstance(tool, dict) else None
    # Moodle names the deployment it made; Canvas makes one only when the app is added to an
    # account or course, and says nothing here.
    deployment_id = (
        str(deployment)
        if isinstance(deployment, str | int) and not isinstance(deployment, bool) and deployment
        else ""
    )
    platform, created = platform_register(
        issuer=configuration.issuer,
        client_id=str(client_id)[:255],
        deployment_ids=[deployment_id[:255]] if deployment_id else [],
        auth_login_url=configuration.authorization_endpoint,
        auth_token_url=configuration.token_endpoint,
        keyset_url=configuration.jwks_uri,
        token_audience=configuration.token_audience,
        name=configuration.name,
    )
    return Registered(platform, created, deployment_id, configuration)
