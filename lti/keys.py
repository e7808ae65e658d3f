"""Our RSA keys: create, rotate (the old key stays published), sign, publish as a JWKS.

The signing key is the one in LTI_PRIVATE_KEY_FILE when that is set (read and checked at
start-up, for deployments that keep secrets out of the database; it is published under
its thumbprint), otherwise the newest unretired key in the database, made on first use.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from lti.key_pem import private_key_load, public_jwk
from lti.models import ToolKey

KEY_BITS = 2048


@dataclass(frozen=True)
class SigningKey:
    """The key our messages are signed with, wherever it is kept."""

    kid: str
    private_key_pem: str
    public_jwk: dict[str, Any]


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
    jwk = _published({**jwk, "kid": kid, "alg": "RS256", "use": "sig"})
    return ToolKey.objects.create(kid=kid, private_key_pem=pem, public_jwk=jwk)


def key_file_configured() -> bool:
    """Whether the signing key comes from LTI_PRIVATE_KEY_FILE rather than the database."""
    return bool(settings.LTI_PRIVATE_KEY_PEM)


@lru_cache(maxsize=2)
def _file_key(pem: str) -> SigningKey:
    jwk = public_jwk(private_key_load(pem, source="LTI_PRIVATE_KEY_FILE"))
    return SigningKey(kid=jwk["kid"], private_key_pem=pem, public_jwk=jwk)


def _database_key() -> ToolKey:
    """The newest unretired key in the database, made on first use."""
    key = ToolKey.objects.filter(retired_at__isnull=True).first()
    if key is not None:
        return key
    with transaction.atomic():
        key = ToolKey.objects.select_for_update().filter(retired_at__isnull=True).first()
        return key or key_create()


def keys_retire(*, older_than: datetime) -> int:
    """Stop publishing database keys created before `older_than`, never the signing key."""
    rows = ToolKey.objects.filter(retired_at__isnull=True, created_at__lt=older_than)
    if not key_file_configured():
        rows = rows.exclude(id=_database_key().id)
    return rows.update(retired_at=timezone.now())


def signing_key() -> SigningKey:
    """The key that signs: the configured file's, else the database's newest."""
    if key_file_configured():
        return _file_key(settings.LTI_PRIVATE_KEY_PEM)
    key = _database_key()
    return SigningKey(kid=key.kid, private_key_pem=key.private_key_pem, public_jwk=key.public_jwk)


def _published(jwk: dict[str, Any]) -> dict[str, Any]:
    """`use` or `key_ops`, not both (RFC 7517 4.3); keys stored before this had both."""
    if "use" in jwk:
        return {name: value for name, value in jwk.items() if name != "key_ops"}
    return dict(jwk)


def jwks() -> dict[str, list[dict[str, Any]]]:
    """Every public key platforms may verify our messages with: the signing key first, then
    the database's unretired keys (after a switch to the file, until they are retired)."""
    signing = signing_key()
    stored = [
        _published(k.public_jwk)
        for k in ToolKey.objects.filter(retired_at__isnull=True)
        if k.kid != signing.kid
    ]
    return {"keys": [_published(signing.public_jwk), *stored]}


def sign(claims: dict[str, Any], *, lifetime: int = 300) -> str:
    """An RS256 JWT of `claims` with `iat` and `exp`, headed by our signing key's `kid`."""
    key = signing_key()
    now = int(time.time())
    body = {"iat": now, "exp": now + lifetime, **claims}
    return jwt.encode(body, key.private_key_pem, algorithm="RS256", headers={"kid": key.kid})
