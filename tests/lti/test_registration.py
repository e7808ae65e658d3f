"""LTI Dynamic Registration 1.0 against a fake LMS that checks our request as the spec says."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.contrib.staticfiles import finders
from django.core import signing
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from core.errors import ApplicationError
from lti.models import Deployment, Platform
from lti.registration import REGISTRATION_URL_SALT, _url_check, registration_url_token
from tests.lti.conftest import Launcher
from tests.lti.registration_platform import (
    PLATFORM_CONFIGURATION,
    REGISTRATION_PATH,
    TOOL_CONFIGURATION,
    RegistrationPlatform,
)

SCOPES = {
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
}


@pytest.fixture(autouse=True)
def _debug(settings: Any) -> None:
    """The fake LMS speaks plain http on loopback, which only DEBUG lets us call (Django's
    test runner turns DEBUG off; the production tests turn it off again)."""
    settings.DEBUG = True


@pytest.fixture
def lms(db: None) -> Iterator[RegistrationPlatform]:
    fake = RegistrationPlatform()
    fake.start()
    yield fake
    fake.stop()


def _url(lms: RegistrationPlatform, token: str | None = None, **params: str) -> str:
    token = token or registration_url_token(valid_days=1)
    query = {
        "openid_configuration": lms.configuration_url,
        "registration_token": lms.registration_token,
        **params,
    }
    return reverse("lti:registration", args=[token]) + "?" + urlencode(query)


def _register(client: Client, lms: RegistrationPlatform, **params: str) -> Any:
    """Open the URL as the LMS does, then press the page's one button."""
    url = _url(lms, **params)
    page = client.get(url)
    assert page.status_code == 200, page.content
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', page.content.decode()))
    return client.post(url, fields)


def _posted(lms: RegistrationPlatform) -> list[str]:
    return [r.path for r in lms.received if r.method == "POST"]


def test_it_registers_the_platform_and_its_deployment(lms: RegistrationPlatform) -> None:
    # given an LMS that opens our registration URL
    client = Client()
    page = client.get(_url(lms))
    # then it shows what asks to register, and nothing is stored or posted yet
    assert page.status_code == 200
    assert "moodle (127.0.0.1:" in page.content.decode()
    assert "version 4.1.3" in page.content.decode()
    assert not Platform.objects.exists() and _posted(lms) == []
    # when the administrator presses the button
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', page.content.decode()))
    done = client.post(_url(lms), fields)
    # then the platform took a registration that meets the spec
    assert done.status_code == 200, done.content
    assert lms.registration_errors == []
    (sent,) = lms.registrations
    assert sent["initiate_login_uri"] == "http://testserver/lti/login/"
    assert sent["redirect_uris"] == ["http://testserver/lti/launch/"]
    assert sent["jwks_uri"] == "http://testserver/lti/jwks/"
    assert set(sent["scope"].split()) == SCOPES
    tool = sent[TOOL_CONFIGURATION]
    assert tool["domain"] == "testserver"
    assert tool["target_link_uri"] == "http://testserver/lti/launch/"
    assert [m["type"] for m in tool["messages"]] == [
        "LtiResourceLinkRequest",
        "LtiDeepLinkingRequest",
    ]
    # and we stored the platform as its configuration describes it, with its deployment
    platform = Platform.objects.get()
    assert (platform.issuer, platform.client_id) == (lms.issuer, lms.client_id)
    assert platform.auth_login_url == lms.url("/auth")
    assert platform.auth_token_url == lms.url("/token")
    assert platform.keyset_url == lms.url("/jwks")
    assert list(platform.deployments.values_list("deployment_id", flat=True)) == ["deployment-1"]
    # and the page says so and closes with the spec's message, from a file (no inline script)
    html = done.content.decode()
    assert "Deployment <code>deployment-1</code> is registered too" in html
    assert 'id="registration-close"' in html and "lti/registration_close" in html
    assert "<script>" not in html
    assert "unsafe-inline" not in done["Content-Security-Policy"]
    assert "X-Frame-Options" not in done


def test_the_close_script_sends_the_close_message_to_the_window_that_opened_us() -> None:
    path = finders.find("lti/registration_close.js")
    assert path is not None
    script = Path(path).read_text()
    assert '{ subject: "org.imsglobal.lti.close" }' in script
    assert "(window.opener || window.parent).postMessage" in script


def test_a_registered_platform_launches(lms: RegistrationPlatform) -> None:
    # given a platform registered only through dynamic registration
    assert _register(Client(), lms).status_code == 200
    # when a learner launches from it
    response = Launcher(lms, Client()).full()
    # then the launch passes every check against what we stored
    assert response.status_code == 302, response.content


def test_registering_again_updates_the_same_platform(lms: RegistrationPlatform) -> None:
    _register(Client(), lms)
    _register(Client(), lms)
    assert Platform.objects.count() == 1 and Deployment.objects.count() == 1


def test_it_registers_without_a_deployment_when_the_lms_names_none(
    lms: RegistrationPlatform,
) -> None:
    # given an LMS that, as Canvas does, makes the deployment later
    lms.answers_deployment = False
    # when it registers
    done = _register(Client(), lms)
    # then the platform is stored, and the page says what is still needed
    assert done.status_code == 200
    assert Platform.objects.filter(client_id=lms.client_id).exists()
    assert not Deployment.objects.exists()
    assert "did not name a deployment yet" in done.content.decode()


def test_a_platform_registered_without_a_deployment_takes_the_one_it_first_launches_with(
    lms: RegistrationPlatform,
) -> None:
    # given an LMS registered, as Canvas does, before it made the deployment
    lms.answers_deployment = False
    _register(Client(), lms)
    # when a learner launches from it (a launch the platform signed, naming its deployment)
    response = Launcher(lms, Client()).full()
    # then that deployment is the platform's, and a launch naming another is still refused
    assert response.status_code == 302, response.content
    assert list(Deployment.objects.values_list("deployment_id", flat=True)) == [lms.deployment_id]
    elsewhere: dict[str, Any] = {
        "https://purl.imsglobal.org/spec/lti/claim/deployment_id": "someone-elses"
    }
    other = Launcher(lms, Client()).full(**elsewhere)
    assert other.status_code == 403


def test_deep_linking_is_offered_only_to_a_platform_that_takes_it(
    lms: RegistrationPlatform,
) -> None:
    lms.configuration_changes = {
        PLATFORM_CONFIGURATION: {
            "product_family_code": "canvas",
            "version": "cloud",
            "messages_supported": [{"type": "LtiResourceLinkRequest"}],
        }
    }
    _register(Client(), lms)
    (sent,) = lms.registrations
    assert [m["type"] for m in sent[TOOL_CONFIGURATION]["messages"]] == ["LtiResourceLinkRequest"]


def _refused(response: Any, status: int, code: str) -> str:
    assert response.status_code == status, response.content
    html = response.content.decode()
    assert f"<code>{code}</code>" in html and "Nothing was registered." in html
    assert not Platform.objects.exists() and not Deployment.objects.exists()
    return html


def test_a_refused_registration_is_shown_and_stores_nothing(lms: RegistrationPlatform) -> None:
    lms.refuse_registration = True
    html = _refused(_register(Client(), lms), 502, "registration_refused")
    assert "The platform refused the registration (400)" in html


def test_a_wrong_registration_token_is_refused_by_the_platform(
    lms: RegistrationPlatform,
) -> None:
    _refused(
        _register(Client(), lms, registration_token="not-the-token"), 502, "registration_refused"
    )
    assert lms.registration_errors == [
        "registration: the registration token is not the Bearer token"
    ]


def test_an_issuer_from_another_origin_is_refused(lms: RegistrationPlatform) -> None:
    # given a configuration that names a platform elsewhere than where it was served
    lms.configuration_changes = {"issuer": f"http://localhost:{lms.port}"}
    # then nothing is posted to it and nothing stored
    html = _refused(Client().get(_url(lms)), 400, "issuer_mismatch")
    assert "which is not where its configuration came from" in html
    assert _posted(lms) == []


@pytest.mark.parametrize(
    "missing",
    [
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "registration_endpoint",
        PLATFORM_CONFIGURATION,
    ],
)
def test_a_configuration_without_what_registration_needs_is_refused(
    lms: RegistrationPlatform, missing: str
) -> None:
    lms.configuration_changes = {missing: None}
    html = _refused(Client().get(_url(lms)), 400, _code_for(missing))
    assert missing in html


def _code_for(missing: str) -> str:
    return (
        "not_an_lti_platform" if missing == PLATFORM_CONFIGURATION else "configuration_incomplete"
    )


def test_a_configuration_without_product_family_code_is_refused(
    lms: RegistrationPlatform,
) -> None:
    lms.configuration_changes = {PLATFORM_CONFIGURATION: {"version": "4.1"}}
    _refused(Client().get(_url(lms)), 400, "configuration_incomplete")


def test_a_platform_without_signed_client_assertions_is_refused(
    lms: RegistrationPlatform,
) -> None:
    lms.configuration_changes = {"token_endpoint_auth_methods_supported": ["client_secret_basic"]}
    _refused(Client().get(_url(lms)), 400, "unsupported_auth_method")


def test_an_unreachable_configuration_is_shown(lms: RegistrationPlatform) -> None:
    lms.configuration_status = 503
    html = _refused(Client().get(_url(lms)), 502, "configuration_unreachable")
    assert "answered 503" in html


def test_a_configuration_nobody_answers_is_shown(lms: RegistrationPlatform) -> None:
    # given an address where no server listens any more
    gone = RegistrationPlatform()
    gone.start()
    gone.stop()
    url = _url(lms, openid_configuration=gone.configuration_url)
    _refused(Client().get(url), 502, "configuration_unreachable")


def test_plain_http_is_refused_in_production(lms: RegistrationPlatform, settings: Any) -> None:
    settings.DEBUG = False
    html = _refused(Client().get(_url(lms)), 400, "insecure_url")
    assert "must be an https URL" in html
    assert lms.received == []


def test_https_endpoints_are_required_in_production_too(
    lms: RegistrationPlatform, settings: Any
) -> None:
    # given an https configuration URL whose registration endpoint is plain http
    settings.DEBUG = False
    with pytest.raises(ApplicationError, match="registration_endpoint"):
        _url_check("http://lms.example.edu" + REGISTRATION_PATH, field="registration_endpoint")
    assert _url_check("https://lms.example.edu/r", field="registration_endpoint")


def test_a_malformed_configuration_url_is_refused(lms: RegistrationPlatform) -> None:
    url = _url(lms, openid_configuration="http://[::1/.well-known/openid-configuration")
    _refused(Client().get(url), 400, "insecure_url")
    assert lms.received == []


def test_a_url_we_did_not_sign_is_refused_before_anything_is_fetched(
    lms: RegistrationPlatform,
) -> None:
    forged = registration_url_token(valid_days=1)[:-2] + "xx"
    _refused(Client().get(_url(lms, token=forged)), 403, "registration_url_invalid")
    assert lms.received == []


def test_an_expired_registration_url_is_refused(lms: RegistrationPlatform) -> None:
    expired = signing.dumps({"until": int(time.time()) - 1}, salt=REGISTRATION_URL_SALT)
    html = _refused(Client().get(_url(lms, token=expired)), 403, "registration_url_expired")
    assert "has expired" in html
    assert lms.received == []


def test_a_url_opened_without_the_lms_asks_to_paste_it_in_the_lms(db: None) -> None:
    url = reverse("lti:registration", args=[registration_url_token(valid_days=1)])
    html = _refused(Client().get(url), 400, "missing_openid_configuration")
    assert "Open this URL from your LMS" in html


def test_the_command_prints_a_url_that_registers(lms: RegistrationPlatform) -> None:
    out = io.StringIO()
    call_command("lti_registration_url", tool_url="http://testserver/", days=3, stdout=out)
    url = out.getvalue().splitlines()[0]
    assert url.startswith("http://testserver/lti/register/")
    query = urlencode(
        {
            "openid_configuration": lms.configuration_url,
            "registration_token": lms.registration_token,
        }
    )
    page = Client().get(url.removeprefix("http://testserver") + "?" + query)
    assert page.status_code == 200 and "Register the tool" in page.content.decode()
