"""A refused launch sends the person back to the platform's return URL with lti_errormsg
and lti_errorlog (LTI 1.3 core, launch_presentation.return_url), but only when the URL
came from an id_token whose signature verified; otherwise our own error page."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from lti.models import Context, LaunchState
from tests.lti.conftest import LAUNCH_URL, Launcher
from tests.lti.platform import LTI, rsa_key

PRESENTATION = LTI + "launch_presentation"


def launched(launcher: Launcher, *, key: Any = None, **changes: Any) -> Any:
    """A launch whose claims differ from a valid one by `changes` (None removes a claim)."""
    login = launcher.login()
    body = launcher.platform.claims(nonce=login.nonce, target_link_uri=LAUNCH_URL)
    for name, value in changes.items():
        name = name.replace("LTI_", LTI)
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value
    return launcher.launch(launcher.platform.sign(body, key=key), login.state)


def test_a_refused_verified_launch_goes_back_to_the_platform_with_its_messages(
    launcher: Launcher,
) -> None:
    # given: a signed launch from a deployment we do not know, with a return URL
    return_url = launcher.platform.url("/course/view.php?id=7")
    # when
    response = launched(
        launcher,
        LTI_deployment_id="deployment-unknown",
        LTI_launch_presentation={"return_url": return_url, "document_target": "iframe"},
    )
    # then
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == launcher.platform.url(
        "/course/view.php"
    )
    query = parse_qs(location.query)
    assert set(query) == {"id", "lti_errormsg", "lti_errorlog"}
    assert query["id"] == ["7"]
    assert query["lti_errormsg"] == ["Deployment 'deployment-unknown' is not registered here."]
    assert query["lti_errorlog"] == [
        "Launch refused (unknown_deployment): Deployment 'deployment-unknown' is not "
        "registered here."
    ]
    assert Context.objects.count() == 0


def test_a_refusal_after_the_signature_names_its_reason_for_the_log(launcher: Launcher) -> None:
    response = launched(
        launcher,
        nonce="made-up",
        LTI_launch_presentation={"return_url": launcher.platform.url("/return")},
    )
    assert response.status_code == 302
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["lti_errorlog"][0].startswith("Launch refused (wrong_nonce):")


def test_an_unverified_return_url_is_never_followed(launcher: Launcher) -> None:
    # given: the same claims signed by a key that is not the platform's (under its kid)
    response = launched(
        launcher,
        key=rsa_key(),
        LTI_launch_presentation={"return_url": "https://evil.example/phish"},
    )
    # then: our page, no redirect anywhere
    assert response.status_code == 400
    assert "Location" not in response
    page = response.content.decode()
    assert "bad_signature" in page
    assert "evil.example" not in page


@pytest.mark.parametrize(
    "presentation",
    [
        {"return_url": "javascript:alert(1)"},
        {"return_url": "/relative/path"},
        {"return_url": 42},
        {"document_target": "iframe"},
        None,
    ],
    ids=["javascript", "relative", "not a string", "no return_url", "no claim"],
)
def test_without_a_usable_return_url_our_page_explains(
    launcher: Launcher, presentation: Any
) -> None:
    response = launched(
        launcher, LTI_deployment_id="deployment-unknown", LTI_launch_presentation=presentation
    )
    assert response.status_code == 403
    assert "Location" not in response
    assert "unknown_deployment" in response.content.decode()


def test_a_valid_launch_with_a_return_url_is_not_sent_back(launcher: Launcher) -> None:
    response = launched(
        launcher, LTI_launch_presentation={"return_url": launcher.platform.url("/return")}
    )
    assert response.status_code == 302
    assert "lti_errormsg" not in response["Location"]
    assert LaunchState.objects.get().used_at is not None
