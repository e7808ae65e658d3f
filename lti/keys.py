"""Our RSA keys: create, rotate (the old key stays published), sign, publish as a JWKS."""

from __future__ import annotations

import json
import secrets
import time
from datetime import datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.db import transaction
from django.utils import timezone

from lti.models import ToolKey

KEY_BITS = 2048


def key_create() -> ToolKey:
    """Make a new key pair; it signs from now on, and older keys stay in the JWKS."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    kid = timezone.now().strftime("%Y%m%d") + "-" + secrets.token_hex(6)
    jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    jwk.update({"kid": kid, "alg": "RS256", "use": "sig"})
    return ToolKey.objects.create(kid=kid, private_key_pem=pem, public_jwk=jwk)


def keys_retire(*, older_than: datetime) -> int:
    """Stop publishing keys created before `older_than`, never the signing key."""
    signing = signing_key()
    return (
        ToolKey.objects.filter(retired_at__isnull=True, created_at__lt=older_than)
        .exclude(id=signing.id)
        .update(retired_at=timezone.now())
    )


def signing_key() -> ToolKey:
    """The newest unretired key, made on first use."""
    key = ToolKey.objects.filter(retired_at__isnull=True).first()
    if key is not None:
        return key
    with transaction.atomic():
        key = ToolKey.objects.select_for_update().filter(retired_at__isnull=True).first()
        return key or key_create()


def jwks() -> dict[str, list[dict[str, Any]]]:
    """Every unretired public key: what platforms verify our messages with."""
    signing_key()
    return {"keys": [k.public_jwk for k in ToolKey.objects.filter(retired_at__isnull=True)]}


def sign(claims: dict[str, Any], *, lifetime: int = 300) -> str:
    """An RS256 JWT of `claims` with `iat` and `exp`, headed by our signing key's `kid`."""
    key = signing_key()
    now = int(time.time())
    body = {"iat": now, "exp": now + lifetime, **claims}
    return jwt.encode(body, key.private_key_pem, algorithm="RS256", headers={"kid": key.kid})
