"""What a platform checks of a deep-linking response (1EdTech Deep Linking 2.0, section 4),
for the fake platform: the tool's signature by its published JWKS, the required claims,
`data` returned exactly as sent, and content items within the request's settings."""

from __future__ import annotations

from typing import Any

import jwt

from tests.lti.platform import FakePlatform

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"
REQUIRED = ("iss", "aud", "exp", "iat", "nonce", LTI + "deployment_id", LTI + "message_type",
            LTI + "version")  # fmt: skip
PRESENTATIONS = ("iframe", "window", "embed")


def deep_link_response_read(
    platform: FakePlatform, token: str, settings: dict[str, Any]
) -> dict[str, Any]:
    """Verify `token` as the platform that sent `settings` would; return its claims.

    Every departure from the spec is appended to `platform.errors`."""
    errors = platform.errors
    kid = jwt.get_unverified_header(token).get("kid")
    jwk = next((k for k in platform.tool_jwks["keys"] if k["kid"] == kid), None)
    if jwk is None:
        errors.append(f"deep-linking response: kid {kid!r} is not in the tool's JWKS")
        return {}
    body: dict[str, Any] = jwt.decode(
        token, jwt.PyJWK(jwk).key, algorithms=["RS256"], audience=platform.issuer
    )
    for name in REQUIRED:
        if name not in body:
            errors.append(f"deep-linking response: no {name}")
    if body.get("iss") != platform.client_id:
        errors.append(f"deep-linking response: iss {body.get('iss')!r} is not the client id")
    if body.get(LTI + "deployment_id") != platform.deployment_id:
        errors.append("deep-linking response: deployment_id is not the request's")
    if body.get(LTI + "message_type") != "LtiDeepLinkingResponse":
        errors.append("deep-linking response: message_type")
    if body.get(LTI + "version") != "1.3.0":
        errors.append("deep-linking response: version")
    if "data" in settings:
        if DL + "data" not in body or body[DL + "data"] != settings["data"]:
            errors.append(f"deep-linking response: data {body.get(DL + 'data')!r} not echoed")
        elif type(body[DL + "data"]) is not type(settings["data"]):
            errors.append("deep-linking response: data came back as another JSON type")
    items = body.get(DL + "content_items", [])
    if not isinstance(items, list):
        errors.append("deep-linking response: content_items is not an array")
        return body
    if len(items) > 1 and settings.get("accept_multiple") is not True:
        errors.append("deep-linking response: several items though accept_multiple is not true")
    for item in items:
        _item_check(item, settings, errors)
    return body


def _item_check(item: dict[str, Any], settings: dict[str, Any], errors: list[str]) -> None:
    accepted = settings.get("accept_types", [])
    if item.get("type") not in accepted:
        errors.append(f"content item of type {item.get('type')!r} not in accept_types")
    if item.get("type") == "ltiResourceLink" and not isinstance(item.get("url"), str):
        errors.append("ltiResourceLink without url")
    targets = settings.get("accept_presentation_document_targets", [])
    for target in PRESENTATIONS:
        if target in item and target not in targets:
            errors.append(f"content item presented as {target}, which the platform refused")
    line_item = item.get("lineItem")
    if line_item is None:
        return
    if settings.get("accept_lineitem") is False:
        errors.append("content item carries a lineItem though accept_lineitem is false")
    maximum = line_item.get("scoreMaximum")
    if not isinstance(maximum, int | float) or maximum <= 0:
        errors.append(f"lineItem scoreMaximum {maximum!r} is not a positive number")
