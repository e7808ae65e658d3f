"""Logins lock out after repeated wrong passwords (per username and address); a password
reset by e-mail works end to end and lifts the lockout."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.utils import timezone

pytestmark = pytest.mark.django_db

PASSWORD = "pass-word-123"
SCHOOL_NAT = "203.0.113.10"


@pytest.fixture(autouse=True)
def _lockout(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


def _log_in(client: Client, username: str, password: str):
    return client.post("/accounts/login/", {"username": username, "password": password})


def _logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_five_wrong_passwords_lock_the_account_and_the_right_one_is_refused():
    # given
    User.objects.create_user("ada", password=PASSWORD)
    browser = Client(REMOTE_ADDR=SCHOOL_NAT)
    # when: four wrong passwords are only wrong passwords
    for _ in range(4):
        wrong = _log_in(browser, "ada", "nope")
        assert wrong.status_code == 200
        assert "Please enter a correct username and password" in wrong.content.decode()
    # the fifth locks the account out
    locked = _log_in(browser, "ada", "nope")
    assert locked.status_code == 429
    # then: the right password is refused while locked, with a page that says why and how long
    right = _log_in(browser, "ada", PASSWORD)
    assert right.status_code == 429
    assert not _logged_in(browser)
    page = right.content.decode()
    assert "Too many wrong passwords" in page
    assert "for 15 minutes" in page
    assert 'href="/accounts/password-reset/"' in page
    assert right["Retry-After"] == str(15 * 60)


def test_thirty_wrong_passwords_then_the_right_one_does_not_log_in():
    # The probe's case: it used to log in.
    User.objects.create_user("ada", password=PASSWORD)
    browser = Client(REMOTE_ADDR=SCHOOL_NAT)
    for _ in range(30):
        _log_in(browser, "ada", "guess")
    assert _log_in(browser, "ada", PASSWORD).status_code == 429
    assert not _logged_in(browser)


def test_the_admin_login_is_locked_out_too():
    User.objects.create_superuser("root", password=PASSWORD)
    browser = Client(REMOTE_ADDR=SCHOOL_NAT)
    for _ in range(5):
        browser.post("/admin/login/", {"username": "root", "password": "nope"})
    response = browser.post("/admin/login/", {"username": "root", "password": PASSWORD})
    assert response.status_code == 429
    assert not _logged_in(browser)


def test_a_class_behind_one_nat_address_is_not_locked_out_by_one_learner():
    # given: one learner locked out from the school's single public address
    for name in ("ada", "grace", "alan"):
        User.objects.create_user(name, password=PASSWORD)
    for _ in range(5):
        _log_in(Client(REMOTE_ADDR=SCHOOL_NAT), "ada", "nope")
    # then: classmates behind the same address log in (the lock is per username and address)
    for name in ("grace", "alan"):
        classmate = Client(REMOTE_ADDR=SCHOOL_NAT)
        assert _log_in(classmate, name, PASSWORD).status_code == 302
        assert _logged_in(classmate)
    # and the locked learner from home (another address) is not locked either: an attacker
    # guessing from elsewhere cannot lock a teacher out of their own network
    home = Client(REMOTE_ADDR="198.51.100.7")
    assert _log_in(home, "ada", PASSWORD).status_code == 302


def test_a_hundred_and_twenty_learners_log_in_from_one_address():
    # The benchmark's case (tests/benchmarks/quiz_answering.py): a class logging in at once,
    # some mistyping first.
    names = [f"learner-{i}" for i in range(120)]
    User.objects.bulk_create([User(username=n) for n in names])
    for user in User.objects.filter(username__in=names):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    for i, name in enumerate(names):
        browser = Client(REMOTE_ADDR=SCHOOL_NAT)
        if i % 3 == 0:
            _log_in(browser, name, "typo")
        assert _log_in(browser, name, PASSWORD).status_code == 302, name


def test_the_lockout_ends_after_the_cool_off():
    User.objects.create_user("ada", password=PASSWORD)
    browser = Client(REMOTE_ADDR=SCHOOL_NAT)
    for _ in range(5):
        _log_in(browser, "ada", "nope")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert _log_in(browser, "ada", PASSWORD).status_code == 302


def test_a_success_forgets_earlier_failures():
    User.objects.create_user("ada", password=PASSWORD)
    browser = Client(REMOTE_ADDR=SCHOOL_NAT)
    for _ in range(4):
        _log_in(browser, "ada", "nope")
    assert _log_in(browser, "ada", PASSWORD).status_code == 302
    browser.post("/accounts/logout/")
    for _ in range(4):
        _log_in(browser, "ada", "nope")
    assert _log_in(browser, "ada", PASSWORD).status_code == 302


def _reset_link(message: mail.EmailMessage) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/reset/[^\s]+/)", str(message.body))
    assert match, message.body
    return match.group(1)


def test_a_password_reset_works_end_to_end_and_lifts_the_lockout():
    # given: a learner with an e-mail address, locked out after five wrong passwords
    User.objects.create_user("ada", email="ada@example.edu", password=PASSWORD)
    browser = Client(REMOTE_ADDR=SCHOOL_NAT)
    for _ in range(5):
        _log_in(browser, "ada", "nope")
    assert _log_in(browser, "ada", PASSWORD).status_code == 429
    # when: asking for a reset from the login page's link
    login_page = browser.get("/accounts/login/").content.decode()
    assert 'href="/accounts/password-reset/"' in login_page
    form = browser.get("/accounts/password-reset/")
    assert form.status_code == 200
    assert 'autocomplete="email"' in form.content.decode()
    sent = browser.post("/accounts/password-reset/", {"email": "ada@example.edu"})
    assert sent.status_code == 302 and sent["Location"] == "/accounts/password-reset/sent/"
    assert "Check your e-mail" in browser.get(sent["Location"]).content.decode()
    # then: one e-mail with a one-time link
    [message] = mail.outbox
    assert message.to == ["ada@example.edu"]
    assert message.subject == "Your password for Dropout diagnostics"
    link = _reset_link(message)
    # when: following it and choosing a new password
    opened = browser.get(link)
    assert opened.status_code == 302  # Django swaps the token for a session key
    choose = browser.get(opened["Location"])
    assert "Choose a new password" in choose.content.decode()
    assert 'autocomplete="new-password"' in choose.content.decode()
    mismatch = browser.post(
        opened["Location"],
        {"new_password1": "a-new-long-secret-9", "new_password2": "something-else-9"},
    )
    assert mismatch.status_code == 200
    assert 'aria-invalid="true"' in mismatch.content.decode()
    done = browser.post(
        opened["Location"],
        {"new_password1": "a-new-long-secret-9", "new_password2": "a-new-long-secret-9"},
    )
    assert done.status_code == 302 and done["Location"] == "/accounts/reset/done/"
    assert "Your password is set" in browser.get(done["Location"]).content.decode()
    # then: the lockout is lifted, the new password logs in and the old one does not
    assert not AccessAttempt.objects.filter(username="ada").exists()
    assert _log_in(Client(REMOTE_ADDR=SCHOOL_NAT), "ada", PASSWORD).status_code == 200
    fresh = Client(REMOTE_ADDR=SCHOOL_NAT)
    assert _log_in(fresh, "ada", "a-new-long-secret-9").status_code == 302
    assert _logged_in(fresh)
    # and the link works once
    again = browser.get(link, follow=True)
    assert "This link has expired or was already used" in again.content.decode()


def test_a_reset_for_an_unknown_address_says_the_same_and_sends_nothing():
    User.objects.create_user("lti-learner", email="lti@example.edu")  # no usable password
    browser = Client()
    for address in ("nobody@example.edu", "lti@example.edu"):
        sent = browser.post("/accounts/password-reset/", {"email": address})
        assert sent.status_code == 302 and sent["Location"] == "/accounts/password-reset/sent/"
    assert mail.outbox == []


def test_a_malformed_address_is_a_form_error():
    response = Client().post("/accounts/password-reset/", {"email": "not an address"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'role="alert"' in page and 'aria-invalid="true"' in page
    assert mail.outbox == []
