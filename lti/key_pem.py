"""A signing key given as a PEM file (LTI_PRIVATE_KEY_FILE): checked at start-up, and
published under its RFC 7638 thumbprint so its `kid` stays the same across restarts.

No Django models here: settings import it before the apps are ready."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ImproperlyConfigured

MIN_KEY_BITS = 2048


def private_key_load(pem: str, *, source: str) -> rsa.RSAPrivateKey:
    """Return the RSA private key in `pem`; ImproperlyConfigured, naming `source`, if it is
    not an unencrypted PEM RSA key of at least MIN_KEY_BITS bits."""
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as error:
        raise ImproperlyConfigured(
            f"{source} must hold an unencrypted PEM private key (RSA, as LTI signs with "
            f"RS256): {error}"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ImproperlyConfigured(
            f"{source} holds a {type(key).__name__}; LTI signs with RS256, which needs RSA."
        )
    if key.key_size < MIN_KEY_BITS:
        raise ImproperlyConfigured(
            f"{source} holds a {key.key_size}-bit RSA key; LTI needs at least {MIN_KEY_BITS}."
        )
    return key


def _b64_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8 or 1, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public_jwk(key: rsa.RSAPrivateKey) -> dict[str, Any]:
    """The public half as a JWK: `kid` is its thumbprint, `use` says signatures (and no
    `key_ops` beside it: RFC 7517 4.3 says not to give both)."""
    numbers = key.public_key().public_numbers()
    jwk = {"kty": "RSA", "n": _b64_uint(numbers.n), "e": _b64_uint(numbers.e)}
    return {**jwk, "kid": thumbprint(jwk), "alg": "RS256", "use": "sig"}


def thumbprint(jwk: dict[str, Any]) -> str:
    """The RFC 7638 SHA-256 thumbprint of an RSA JWK (its e, kty and n, canonical JSON)."""
    members = {name: jwk[name] for name in ("e", "kty", "n")}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()
