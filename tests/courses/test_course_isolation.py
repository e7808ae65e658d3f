"""A course's data stays in its course: every instructor URL and every admin page of
per-course rows, tried by an instructor of another course who is staff, in both roles'
groups and holds every model permission of our apps, answers 404 or 403 (the admin's
lists: nothing listed) and shows nothing of the course; the course's own instructor gets
through; superusers see every course; only superusers delete learners' work.

The URLs come from the URLconf, so a new one is tried without being listed here; a URL
that is not an instructor's must be named in NOT_INSTRUCTOR, and a model registered in the
admin must be classified below, or a test fails.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.authentication import SessionAuthentication

from assessments.models import Attempt, Explanation, Quiz, Response
from courses.models import Course, Enrollment
from courses.roles import BANK_AUTHORS, INSTRUCTORS, role_group
from lms.auth import ApiClientAuthentication
from lms.report_access import InstructorOrClientApi
from practice.models import (
    BktParameters,
    ConfusedPair,
    Mastery,
    PracticeItem,
    PracticeSession,
    PracticeSettings,
    PracticeStep,
)
from tests.factories import UserFactory, code, quiz_of, single

pytestmark = pytest.mark.django_db

OUR_APPS = ("courses", "assessments", "grader", "practice", "analytics", "lms", "lti")
INSTRUCTOR_NAMESPACES = ("analytics", "practice_instructor")
# A route naming one of these is about a course's data, whatever its namespace.
COURSE_PARAMETERS = {"course_id", "quiz_id"}
# Every other route, and why it is not an instructor's.
NOT_INSTRUCTOR = {
    # Accounts.
    "login", "logout", "password_reset", "password_reset_done", "password_reset_confirm",
    "password_reset_complete",
    # A learner's own quizzes, attempts and results: their owner's alone.
    "assessments:my_quizzes", "assessments:quiz_start", "assessments:question",
    "assessments:review", "assessments:submit", "assessments:results",
    "assessments:explanation", "assessments:self_assessment",
    "api:quiz_list", "api:attempt_start", "api:attempt_detail", "api:response_save",
    "api:attempt_submit", "api:attempt_result",
    # Coding exercises and a learner's own submissions.
    "grader:exercise_list", "grader:exercise_detail", "api:exercise_list",
    "api:exercise_detail", "api:submission_create", "api:submission_detail",
    # A learner's own practice (the course's pages are tried: they name the course).
    "practice:courses", "practice:step_answer", "practice:step_code", "practice:step_status",
    "practice:step_self_check", "practice:step_feedback", "practice:session_stop",
    # API clients' own things (their course routes are tried: they name the course).
    "api:lms_course_list", "api:lms_webhooks", "api:lms_webhook",
    "api:lms_webhook_deliveries", "api:lms_webhook_test",
    # The API's description, and the LTI handshake and a linked quiz's front page.
    "api:schema", "api:docs", "lti:jwks", "lti:login", "lti:launch",
    "lti:deep_link_choose", "lti:handoff", "lti:quiz",
    # A platform registering the tool (a signed link, no course), and operations' probes.
    "lti:registration", "healthz", "readyz", "metrics",
}  # fmt: skip
# Tables the CSV routes take.
TABLES = {"analytics:course_csv": "heatmap", "analytics:quiz_statistics_csv": "items"}

# The admin: every registered model of our apps is one of these.
CATALOGUE = {"assessments.misconception", "assessments.question", "assessments.questionbank"}
SCOPED = {
    "courses.course",
    "assessments.quiz",
    "assessments.attempt",
    "assessments.explanation",
    "practice.bktparameters",
    "practice.confusedpair",
    "practice.practiceitem",
    "practice.practicesettings",
    "practice.mastery",
    "practice.practicesession",
}
# Learners' work (and what would change it unseen): only superusers delete.
SUPERUSERS_DELETE = {
    "courses.course",
    "assessments.attempt",
    "assessments.explanation",
    "practice.practicesettings",
    "practice.mastery",
    "practice.practicesession",
}
SUPERUSERS_ONLY = {
    "lms.apiclient",
    "lms.lmsidentity",
    "lms.webhookendpoint",
    "lms.webhookdelivery",
    "lti.platform",
    "lti.toolkey",
    "lti.context",
    "lti.resourcelink",
    "lti.passback",
    "grader.verdictdelivery",
}


@dataclass
class Alpha:
    """Course A, with one of everything a course holds."""

    course: Course
    teacher: Any
    learner: Any
    quiz: Quiz
    attempt: Attempt
    explanation: Explanation
    session: PracticeSession
    step: PracticeStep
    pair: ConfusedPair
    rows: dict[str, Any]  # per admin model label, a row of course A

    markers = (
        "Alpha Secret Course",
        "alpha-secret",
        "alpha-learner",
        "Alpha secret quiz",
        "alpha explanation text",
        "alpha explain-back text",
    )


def _attempt(quiz: Quiz, learner: Any) -> Attempt:
    question = quiz.sections.get().bank.questions.get()
    now = timezone.now()
    attempt = Attempt.objects.create(
        quiz=quiz, learner=learner, number=1, seed=1, state=Attempt.State.SUBMITTED,
        started_at=now, submitted_at=now, score=Decimal(0), max_score=Decimal(1),
    )  # fmt: skip
    wrong = question.choices.get(text="Wrong A")  # it reveals DO-SPEED
    response = Response.objects.create(
        attempt=attempt, slot=1, structural_slot=1, question=question, confidence=5,
        mark=Decimal(0), max_mark=Decimal(1), is_correct=False, answered_at=now,
    )  # fmt: skip
    response.selected_choices.add(wrong)
    response.misconceptions.set(wrong.misconceptions.all())
    return attempt


@pytest.fixture
def alpha() -> Alpha:
    # given course A: a quiz taken by its learner, an explanation, a practice session ending
    # in an explain-back awaiting review, its practice settings and parameters
    course = Course.objects.create(slug="alpha-secret", title="Alpha Secret Course")
    teacher = UserFactory.create(username="alpha-teacher", is_staff=True)
    course.instructors.add(teacher)
    learner = UserFactory.create(username="alpha-learner")
    Enrollment.objects.create(course=course, learner=learner)
    question = single()
    quiz = quiz_of(question, course=course, title="Alpha secret quiz", slug="alpha-secret-quiz")
    attempt = _attempt(quiz, learner)
    speed = code("DO-SPEED")
    explanation = Explanation.objects.create(
        attempt=attempt, misconception=speed, text="alpha explanation text"
    )
    now = timezone.now()
    session = PracticeSession.objects.create(
        course=course, learner=learner, state=PracticeSession.State.FINISHED, started_at=now,
        ended_at=now, agenda=["DO-SPEED"],
    )  # fmt: skip
    step = PracticeStep.objects.create(
        session=session, number=1, kind=PracticeStep.Kind.EXPLAIN_BACK,
        state=PracticeStep.State.DONE, target=speed, reason="Explain it back.",
        text="alpha explain-back text", answered_at=now, self_assessed_ideas=[0],
    )  # fmt: skip
    first, second = sorted((code("DO-DATA"), speed), key=lambda m: m.id)  # stored in id order
    pair = ConfusedPair.objects.create(course=course, first=first, second=second)
    fit = BktParameters.objects.create(
        course=course, misconception=speed, prior=0.2, learn=0.1, guess=0.2, slip=0.1,
        fitted_at=now,
    )  # fmt: skip
    rows = {
        "courses.course": course,
        "assessments.quiz": quiz,
        "assessments.attempt": attempt,
        "assessments.explanation": explanation,
        "practice.bktparameters": fit,
        "practice.confusedpair": pair,
        "practice.practiceitem": PracticeItem.objects.create(course=course, question=question),
        "practice.practicesettings": PracticeSettings.objects.create(course=course),
        "practice.mastery": Mastery.objects.create(
            course=course, learner=learner, misconception=speed, p_known=0.3, held=True
        ),
        "practice.practicesession": session,
    }
    return Alpha(course, teacher, learner, quiz, attempt, explanation, session, step, pair, rows)


def _every_permission(user: Any) -> Any:
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=OUR_APPS))
    return user


@pytest.fixture
def stranger() -> Any:
    """An instructor of course B only: staff, in both roles' groups, every model permission."""
    user = _every_permission(UserFactory.create(username="beta-teacher", is_staff=True))
    user.groups.add(role_group(BANK_AUTHORS), role_group(INSTRUCTORS))
    Course.objects.create(slug="beta", title="Beta course").instructors.add(user)
    return user


@pytest.fixture
def superuser() -> Any:
    return UserFactory.create(username="root", is_staff=True, is_superuser=True)


def _body(response: Any) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def _leaks(response: Any, alpha: Alpha) -> list[str]:
    body = _body(response)
    return [marker for marker in alpha.markers if marker in body]


# --- Every instructor URL ------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str
    parameters: frozenset[str]
    view: Any

    @property
    def for_api_clients_only(self) -> bool:
        classes = getattr(getattr(self.view, "view_class", None), "authentication_classes", [])
        return ApiClientAuthentication in classes and SessionAuthentication not in classes


def _routes() -> list[Route]:
    """Every route of the project outside the admin, with the parameters its path takes."""
    found: list[Route] = []

    def walk(resolver: URLResolver, namespaces: list[str], parameters: set[str]) -> None:
        for entry in resolver.url_patterns:
            names = set(entry.pattern.regex.groupindex)
            if isinstance(entry, URLResolver):
                if entry.namespace == "admin":
                    continue  # see the admin's tests below
                inner = [*namespaces, entry.namespace] if entry.namespace else namespaces
                walk(entry, inner, parameters | names)
            else:
                assert entry.name, f"Name the route {entry.pattern} so the tests can find it."
                name = ":".join([*namespaces, entry.name])
                found.append(Route(name, frozenset(parameters | names), entry.callback))

    walk(get_resolver(), [], set())
    return found


def _is_instructors(route: Route) -> bool:
    view_class = getattr(route.view, "view_class", None)
    return (
        route.name.split(":")[0] in INSTRUCTOR_NAMESPACES
        or bool(route.parameters & COURSE_PARAMETERS)
        or (isinstance(view_class, type) and issubclass(view_class, InstructorOrClientApi))
    )


def _instructor_routes() -> list[Route]:
    return [route for route in _routes() if _is_instructors(route)]


def _url(route: Route, alpha: Alpha) -> str:
    values = {
        "course_id": alpha.course.id,
        "quiz_id": alpha.quiz.id,
        "learner_id": alpha.learner.id,
        "step_id": alpha.step.id,
        "pair_id": alpha.pair.id,
    }
    if route.name in TABLES:
        values["table"] = TABLES[route.name]
    missing = route.parameters - values.keys()
    assert not missing, f"{route.name}: give course A's value of {sorted(missing)} here."
    return reverse(route.name, kwargs={name: values[name] for name in route.parameters})


# What a POST would change if it got through.
POSTED = {
    "ideas": ["0"],
    "comment": "taken over",
    "first": "DO-SPEED",
    "second": "DO-DATA",
    "use_post_test_items": "on",
    "question": [],
}


def test_every_route_is_an_instructors_or_named_as_not_one():
    routes = _routes()
    unclassified = [
        r.name for r in routes if not _is_instructors(r) and r.name not in NOT_INSTRUCTOR
    ]
    assert not unclassified, f"Instructor routes or not? Add them to NOT_INSTRUCTOR: {unclassified}"
    # the instructor pages, the analytics and practice API, and every route naming a course
    assert len(_instructor_routes()) >= 26


def test_an_instructor_of_another_course_gets_404_or_403_everywhere(
    client: Client, alpha: Alpha, stranger: Any
):
    # given
    client.force_login(stranger)
    routes = _instructor_routes()
    # when every route is asked with GET and POST for course A's objects
    for route in routes:
        url = _url(route, alpha) if route.parameters else reverse(route.name)
        statuses = []
        for response in (client.get(url), client.post(url, POSTED)):
            statuses.append(response.status_code)
            # then nothing of course A in any answer
            assert not _leaks(response, alpha), (route.name, url, _leaks(response, alpha))
        if not route.parameters:
            assert max(statuses) < 500, (route.name, statuses)
            continue
        # and every answer is a refusal; one method at least reaches the view's check
        assert set(statuses) <= {401, 403, 404, 405}, (route.name, url, statuses)
        assert set(statuses) != {405}, (route.name, url, statuses)
    # and nothing changed
    alpha.step.refresh_from_db()
    assert alpha.step.reviewed_at is None and alpha.step.review_comment == ""
    assert ConfusedPair.objects.filter(course=alpha.course).count() == 1
    assert not PracticeSettings.objects.get(course=alpha.course).use_post_test_items
    assert not PracticeSession.objects.filter(learner=stranger).exists()
    assert PracticeItem.objects.get(course=alpha.course).is_enabled


@pytest.mark.parametrize("who", ["instructor", "superuser"])
def test_the_courses_own_instructor_and_superusers_get_through_everywhere(
    client: Client, alpha: Alpha, superuser: Any, who: str
):
    """The control: the refusals above are about the course, not about a wrong id."""
    client.force_login(alpha.teacher if who == "instructor" else superuser)
    shown = ""
    for route in _instructor_routes():
        if not route.parameters or route.for_api_clients_only:
            continue  # an LMS's routes take an API client's token, not a person's
        url = _url(route, alpha)
        response = client.get(url)
        if response.status_code == 405:
            response = client.post(url, {})
        assert response.status_code not in (401, 403, 404), (route.name, response.status_code)
        assert response.status_code < 500, (route.name, response.status_code)
        if response.status_code == 200:
            shown += _body(response)
    # what the other instructor never saw is there to see
    for marker in ("Alpha Secret Course", "alpha-learner", "Alpha secret quiz"):
        assert marker in shown, marker
    assert "alpha explain-back text" in shown


def test_the_old_rule_staff_see_everything_is_gone(client: Client, alpha: Alpha):
    # given staff who teach nothing and author no bank
    client.force_login(UserFactory.create(username="staff", is_staff=True))
    # then
    assert client.get(f"/instructor/courses/{alpha.course.id}/").status_code == 404
    assert client.get(f"/api/v1/quizzes/{alpha.quiz.id}/responses/").status_code == 404
    assert "Alpha Secret Course" not in _body(client.get("/instructor/"))


# --- Catalogue quizzes ---------------------------------------------------------------------


@pytest.fixture
def catalogue_quiz(alpha: Alpha) -> Quiz:
    """A quiz of no course, taken by course A's learner."""
    quiz = quiz_of(single(), title="Catalogue quiz", slug="catalogue-quiz")
    _attempt(quiz, alpha.learner)
    return quiz


def _catalogue_urls(quiz: Quiz) -> tuple[list[str], list[str]]:
    """The quiz's statistics (no learner named), and its responses (learners named)."""
    statistics = [
        f"/instructor/quizzes/{quiz.id}/statistics/",
        f"/instructor/quizzes/{quiz.id}/statistics/items.csv",
        f"/api/v1/quizzes/{quiz.id}/statistics/",
    ]
    responses = [
        f"/api/v1/quizzes/{quiz.id}/responses/",
        f"/api/v1/quizzes/{quiz.id}/responses/?format=csv",
    ]
    return statistics, responses


def test_bank_authors_read_a_catalogue_quizs_statistics_but_not_its_learners(
    client: Client, catalogue_quiz: Quiz, stranger: Any
):
    statistics, responses = _catalogue_urls(catalogue_quiz)
    client.force_login(stranger)
    for url in statistics:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "alpha-learner" not in _body(response), url
    for url in responses:
        assert client.get(url).status_code == 404, url


def test_an_instructor_who_authors_no_bank_reads_nothing_of_a_catalogue_quiz(
    client: Client, catalogue_quiz: Quiz, alpha: Alpha
):
    # given course A's own instructor, whose learner took the catalogue quiz
    client.force_login(alpha.teacher)
    statistics, responses = _catalogue_urls(catalogue_quiz)
    for url in statistics + responses:
        assert client.get(url).status_code == 404, url


def test_superusers_read_all_of_a_catalogue_quiz(
    client: Client, alpha: Alpha, catalogue_quiz: Quiz, superuser: Any
):
    client.force_login(superuser)
    statistics, responses = _catalogue_urls(catalogue_quiz)
    for url in statistics + responses:
        assert client.get(url).status_code == 200, url
    rows = list(csv.DictReader(io.StringIO(_body(client.get(responses[1])))))
    assert [row["learner"] for row in rows] == [str(alpha.learner.id)]


# --- The admin -----------------------------------------------------------------------------


def _registered() -> dict[str, Any]:
    return {
        model._meta.label_lower: model_admin
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in OUR_APPS
    }


def _admin_url(label: str, view: str, *args: Any) -> str:
    return reverse(f"admin:{label.replace('.', '_')}_{view}", args=args)


def test_every_model_in_the_admin_is_classified():
    unclassified = set(_registered()) - CATALOGUE - SCOPED - SUPERUSERS_ONLY
    assert not unclassified, f"Per course, catalogue or superusers only? {sorted(unclassified)}"
    assert set(_registered()) >= SCOPED


def test_another_courses_instructor_sees_none_of_its_rows_in_the_admin(
    client: Client, alpha: Alpha, stranger: Any
):
    client.force_login(stranger)
    for label in sorted(SCOPED):
        row = alpha.rows[label]
        # the list: nothing of course A, not even in its filters
        listed = client.get(_admin_url(label, "changelist"))
        assert listed.status_code == 200, label
        assert row.pk not in [o.pk for o in listed.context["cl"].result_list], label
        assert not _leaks(listed, alpha), (label, _leaks(listed, alpha))
        # the row's pages: absent
        for view in ("change", "delete", "history"):
            response = client.get(_admin_url(label, view, row.pk))
            assert response.status_code in (403, 404), (label, view, response.status_code)
            assert not _leaks(response, alpha), (label, view)
        assert client.post(_admin_url(label, "change", row.pk), {}).status_code in (403, 404)
        assert client.post(_admin_url(label, "delete", row.pk), {"post": "yes"}).status_code in (
            403,
            404,
        )
        # and a bulk delete naming it deletes nothing
        client.post(
            _admin_url(label, "changelist"),
            {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"},
        )
        assert type(row).objects.filter(pk=row.pk).exists(), label


def test_the_courses_instructor_reads_its_rows_but_deletes_no_learners_work(
    client: Client, alpha: Alpha
):
    client.force_login(_every_permission(alpha.teacher))
    for label in sorted(SCOPED):
        row = alpha.rows[label]
        listed = client.get(_admin_url(label, "changelist"))
        assert row.pk in [o.pk for o in listed.context["cl"].result_list], label
        assert client.get(_admin_url(label, "change", row.pk)).status_code == 200, label
        deletable = label not in SUPERUSERS_DELETE
        assert ('value="delete_selected"' in _body(listed)) is deletable, label
        delete = client.get(_admin_url(label, "delete", row.pk))
        assert delete.status_code == (200 if deletable else 403), label
        if not deletable:
            client.post(
                _admin_url(label, "changelist"),
                {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"},
            )
            assert (
                client.post(_admin_url(label, "delete", row.pk), {"post": "yes"}).status_code == 403
            )
            assert type(row).objects.filter(pk=row.pk).exists(), label


def test_instructors_see_no_attempt_at_a_catalogue_quiz_in_the_admin(
    client: Client, alpha: Alpha, catalogue_quiz: Quiz, superuser: Any
):
    attempt = catalogue_quiz.attempts.get()
    for user, seen in ((_every_permission(alpha.teacher), False), (superuser, True)):
        client.force_login(user)
        listed = client.get(_admin_url("assessments.attempt", "changelist"))
        assert (attempt.pk in [o.pk for o in listed.context["cl"].result_list]) is seen
        expected = 200 if seen else 404
        assert client.get(_admin_url("assessments.attempt", "change", attempt.pk)).status_code == (
            expected
        )


def test_superusers_see_and_delete_every_courses_rows(client: Client, alpha: Alpha, superuser: Any):
    client.force_login(superuser)
    for label in sorted(SCOPED):
        row = alpha.rows[label]
        listed = client.get(_admin_url(label, "changelist"))
        assert row.pk in [o.pk for o in listed.context["cl"].result_list], label
        assert 'value="delete_selected"' in _body(listed), label
        assert client.get(_admin_url(label, "delete", row.pk)).status_code == 200, label
    client.post(
        _admin_url("assessments.explanation", "delete", alpha.explanation.pk), {"post": "yes"}
    )
    assert not Explanation.objects.filter(pk=alpha.explanation.pk).exists()


def test_records_that_span_courses_are_superusers_only(client: Client, alpha: Alpha, superuser):
    registered = [label for label in _registered() if label in SUPERUSERS_ONLY]
    assert registered
    for user in (_every_permission(alpha.teacher), superuser):
        client.force_login(user)
        index = _body(client.get("/admin/"))
        for label in registered:
            expected = 200 if user.is_superuser else 403
            assert client.get(_admin_url(label, "changelist")).status_code == expected, label
            assert (_admin_url(label, "changelist") in index) is user.is_superuser, label
            if not user.is_superuser:
                assert client.get(_admin_url(label, "change", 1)).status_code == 403, label


def test_a_bank_author_edits_the_catalogues_quizzes_and_their_courses_only(
    client: Client, alpha: Alpha, catalogue_quiz: Quiz, stranger: Any
):
    # given an author of course B: course A's quiz is not theirs, the catalogue's is
    client.force_login(stranger)
    listed = client.get(_admin_url("assessments.quiz", "changelist"))
    assert [o.pk for o in listed.context["cl"].result_list] == [catalogue_quiz.pk]
    page = client.get(_admin_url("assessments.quiz", "change", catalogue_quiz.pk))
    assert page.status_code == 200
    # and the quiz's course is one of the courses they teach, or none
    choices = [label for _, label in page.context["adminform"].form.fields["course"].choices]
    assert choices == ["---------", "Beta course"]
