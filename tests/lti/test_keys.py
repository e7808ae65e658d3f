"""Our keys: JWKS entries carry `use` and not `key_ops`; a signing key from
LTI_PRIVATE_KEY_FILE signs, is published under its RFC 7638 thumbprint, and a bad file
stops start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.test import Client

from lti import keys
from lti.key_pem import private_key_load, thumbprint
from lti.models import Platform, ToolKey
from lti.platform_client import access_token
from quizsite.env import envfile
from tests.lti.platform import SCOPE_SCORE, FakePlatform

ROOT = Path(__file__).resolve().parents[2]


def pem_of(key: Any, password: bytes | None = None) -> str:
    encryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    ).decode()


@pytest.fixture(scope="module")
def rsa_pem() -> str:
    return pem_of(rsa.generate_private_key(public_exponent=65537, key_size=2048))


def test_the_thumbprint_is_rfc_7638s() -> None:
    # The worked example of RFC 7638, section 3.1.
    jwk = {
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSo"
        "c_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQ"
        "R0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bF"
        "TWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_jwks_entries_carry_use_and_not_key_ops(db: None) -> None:
    # given: a key stored before the fix, with both (PyJWT's to_jwk adds key_ops)
    legacy = keys.key_create()
    ToolKey.objects.filter(id=legacy.id).update(
        public_jwk={**legacy.public_jwk, "key_ops": ["verify"]}
    )
    keys.key_create()
    # when
    published = Client().get("/lti/jwks/").json()["keys"]
    # then
    assert len(published) == 2
    for jwk in published:
        assert jwk["use"] == "sig"
        assert "key_ops" not in jwk
        assert "d" not in jwk


def test_a_key_file_signs_and_is_published_under_its_thumbprint(
    db: None, settings: Any, rsa_pem: str
) -> None:
    # given
    settings.LTI_PRIVATE_KEY_PEM = rsa_pem
    fake = FakePlatform().start().register()  # learns our JWKS, as a platform does
    try:
        # when: the platform verifies our client assertion against that JWKS
        platform = Platform.objects.get(issuer=fake.issuer)
        token = access_token(platform, [SCOPE_SCORE])
        # then
        assert token in fake.tokens
        assert fake.errors == []
    finally:
        fake.stop()
    published = Client().get("/lti/jwks/").json()["keys"]
    [jwk] = published
    assert jwk["kid"] == thumbprint(jwk)
    assert (jwk["alg"], jwk["use"], "key_ops" in jwk, "d" in jwk) == ("RS256", "sig", False, False)
    public = private_key_load(rsa_pem, source="test").public_key()
    assert jwt.PyJWK(jwk).key.public_numbers() == public.public_numbers()
    assert ToolKey.objects.count() == 0, "the database keeps no key"
    assert Client().get("/lti/jwks/").json()["keys"] == published, "the kid is stable"


def test_keys_kept_in_the_database_stay_published_after_the_switch_to_a_file(
    db: None, settings: Any, rsa_pem: str
) -> None:
    old = keys.signing_key()
    settings.LTI_PRIVATE_KEY_PEM = rsa_pem
    kids = [k["kid"] for k in keys.jwks()["keys"]]
    assert kids[1:] == [old.kid]
    assert kids[0] == keys.signing_key().kid != old.kid
    out = StringIO()
    with pytest.raises(CommandError, match="LTI_PRIVATE_KEY_FILE"):
        call_command("lti_rotate_key", stdout=out)
    call_command("lti_rotate_key", retire_older_than_days=-1, stdout=out)
    assert [k["kid"] for k in keys.jwks()["keys"]] == kids[:1]


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda: "not a key", "unencrypted PEM private key"),
        (lambda: pem_of(ec.generate_private_key(ec.SECP256R1())), "needs RSA"),
        (
            # A weak key on purpose: the check must refuse it.
            lambda: pem_of(rsa.generate_private_key(public_exponent=65537, key_size=1024)),  # noqa: S505
            "1024-bit RSA key",
        ),
        (
            lambda: pem_of(
                rsa.generate_private_key(public_exponent=65537, key_size=2048), b"secret"
            ),
            "unencrypted PEM private key",
        ),
    ],
    ids=["garbage", "ec", "rsa-1024", "encrypted"],
)
def test_an_unusable_key_is_refused_naming_the_setting(make: Any, problem: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=problem) as caught:
        private_key_load(make(), source="LTI_PRIVATE_KEY_FILE")
    assert "LTI_PRIVATE_KEY_FILE" in str(caught.value)


def test_a_key_file_that_cannot_be_read_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LTI_PRIVATE_KEY_FILE", str(tmp_path / "missing.pem"))
    with pytest.raises(ImproperlyConfigured, match="LTI_PRIVATE_KEY_FILE: cannot read"):
        envfile("LTI_PRIVATE_KEY_FILE")
    (tmp_path / "binary.pem").write_bytes(b"\xff\xfe\x00")
    monkeypatch.setenv("LTI_PRIVATE_KEY_FILE", str(tmp_path / "binary.pem"))
    with pytest.raises(ImproperlyConfigured, match="is not text"):
        envfile("LTI_PRIVATE_KEY_FILE")
    monkeypatch.setenv("LTI_PRIVATE_KEY_FILE", "")
    assert envfile("LTI_PRIVATE_KEY_FILE") == ""


def _start(key_file: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "DEBUG": "true", "LTI_PRIVATE_KEY_FILE": str(key_file)}
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "-c", "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
         "'quizsite.settings'); django.setup(); from django.conf import settings; "
         "print(len(settings.LTI_PRIVATE_KEY_PEM))"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_start_up_reads_the_key_file_and_stops_on_a_bad_one(tmp_path: Path, rsa_pem: str) -> None:
    good = tmp_path / "tool.pem"
    good.write_text(rsa_pem)
    started = _start(good)
    assert started.returncode == 0, started.stderr[-800:]
    assert started.stdout.strip() == str(len(rsa_pem))
    bad = tmp_path / "bad.pem"
    bad.write_text("-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n")
    stopped = _start(bad)
    assert stopped.returncode != 0
    assert "ImproperlyConfigured: LTI_PRIVATE_KEY_FILE must hold an unencrypted PEM" in (
        stopped.stderr
    )
