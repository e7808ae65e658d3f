"""Fixtures for LTI tests: a started fake platform registered with us, and a launcher."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from tests.lti.platform import FakePlatform

TOOL = "http://testserver"
LAUNCH_URL = TOOL + "/lti/launch/"


@pytest.fixture(autouse=True)
def _login_bound_out_of_the_way(settings: Any) -> None:
    """The tests log in from one address, many a minute; the bound has tests of its own."""
    settings.LTI_LOGINS_PER_MINUTE = 1_000_000


@pytest.fixture
def platform(db: None) -> Iterator[FakePlatform]:
    fake = FakePlatform().start().register()
    yield fake
    fake.stop()


@dataclass
class Login:
    state: str
    nonce: str
    redirect_uri: str
    params: dict[str, str]


@dataclass
class Launcher:
    """Drives a browser (Django's test client) through login initiation and launch."""

    platform: FakePlatform
    client: Client

    def login(self, target_link_uri: str = LAUNCH_URL, **extra: str) -> Login:
        params = {
            "iss": self.platform.issuer,
            "client_id": self.platform.client_id,
            "login_hint": "hint-1",
            "target_link_uri": target_link_uri,
            "lti_message_hint": "message-hint-1",
            "lti_deployment_id": self.platform.deployment_id,
            **extra,
        }
        response = self.client.post("/lti/login/", params)
        assert response.status_code == 302, response.content
        location = urlsplit(response["Location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == self.platform.url("/auth")
        query = {k: v[0] for k, v in parse_qs(location.query).items()}
        return Login(query["state"], query["nonce"], query["redirect_uri"], query)

    def launch(self, id_token: str, state: str) -> Any:
        return self.client.post("/lti/launch/", {"id_token": id_token, "state": state})

    def full(
        self, *, target_link_uri: str = LAUNCH_URL, roles: list[str] | None = None, **claims: Any
    ) -> Any:
        """A whole valid launch (claims may be overridden)."""
        login = self.login(target_link_uri)
        body = self.platform.claims(
            nonce=login.nonce, target_link_uri=target_link_uri, roles=roles, **claims
        )
        return self.launch(self.platform.sign(body), login.state)


@pytest.fixture
def launcher(platform: FakePlatform) -> Launcher:
    return Launcher(platform, Client())
