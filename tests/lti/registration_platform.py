"""A fake LMS that supports LTI Dynamic Registration 1.0: the fake platform of platform.py
(same server, keys, login and launch) plus an OpenID configuration and a registration
endpoint that checks the tool's client registration request against the spec's fields.

What it receives is recorded; every way the request falls short of the spec goes into
`registration_errors`, and a request with any of them is refused with a 400, as a platform
would refuse it.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from tests.lti.platform import FakePlatform, Received

CONFIGURATION_PATH = "/.well-known/openid-configuration"
REGISTRATION_PATH = "/lti/registrations"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
MESSAGE_TYPES = ("LtiResourceLinkRequest", "LtiDeepLinkingRequest")


def _absolute(url: Any) -> bool:
    parts = urlsplit(url) if isinstance(url, str) else None
    return bool(parts and parts.scheme in ("https", "http") and parts.netloc)


@dataclass
class RegistrationPlatform(FakePlatform):
    """Start with `start()`; `configuration_url` is what the LMS adds to our URL."""

    registration_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    # Changes to the served configuration (a value of None removes the key).
    configuration_changes: dict[str, Any] = field(default_factory=dict)
    configuration_status: int = 200
    # Whether the registration answer names a deployment (Moodle does; Canvas does not).
    answers_deployment: bool = True
    refuse_registration: bool = False
    registrations: list[dict[str, Any]] = field(default_factory=list)
    registration_errors: list[str] = field(default_factory=list)

    @property
    def configuration_url(self) -> str:
        return self.url(CONFIGURATION_PATH)

    def configuration(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "issuer": self.issuer,
            "authorization_endpoint": self.url("/auth"),
            "token_endpoint": self.url("/token"),
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
            "jwks_uri": self.url("/jwks"),
            "registration_endpoint": self.url(REGISTRATION_PATH),
            "scopes_supported": ["openid"],
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public", "pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": ["iss", "sub", "name", "given_name", "family_name", "email"],
            PLATFORM_CONFIGURATION: {
                "product_family_code": "moodle",
                "version": "4.1.3",
                "messages_supported": [{"type": t} for t in MESSAGE_TYPES],
            },
        }
        for name, value in self.configuration_changes.items():
            if value is None:
                body.pop(name, None)
            else:
                body[name] = value
        return body

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        path = urlsplit(handler.path).path
        if (method, path) not in (("GET", CONFIGURATION_PATH), ("POST", REGISTRATION_PATH)):
            return super()._handle(handler, method)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        self.received.append(Received(method, handler.path, dict(handler.headers), raw.decode()))
        if method == "GET":
            if self.configuration_status != 200:
                return self._reply(handler, self.configuration_status, {"error": "unavailable"})
            return self._reply(handler, 200, self.configuration())
        return self._register(handler, raw)

    def _register(self, handler: BaseHTTPRequestHandler, raw: bytes) -> None:
        """The registration endpoint (Dynamic Registration 1.0, 3.5.2 and 3.6)."""
        errors = self.registration_errors
        count = len(errors)
        if handler.headers.get("Authorization") != "Bearer " + self.registration_token:
            errors.append("registration: the registration token is not the Bearer token")
        if not handler.headers.get("Content-Type", "").startswith("application/json"):
            errors.append("registration: Content-Type is not application/json")
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            errors.append("registration: the body is not a JSON object")
            return self._reply(handler, 400, {"error": "invalid_client_metadata"})
        self.registrations.append(body)
        self._registration_check(body)
        if len(errors) > count or self.refuse_registration:
            return self._reply(
                handler,
                400,
                {"error": "invalid_client_metadata", "error_description": "; ".join(errors)},
            )
        answer = {**body, "client_id": self.client_id}
        tool = dict(body[TOOL_CONFIGURATION])
        if self.answers_deployment:
            tool["deployment_id"] = self.deployment_id
        answer[TOOL_CONFIGURATION] = tool
        return self._reply(handler, 200, answer)

    def _registration_check(self, body: dict[str, Any]) -> None:
        def wrong(what: str) -> None:
            self.registration_errors.append("registration: " + what)

        if body.get("application_type") != "web":
            wrong(f"application_type is {body.get('application_type')!r}, not 'web'")
        if body.get("response_types") != ["id_token"]:
            wrong(f"response_types is {body.get('response_types')!r}, not ['id_token']")
        grants = body.get("grant_types")
        if not isinstance(grants, list) or {"implicit", "client_credentials"} - set(grants):
            wrong(f"grant_types {grants!r} lacks implicit or client_credentials")
        for name in ("initiate_login_uri", "jwks_uri"):
            if not _absolute(body.get(name)):
                wrong(f"{name} {body.get(name)!r} is not an absolute URL")
        redirects = body.get("redirect_uris")
        if not isinstance(redirects, list) or not redirects or not all(map(_absolute, redirects)):
            wrong(f"redirect_uris {redirects!r} is not a list of absolute URLs")
        if not isinstance(body.get("client_name"), str) or not body["client_name"]:
            wrong("client_name is missing")
        if body.get("token_endpoint_auth_method") != "private_key_jwt":
            wrong(f"token_endpoint_auth_method is {body.get('token_endpoint_auth_method')!r}")
        if "scope" in body and not isinstance(body["scope"], str):
            wrong("scope is not a space-separated string")
        tool = body.get(TOOL_CONFIGURATION)
        if not isinstance(tool, dict):
            return wrong(f"{TOOL_CONFIGURATION} is missing")
        domain = tool.get("domain")
        if not isinstance(domain, str) or not domain or "://" in domain:
            wrong(f"domain {domain!r} is not a host name without a scheme")
        target = tool.get("target_link_uri")
        if not _absolute(target):
            wrong(f"target_link_uri {target!r} is not an absolute URL")
        elif urlsplit(target).netloc != domain:
            wrong(f"target_link_uri {target!r} is not on the domain {domain!r}")
        claims = tool.get("claims", [])
        if not isinstance(claims, list) or not {"iss", "sub"} <= set(claims):
            wrong(f"claims {claims!r} must list at least iss and sub")
        for message in tool.get("messages", []):
            if not isinstance(message, dict) or message.get("type") not in MESSAGE_TYPES:
                wrong(f"message {message!r} is not a message type this platform supports")
            elif "target_link_uri" in message and message["target_link_uri"] not in (
                redirects or []
            ):
                wrong(f"message {message['type']} targets a URL not among the redirect_uris")
