"""Property-based tests of the whole REST API against its own OpenAPI schema (schemathesis).

For every operation in the schema and every kind of caller it serves, schemathesis
generates requests from the schema, valid ones (positive) and ones that break it
(negative), and each response must be no 5xx, a documented status, the documented
media type, and a body that matches the documented schema; invalid input must be
refused with a 4xx. The requests run in-process through the WSGI app against a seeded
course; most are aimed at ids that exist, so successes are checked as well as 404s.
Hypothesis is derandomized, so CI runs the same examples every time.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import product
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi import checks

from assessments.answers import AnswerInput
from assessments.models import Question, QuestionType
from assessments.services import attempt_start, attempt_submit, response_save
from courses.models import Course, Enrollment
from grader.exercises import EXERCISES
from grader.services import submission_create
from lms.models import SCOPES, ApiClient, WebhookEndpoint
from practice.instructor_services import practice_items_arrange
from practice.services import session_open, step_answer, step_self_check
from quizsite.wsgi import application
from tests.factories import UserFactory, explain, multiple, numeric, quiz_of, single, two_tier

pytestmark = pytest.mark.django_db

# Who calls each audience's operations; every operation is also tried anonymously.
CALLERS = {
    "learners": ("learner",),
    "grader": ("learner",),
    "analytics": ("instructor", "client"),
    "lms": ("client",),
}
# Per operation and caller; API_PROPERTY_EXAMPLES=500 digs deeper on a developer's machine.
EXAMPLES = int(os.environ.get("API_PROPERTY_EXAMPLES", "50"))
ANONYMOUS_EXAMPLES = 5
SETTINGS = hypothesis.settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    # Schema-built strategies are large and requests are slow next to pure functions.
    suppress_health_check=list(hypothesis.HealthCheck),
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate, hypothesis.Phase.shrink],
)
RESPONSE_CHECKS = [
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]
NEGATIVE_CHECKS = [checks.negative_data_rejection]
# Every operation is exercised; none is left out. (The grader's submit endpoint only
# queues: the test's transaction never commits, so nothing reaches a worker.)
EXCLUDED: dict[str, str] = {}


# The schema /api/v1/schema/ serves (tests/api/test_schema.py fetches it from there),
# generated here because pytest needs the operations before any test runs.
RAW_SCHEMA = json.loads(
    OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True))
)
OPERATIONS = [
    (method.upper(), path, operation["tags"][0])
    for path, item in RAW_SCHEMA["paths"].items()
    for method, operation in item.items()
]
CASES = [
    pytest.param(method, path, caller, id=f"{method} {path} as {caller}")
    for method, path, tag in OPERATIONS
    if f"{method} {path}" not in EXCLUDED
    for caller in (*CALLERS[tag], "anonymous")
]


@dataclass
class World:
    """A seeded course and the credentials of everyone who calls the API."""

    headers: dict[str, dict[str, str]]
    paths: dict[str, list[Any]]
    bodies: dict[str, Any] = field(default_factory=dict)


@pytest.fixture
def keep_the_test_transaction() -> Iterator[None]:
    """Django closes the database connection around each request it serves through the
    WSGI handler, which would end the test's transaction; its test client does the same
    as this."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _answer(question: Question) -> AnswerInput:
    right = [c.id for c in question.choices.all() if c.is_correct]
    if question.qtype in (QuestionType.SINGLE, QuestionType.TRUE_FALSE):
        right = right[:1]
    return AnswerInput(
        choice_ids=right,
        numeric_value=100.0 if question.qtype == QuestionType.NUMERIC else None,
        text="Dropout drops random units in training only."
        if question.qtype == QuestionType.EXPLAIN
        else "",
        confidence=4,
        seconds_spent=30,
    )


def _practise(course: Course, learner: Any, question: Question) -> None:
    """One finished practice session: an item, then an explain-back awaiting review."""
    prompt = explain()
    prompt.key_idea_probes = [["DO-TEST"], ["DO-NOSCALE"]]
    prompt.save(update_fields=["key_idea_probes"])
    others = Question.objects.exclude(id__in=[question.id, prompt.id]).values_list("id", flat=True)
    practice_items_arrange(
        course=course,
        order=[(question.id, True), (prompt.id, True), *((other, False) for other in others)],
    )
    session = session_open(course=course, learner=learner)
    for question_id in (question.id, prompt.id):
        step = session.steps.get(question_id=question_id)
        step_answer(step_id=step.id, learner=learner, answer=_answer(step.prompt))
    step_self_check(step_id=step.id, learner=learner, ideas=[0, 1])


@pytest.fixture
def world(keep_the_test_transaction: None, settings: Any) -> World:
    settings.WEBHOOK_ALLOW_LOOPBACK = True  # no DNS here: webhooks point at 127.0.0.1
    # given: a course with a published quiz of every question type, three learners who
    # submitted an attempt, one of whom has a second one under way, one of whom practised
    # up to an explain-back, and a code submission
    course = Course.objects.create(slug="dropout-101", title="Dropout 101")
    instructor = UserFactory.create(username="teacher")
    course.instructors.add(instructor)
    questions = [single(), multiple(), numeric(), two_tier(), explain()]
    quiz = quiz_of(*questions, course=course)
    learners = [UserFactory.create(username=f"learner-{i}") for i in range(3)]
    submitted = []
    for i, learner in enumerate(learners):
        Enrollment.objects.create(course=course, learner=learner)
        attempt = attempt_start(quiz=quiz, learner=learner)
        for response in attempt.responses.select_related("question")[: i + 2]:
            response_save(
                attempt_id=attempt.id,
                learner=learner,
                slot=response.slot,
                answer=_answer(response.question),
            )
        submitted.append(attempt_submit(attempt_id=attempt.id, learner=learner))
    _practise(course, learners[1], questions[0])
    learner = learners[0]
    in_progress = attempt_start(quiz=quiz, learner=learner)
    exercise = next(iter(EXERCISES))
    submission = submission_create(learner=learner, exercise=exercise, code="x = 1\n")
    client, secret = ApiClient.issue(name="Canvas", scopes=list(SCOPES))
    client.courses.set([course])
    webhook = WebhookEndpoint.objects.create(
        client=client, url="http://127.0.0.1:9/hooks/quiz", secret=WebhookEndpoint.new_secret()
    )
    first = in_progress.responses.select_related("question").get(slot=1)
    return World(
        headers={
            "learner": {"Authorization": f"Token {Token.objects.create(user=learner).key}"},
            "instructor": {"Authorization": f"Token {Token.objects.create(user=instructor).key}"},
            "client": {"Authorization": f"Bearer {secret}"},
            "anonymous": {},
        },
        paths={
            "attempt_id": [in_progress.id, submitted[0].id],
            "slot": [1, 3, 5],
            "submission_id": [submission.id],
            "quiz_id": [quiz.id],
            "course_id": [course.id],
            "webhook_id": [webhook.id],
            "/api/v1/quizzes/{slug}/attempts/": [quiz.slug],
            "/api/v1/exercises/{slug}/": [exercise],
        },
        bodies={
            "PUT /api/v1/attempts/{attempt_id}/responses/{slot}/": (
                {"attempt_id": in_progress.id, "slot": 1},
                {"choices": [_answer(first.question).choice_ids[0]], "confidence": 3},
            ),
            "POST /api/v1/submissions/": (
                {},
                {"exercise": exercise, "code": "def f():\n    return 0\n"},
            ),
            "POST /api/v1/webhooks/": ({}, {"url": "http://127.0.0.1:9/hooks/other"}),
            "PUT /api/v1/courses/{course_id}/roster/": (
                {"course_id": course.id},
                {"members": [{"lms_user_id": "u-1", "role": "learner", "given_name": "Ada"}]},
            ),
        },
    )


def _known_path_parameters(world: World, operation: Any) -> list[dict[str, Any]]:
    """Every combination of existing values for the operation's path parameters."""
    names = [p.name for p in operation.path_parameters]
    values = [world.paths.get(name) or world.paths[operation.path] for name in names]
    return [dict(zip(names, combination, strict=True)) for combination in product(*values)]


def _strategy(world: World, operation: Any) -> st.SearchStrategy[Any]:
    """Cases aimed at existing resources, at arbitrary ids, and with invalid input."""
    known = _known_path_parameters(world, operation)
    strategies = [operation.as_strategy(GenerationMode.POSITIVE, path_parameters=p) for p in known]
    strategies.append(operation.as_strategy(GenerationMode.POSITIVE))
    strategies += [operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=p) for p in known]
    if operation.path_parameters:  # e.g. /api/v1/attempts/abc/: the URL router's own 404
        strategies.append(operation.as_strategy(GenerationMode.NEGATIVE))
    realistic = world.bodies.get(f"{operation.method.upper()} {operation.path}")
    if realistic is not None:
        path_parameters, body = realistic
        strategies.append(
            operation.as_strategy(
                GenerationMode.POSITIVE,
                path_parameters=path_parameters,
                body=body,
                media_type="application/json",
            )
        )
    return st.one_of(strategies)


@pytest.fixture(scope="module")
def api_schema() -> Any:
    """The schema, bound to the WSGI app so that every request is served in-process."""
    schema = schemathesis.openapi.from_dict(RAW_SCHEMA)
    schema.app = application
    return schema


@pytest.mark.parametrize(("method", "path", "caller"), CASES)
def test_the_api_keeps_its_schema(
    world: World, api_schema: Any, method: str, path: str, caller: str
) -> None:
    operation = api_schema[path][method]
    statuses: list[int] = []
    negatives: list[bool] = []

    @hypothesis.settings(
        SETTINGS, max_examples=ANONYMOUS_EXAMPLES if caller == "anonymous" else EXAMPLES
    )
    @hypothesis.given(case=_strategy(world, operation))
    def exercise(case: Any) -> None:
        # when
        case.headers = {**(case.headers or {}), **world.headers[caller]}
        if caller == "anonymous":
            case.headers.pop("Authorization", None)
        response = case.call()
        statuses.append(response.status_code)
        # then
        negative = case.meta is not None and case.meta.generation.mode.is_negative
        negatives.append(negative)
        case.validate_response(
            response,
            checks=[not_a_server_error, *RESPONSE_CHECKS]
            + (NEGATIVE_CHECKS if negative and caller != "anonymous" else []),
        )

    exercise()
    # Not vacuous: requests were made, and callers with access got answers, not only errors.
    assert len(statuses) >= (ANONYMOUS_EXAMPLES if caller == "anonymous" else EXAMPLES) // 2
    if caller == "anonymous":
        # 404: a path the URL router cannot match (/attempts/abc/) never reaches the view.
        assert {401, 403} & set(statuses), statuses
        assert set(statuses) <= {401, 403, 404}, statuses
    else:
        assert any(200 <= code < 300 for code in statuses), statuses
        # Invalid input was sent wherever there is a query or a body to spoil.
        if len(operation.query) > 0 or len(operation.body) > 0:
            assert any(negatives), "no negative case was generated"


def test_every_operation_in_the_schema_is_exercised():
    exercised = {(m, p) for m, p, _ in OPERATIONS if f"{m} {p}" not in EXCLUDED}
    assert len(exercised) + len(EXCLUDED) == len(OPERATIONS) == 27
    assert {(c.values[0], c.values[1]) for c in CASES} == exercised
    for method, path, tag in OPERATIONS:
        callers = {c.values[2] for c in CASES if c.values[:2] == (method, path)}
        assert callers == {*CALLERS[tag], "anonymous"}, (method, path)
