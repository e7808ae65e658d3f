"""Regressions for the 500s hostile input caused on pages, in LTI and in the webhook worker.

Each answered with a 500 (some only on PostgreSQL, where text cannot hold a NUL): an
integer read with str.isdigit() then int() ("²" passes the one and fails the other, and
int() refuses more than 4,300 digits), a NUL sent on to the database, or JSON nested past
Python's recursion limit. Now each is a 4xx naming the field, or the form again with its
error, and changes nothing. The form fuzzer (test_form_fuzzer.py) tries every form.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from assessments.answers import AnswerInput
from assessments.catalog import catalog_load
from assessments.models import Explanation, Question, Response
from assessments.services import attempt_start, attempt_submit, response_save
from courses.models import Course, Enrollment
from lms import webhooks
from lms.models import SCOPES, ApiClient, LmsIdentity, WebhookDelivery
from lti.models import Context, DeepLinkRequest, Deployment, LaunchState, Platform
from practice.instructor_services import practice_items_arrange
from practice.models import ConfusedPair, PracticeStep
from practice.services import session_open
from tests.factories import UserFactory, explain, quiz_of, single
from tests.practice.scripted import ScriptedLearner

pytestmark = pytest.mark.django_db

FIVE_THOUSAND_DIGITS = "9" * 5000
UNUSABLE_NUMBERS = ["²", "٣", FIVE_THOUSAND_DIGITS, "1\x00"]
# In a URL a NUL is refused before any view reads it (see "URLs" below).
UNREADABLE_IN_URLS = ["²", "٣", FIVE_THOUSAND_DIGITS]


def _html(response: Any) -> str:
    return str(response.content.decode())


@pytest.fixture
def client_in(learner: Any) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(learner)
    return client


@pytest.fixture
def course(learner: Any) -> Course:
    course = Course.objects.create(slug="hostile-101", title="Hostile 101")
    Enrollment.objects.create(course=course, learner=learner)
    return course


@pytest.fixture
def attempt(course: Course, learner: Any) -> Any:
    return attempt_start(quiz=quiz_of(single(), explain(), course=course), learner=learner)


def _question(attempt: Any, slot: int = 1) -> str:
    return f"/attempts/{attempt.id}/questions/{slot}/"


def _right(attempt: Any) -> int:
    return int(attempt.responses.get(slot=1).question.choices.get(is_correct=True).id)


def _saved(attempt: Any, slot: int = 1) -> tuple[Any, ...]:
    response = Response.objects.get(attempt=attempt, slot=slot)
    chosen = tuple(response.selected_choices.values_list("id", flat=True))
    return (chosen, response.confidence, response.seconds_spent, response.text)


# --- The quiz's pages ----------------------------------------------------------------------


@pytest.mark.parametrize("value", UNUSABLE_NUMBERS)
def test_a_quiz_answer_refuses_a_choice_it_cannot_read(client_in, attempt, value):
    # given
    before = _saved(attempt)
    # when
    response = client_in.post(_question(attempt), {"choice": value, "confidence": "3"})
    # then
    assert response.status_code == 400
    assert "is not an option of this question" in _html(response)
    assert _saved(attempt) == before


@pytest.mark.parametrize("value", [*UNUSABLE_NUMBERS, "6", "-1"])
def test_a_quiz_answer_refuses_a_confidence_it_cannot_read(client_in, attempt, value):
    # given
    before = _saved(attempt)
    # when
    data = {"choice": _right(attempt), "confidence": value}
    response = client_in.post(_question(attempt), data)
    # then
    assert response.status_code == 400
    assert "Rate your confidence from 0" in _html(response)
    assert _saved(attempt) == before


@pytest.mark.parametrize("value", [*UNUSABLE_NUMBERS, "-1"])
def test_a_quiz_answer_refuses_seconds_spent_it_cannot_read(client_in, attempt, value):
    # given
    before = _saved(attempt)
    # when
    data = {"choice": _right(attempt), "confidence": "3", "seconds_spent": value}
    response = client_in.post(_question(attempt), data)
    # then
    assert response.status_code == 400
    assert "A whole number in digits 0-9." in _html(response)
    assert _saved(attempt) == before


def test_a_quiz_answer_still_counts_a_long_visit_as_the_most_one_save_may(client_in, attempt):
    data = {"choice": _right(attempt), "confidence": "3", "seconds_spent": "86400"}
    assert client_in.post(_question(attempt), data).status_code == 302
    assert _saved(attempt)[2] == 3600


@pytest.mark.parametrize("action", ["goto-²", "goto-٣", "goto-" + FIVE_THOUSAND_DIGITS, "goto-9"])
def test_a_goto_past_the_questions_is_a_form_error_and_saves_nothing(client_in, attempt, action):
    # given
    before = _saved(attempt)
    # when
    data = {"choice": _right(attempt), "confidence": "3", "action": action}
    response = client_in.post(_question(attempt), data)
    # then
    assert response.status_code == 400
    assert "Go to a question from 1 to 2." in _html(response)
    assert _saved(attempt) == before


def test_a_goto_within_the_questions_still_goes_there(client_in, attempt):
    data = {"choice": _right(attempt), "confidence": "3", "action": "goto-2"}
    response = client_in.post(_question(attempt), data)
    assert response.status_code == 302
    assert response["Location"] == _question(attempt, 2)


def test_a_quiz_answer_refuses_text_with_a_nul(client_in, attempt):
    # given
    before = _saved(attempt, 2)
    # when
    response = client_in.post(_question(attempt, 2), {"text": "Units\x00 drop.", "confidence": 3})
    # then
    assert response.status_code == 400
    assert "Null characters are not allowed." in _html(response)
    assert _saved(attempt, 2) == before


@pytest.fixture
def submitted(attempt: Any, learner: Any) -> Any:
    wrong = attempt.responses.get(slot=1).question.choices.filter(is_correct=False).first()
    response_save(
        attempt_id=attempt.id,
        learner=learner,
        slot=1,
        answer=AnswerInput(choice_ids=[wrong.id], confidence=5),
    )
    response_save(
        attempt_id=attempt.id,
        learner=learner,
        slot=2,
        answer=AnswerInput(text="Units are dropped at random.", confidence=4),
    )
    return attempt_submit(attempt_id=attempt.id, learner=learner)


@pytest.mark.parametrize("value", UNUSABLE_NUMBERS)
def test_a_self_assessment_refuses_ideas_it_cannot_read(client_in, submitted, value):
    # when
    url = f"/attempts/{submitted.id}/questions/2/self-assessment/"
    response = client_in.post(url, {"idea": ["0", value]}, follow=True)
    # then
    assert response.status_code == 200
    assert "Tick key ideas from the list." in _html(response)
    assert Response.objects.get(attempt=submitted, slot=2).self_assessed_ideas is None


@pytest.mark.parametrize(
    "data",
    [
        {"misconception": "DO-SPEED", "text": "I thought\x00 so."},
        {"misconception": "DO-SPEED\x00", "text": "I thought so."},
    ],
)
def test_an_explain_back_with_a_nul_is_refused(client_in, submitted, data):
    # when
    url = f"/attempts/{submitted.id}/explanation/"
    response = client_in.post(url, data, follow=True)
    # then
    assert "Null characters are not allowed." in _html(response)
    assert not Explanation.objects.exists()


# --- Guided practice -----------------------------------------------------------------------


def _practice_items(course: Course, *slugs: str) -> None:
    """Load the catalogue; let the course practise only these questions, in this order."""
    catalog_load()
    ids = dict(Question.objects.values_list("slug", "id"))
    order = [(ids[s], True) for s in slugs] + [(i, False) for s, i in ids.items() if s not in slugs]
    practice_items_arrange(course=course, order=order)


def _practice_course(learner: Any, *slugs: str) -> Course:
    course = Course.objects.create(slug="practice-hostile", title="Practice hostile")
    Enrollment.objects.create(course=course, learner=learner)
    _practice_items(course, *slugs)
    return course


def _untouched(step: PracticeStep) -> None:
    step.refresh_from_db()
    assert step.state in ("open", "checking")
    assert step.answered_at is None or step.state == "checking"
    assert step.confidence is None or step.state == "checking"
    assert step.self_assessed_ideas is None
    assert not step.selected_choices.exists()
    assert step.submission_id is None


@pytest.mark.parametrize("field", ["choice", "confidence", "seconds_spent"])
@pytest.mark.parametrize("value", UNUSABLE_NUMBERS)
def test_a_practice_answer_refuses_numbers_it_cannot_read(client_in, learner, field, value):
    # given
    course = _practice_course(learner, "speed-epochs-tf-a")
    step = session_open(course=course, learner=learner).steps.get()
    right = step.prompt.choices.get(is_correct=True).id
    # when
    data = {"choice": right, "confidence": "3", field: value}
    response = client_in.post(f"/practice/steps/{step.id}/answer/", data)
    # then
    assert response.status_code == 400
    assert f'action="/practice/steps/{step.id}/answer/"' in _html(response)
    _untouched(step)


@pytest.mark.parametrize(
    "data", [{"code": "def f():\x00 pass", "confidence": "3"}, {"code": "x = 1", "confidence": "²"}]
)
def test_a_practice_code_step_refuses_a_nul_or_an_unreadable_confidence(client_in, learner, data):
    # given
    course = _practice_course(learner, "code-dropout-forward")
    step = session_open(course=course, learner=learner).steps.get()
    # when
    response = client_in.post(f"/practice/steps/{step.id}/code/", data)
    # then
    assert response.status_code == 400
    assert "Null characters are not allowed." in _html(response) or "Rate your confidence" in _html(
        response
    )
    _untouched(step)


def test_a_practice_explain_back_refuses_text_with_a_nul(client_in, learner):
    # given
    scripted = ScriptedLearner(
        course=_practice_course(learner, "speed-epochs-tf-a", "explain-what-why-a"),
        learner=learner,
    )
    scripted.right()
    step = scripted.pending()
    # when
    data = {"text": "Units\x00 drop at random.", "confidence": "3"}
    response = client_in.post(f"/practice/steps/{step.id}/answer/", data)
    # then
    assert response.status_code == 400
    assert "Null characters are not allowed." in _html(response)
    _untouched(step)
    assert step.text == ""


@pytest.mark.parametrize("value", UNUSABLE_NUMBERS)
def test_a_practice_self_check_refuses_ideas_it_cannot_read(client_in, learner, value):
    # given
    scripted = ScriptedLearner(
        course=_practice_course(learner, "speed-epochs-tf-a", "explain-what-why-a"),
        learner=learner,
    )
    scripted.right()
    step = scripted.answer(AnswerInput(text="Units are dropped at random.", confidence=3))
    # when
    response = client_in.post(f"/practice/steps/{step.id}/self-check/", {"idea": ["0", value]})
    # then
    assert response.status_code == 400
    assert "Tick key ideas from the list." in _html(response)
    assert 'value="0" checked' in _html(response)  # what was readable is kept
    _untouched(step)


# --- The instructor's pages ----------------------------------------------------------------


@pytest.fixture
def teacher(course: Course) -> Any:
    teacher = UserFactory.create(username="teacher")
    course.instructors.add(teacher)
    return teacher


@pytest.fixture
def teacher_in(teacher: Any) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(teacher)
    return client


@pytest.mark.parametrize("page", [*UNREADABLE_IN_URLS, "0", "-1", "abc"])
def test_the_dashboard_refuses_a_page_it_cannot_read(teacher_in, course, page):
    response = teacher_in.get(f"/instructor/courses/{course.id}/", {"page": page})
    assert response.status_code == 400
    assert "page: A whole number from 1 to" in _html(response)


def test_the_dashboard_shows_its_last_page_for_a_page_past_it(teacher_in, course):
    assert teacher_in.get(f"/instructor/courses/{course.id}/?page=99").status_code == 200


@pytest.mark.parametrize("page", [*UNREADABLE_IN_URLS, "0"])
def test_the_explanation_queue_refuses_a_page_it_cannot_read(teacher_in, course, page):
    response = teacher_in.get(f"/instructor/courses/{course.id}/practice/explanations/?page={page}")
    assert response.status_code == 400
    assert "page: A whole number from 1 to" in _html(response)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"ideas": ["0", "²"], "comment": "Good."}, "ideas: Not a key idea."),
        ({"ideas": ["0"], "comment": "Good\x00."}, "comment: Null characters are not allowed."),
        ({"ideas": ["0"], "comment": "Good.", "page": "²"}, "A whole number from 1 to"),
    ],
)
def test_a_review_it_cannot_read_is_refused_and_changes_nothing(
    teacher_in, course, learner, teacher, data, message
):
    # given: a learner's explain-back to review
    _practice_items(course, "speed-epochs-tf-a", "explain-what-why-a")
    scripted = ScriptedLearner(course=course, learner=learner)
    scripted.right()
    step = scripted.explain_fully()
    # when
    url = f"/instructor/courses/{course.id}/practice/explanations/{step.id}/review/"
    response = teacher_in.post(url, data)
    # then
    assert response.status_code == 400
    assert message in _html(response)
    step.refresh_from_db()
    assert step.reviewed_at is None and step.review_comment == ""


@pytest.mark.parametrize("field", ["first", "second"])
def test_a_confused_pair_with_a_nul_is_refused(teacher_in, course, field):
    # given
    catalog_load()
    data = {"first": "DO-SPEED", "second": "DO-DATA"}
    data[field] += "\x00"
    # when
    response = teacher_in.post(f"/instructor/courses/{course.id}/practice/settings/pairs/", data)
    # then
    assert response.status_code == 400
    assert f"{field}: Null characters are not allowed." in _html(response)
    assert not ConfusedPair.objects.exists()


@pytest.mark.parametrize("value", UNUSABLE_NUMBERS)
def test_the_practice_order_refuses_question_ids_it_cannot_read(teacher_in, course, value):
    url = f"/instructor/courses/{course.id}/practice/settings/items/"
    response = teacher_in.post(url, {"question": [value]})
    assert response.status_code == 400
    assert "order: Reload the page: not a question." in _html(response)


# --- URLs ----------------------------------------------------------------------------------


def test_a_nul_in_a_page_query_string_is_a_400_naming_the_parameter(teacher_in, course):
    response = teacher_in.get(f"/instructor/courses/{course.id}/?quiz=1%00")
    assert response.status_code == 400
    assert _html(response) == "quiz: Null characters are not allowed."


@pytest.mark.parametrize("path", ["grades/?learner=%00", "submissions/?learner=a%00"])
def test_a_nul_in_an_api_query_string_is_a_400_in_the_error_shape(course, path):
    # given
    client, token = ApiClient.issue(name="LMS", scopes=list(SCOPES))
    client.courses.set([course])
    api = APIClient(raise_request_exception=False)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    # when
    response = api.get(f"/api/v1/courses/{course.id}/{path}")
    # then
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"learner": "Null characters are not allowed."}
    assert not LmsIdentity.objects.exists()


def test_a_nul_in_a_url_path_is_a_400(client_in):
    assert client_in.get("/lti/continue/ab%00cd/").status_code == 400


@pytest.mark.parametrize("number", ["99999999999999999999", FIVE_THOUSAND_DIGITS])
def test_an_id_in_a_url_past_any_id_is_a_404(client_in, teacher_in, course, number):
    # URLs take ASCII digits only; past the largest id there is nothing (no overflow)
    for client, path in (
        (client_in, f"/attempts/{number}/review/"),
        (client_in, f"/practice/steps/{number}/feedback/"),
        (teacher_in, f"/instructor/courses/{number}/"),
        (teacher_in, f"/instructor/courses/{course.id}/learners/{number}/"),
        (teacher_in, f"/instructor/courses/{course.id}/practice/explanations/{number}/review/"),
    ):
        method = client.post if path.endswith("/review/") and "instructor" in path else client.get
        assert method(path).status_code == 404, path


# --- LTI -----------------------------------------------------------------------------------


@pytest.fixture
def platform(settings: Any) -> Platform:
    settings.LTI_LOGINS_PER_MINUTE = 1_000_000
    platform = Platform.objects.create(
        name="LMS",
        issuer="https://lms.example",
        client_id="tool-1",
        auth_login_url="https://lms.example/auth",
        auth_token_url="https://lms.example/token",
        keyset_url="https://lms.example/jwks",
    )
    Deployment.objects.create(platform=platform, deployment_id="deployment-1")
    return platform


def _login(platform: Platform, **changes: str) -> dict[str, str]:
    return {
        "iss": platform.issuer,
        "client_id": platform.client_id,
        "login_hint": "hint-1",
        "target_link_uri": "http://testserver/lti/launch/",
        "lti_deployment_id": "deployment-1",
        **changes,
    }


@pytest.mark.parametrize("field", ["iss", "client_id", "lti_deployment_id", "login_hint"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_an_lti_login_with_a_nul_is_refused_and_stores_nothing(client, platform, field, method):
    # when
    data = _login(platform, **{field: "x\x00"})
    response = getattr(Client(raise_request_exception=False), method)("/lti/login/", data)
    # then
    assert response.status_code == 400
    assert f"{field}: Null characters are not allowed." in _html(response)
    assert not LaunchState.objects.exists()


@pytest.mark.parametrize("field", ["login_hint", "lti_message_hint"])
def test_an_lti_login_with_a_hint_too_long_to_send_back_stores_no_state(platform, field):
    response = Client().post("/lti/login/", _login(platform, **{field: "h" * 20_000}))
    assert response.status_code == 400
    assert "is longer than 4096 characters" in _html(response)
    assert not LaunchState.objects.exists()


def _state(client: Client, platform: Platform) -> str:
    started = client.post("/lti/login/", _login(platform))
    assert started.status_code == 302
    return dict(parse_qsl(urlsplit(started["Location"]).query))["state"]


def test_an_lti_launch_with_a_nul_is_refused(platform):
    client = Client(raise_request_exception=False)
    state = _state(client, platform)
    response = client.post("/lti/launch/", {"state": state + "\x00", "id_token": "a.b.c"})
    assert response.status_code == 400
    assert "state: Null characters are not allowed." in _html(response)


def test_an_lti_launch_whose_token_nests_json_deeply_is_refused(platform):
    # given: a JWT whose header is "[" * 100000 (PyJWT turns the RecursionError into a
    # DecodeError; this keeps it so)
    client = Client(raise_request_exception=False)
    state = _state(client, platform)
    header = base64.urlsafe_b64encode(b"[" * 100_000).rstrip(b"=").decode()
    # when
    response = client.post("/lti/launch/", {"state": state, "id_token": f"{header}.e30.c2ln"})
    # then
    assert response.status_code == 400
    assert "The id_token is not a JWT" in _html(response)


@pytest.mark.parametrize("value", UNUSABLE_NUMBERS)
def test_a_deep_link_choice_it_cannot_read_shows_the_picker_again(course, value):
    # given: an open deep-linking request for a course linked to a platform
    platform = Platform.objects.create(
        issuer="https://lms.example",
        client_id="tool-1",
        auth_login_url="https://lms.example/auth",
        auth_token_url="https://lms.example/token",
        keyset_url="https://lms.example/jwks",
    )
    deployment = Deployment.objects.create(platform=platform, deployment_id="deployment-1")
    context = Context.objects.create(deployment=deployment, context_id="ctx-1", course=course)
    quiz_of(single(), course=course)
    token = secrets.token_urlsafe(32)
    DeepLinkRequest.objects.create(
        token_hash=hashlib.sha256(token.encode()).hexdigest(),
        deployment=deployment,
        context=context,
        return_url="https://lms.example/return",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    # when
    response = Client(raise_request_exception=False).post(
        f"/lti/deep-link/{token}/", {"quiz": value}
    )
    # then
    assert response.status_code == 400
    assert "Choose one of the quizzes listed." in _html(response)
    assert DeepLinkRequest.objects.get().used_at is None


# --- The webhook worker --------------------------------------------------------------------


@pytest.fixture
def busy_receiver() -> Iterator[tuple[str, list[str]]]:
    """A receiver answering 503 with each Retry-After it is given, in turn."""
    retry_afters: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(503)
            self.send_header("Retry-After", retry_afters.pop(0))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks", retry_afters
    server.shutdown()
    server.server_close()


# Header values are Latin-1: superscripts pass str.isdigit() as "٣" does in forms.
@pytest.mark.parametrize("retry_after", ["²", "³", FIVE_THOUSAND_DIGITS])
def test_a_retry_after_it_cannot_read_leaves_the_delay_to_our_backoff(
    settings, course, busy_receiver, retry_after
):
    # given: an endpoint whose receiver is busy and says when to come back, unreadably
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    url, retry_afters = busy_receiver
    client, _ = ApiClient.issue(name="LMS", scopes=["webhooks:manage"])
    client.courses.set([course])
    endpoint = webhooks.webhook_endpoint_create(client=client, url=url, events=["attempt.scored"])
    delivery = webhooks.webhook_ping(client=client, endpoint_id=endpoint.id)
    retry_afters.append(retry_after)
    # when: the worker makes the try
    delay = webhooks.webhook_delivery_try(delivery_id=delivery.id)
    # then: a retry on our own schedule (half to all of its first step), the try recorded
    assert delay is not None and delay <= settings.WEBHOOK_BACKOFF_BASE_MS / 1000
    delivery = WebhookDelivery.objects.get(id=delivery.id)
    assert delivery.state == WebhookDelivery.State.PENDING
    assert delivery.tries == 1 and delivery.last_status_code == 503


def test_a_retry_after_in_digits_is_still_honoured(settings, course, busy_receiver):
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    url, retry_afters = busy_receiver
    client, _ = ApiClient.issue(name="LMS", scopes=["webhooks:manage"])
    endpoint = webhooks.webhook_endpoint_create(client=client, url=url, events=["attempt.scored"])
    delivery = webhooks.webhook_ping(client=client, endpoint_id=endpoint.id)
    retry_afters.append("120")
    assert webhooks.webhook_delivery_try(delivery_id=delivery.id) == pytest.approx(120, abs=1)


# --- A bank file in the admin --------------------------------------------------------------


def test_a_bank_file_nested_too_deeply_is_a_form_error(client):
    # given: someone allowed to import banks
    author = UserFactory.create(username="author", is_staff=True, is_superuser=True)
    client.force_login(author)
    upload = SimpleUploadedFile("bank.json", b"[" * 100_000, content_type="application/json")
    # when
    response = client.post("/admin/assessments/questionbank/import/", {"file": upload})
    # then
    assert response.status_code == 400
    assert "JSON nested deeper than 64 levels is not accepted." in _html(response)
