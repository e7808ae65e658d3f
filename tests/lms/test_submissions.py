"""Code submissions, grades per learner, and quiz schedules for LMS clients."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from assessments.models import Attempt, QuestionType
from assessments.services import attempt_start
from courses.models import Course, Enrollment
from grader.models import Submission
from lms.models import LmsIdentity
from tests.factories import QuestionFactory, UserFactory, code, quiz_of

pytestmark = pytest.mark.django_db

SCOPES = ["grades:read", "roster:write", "quizzes:read"]


@pytest.fixture
def course():
    return Course.objects.create(slug="bio101", title="Biology 101")


def _code_quiz(course, **kwargs):
    question = QuestionFactory.create(qtype=QuestionType.CODE, exercise="dropout-forward")
    return quiz_of(question, course=course, **kwargs)


def _submission(learner, *, response=None, exercise="dropout-forward", **extra):
    fields = {"status": Submission.Status.PASSED, "score": 1.0, **extra}
    return Submission.objects.create(
        learner=learner, exercise=exercise, code="def f(): ...", response=response,
        seed=1, queued_at=timezone.now(), **fields,
    )  # fmt: skip


@pytest.fixture
def school(course, lms_client):
    """A course with two learners from the roster, their quiz and practice submissions,
    and another school's course whose learner also practises."""
    client, http = lms_client(course, scopes=SCOPES)
    members = [{"lms_user_id": u, "role": "learner"} for u in ("u1", "u2")]
    http.put(f"/api/v1/courses/{course.id}/roster/", {"members": members}, format="json")
    u1, u2 = (LmsIdentity.objects.get(lms_user_id=u).user for u in ("u1", "u2"))
    quiz = _code_quiz(course)
    attempt = attempt_start(quiz=quiz, learner=u1)
    answer = _submission(u1, response=attempt.responses.get(slot=1))
    answer.misconceptions.set([code("DO-SCALE")])
    practice = _submission(u2, exercise="mc-dropout", status=Submission.Status.FAILED, score=0.5)
    # not the course's: another school's quiz, another school's learner, a preview
    other = Course.objects.create(slug="elsewhere", title="Elsewhere")
    stranger = UserFactory.create()
    Enrollment.objects.create(course=other, learner=stranger)
    Enrollment.objects.create(course=other, learner=u1)  # u1 studies at both schools
    _submission(stranger)
    _submission(u1, response=attempt_start(quiz=_code_quiz(other), learner=u1).responses.get())
    teacher = UserFactory.create()
    course.instructors.add(teacher)
    preview = attempt_start(quiz=quiz, learner=teacher)
    assert preview.is_preview
    _submission(teacher, response=preview.responses.get())
    return {"http": http, "quiz": quiz, "attempt": attempt, "answer": answer,
            "practice": practice, "other": other, "client": client}  # fmt: skip


def test_it_lists_the_courses_quiz_answers_and_its_learners_practice(
    course, school, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):  # a fixed number, however many rows
        response = school["http"].get(f"/api/v1/courses/{course.id}/submissions/")
    rows = response.json()["results"]
    assert [r["id"] for r in rows] == [school["answer"].id, school["practice"].id]
    answer, practice = rows
    assert answer["lms_user_id"] == "u1" and answer["exercise"] == "dropout-forward"
    assert answer["quiz"] == school["quiz"].id and answer["attempt"] == school["attempt"].id
    assert answer["slot"] == 1 and answer["misconceptions"] == ["DO-SCALE"]
    assert answer["status"] == "passed" and answer["finished"] is True and answer["score"] == 1.0
    assert "code" not in answer and "seed" not in answer
    assert practice["lms_user_id"] == "u2" and practice["quiz"] is None
    assert practice["status"] == "failed" and practice["score"] == 0.5


def test_it_filters_by_learner_exercise_quiz_and_change(course, school):
    http, url = school["http"], f"/api/v1/courses/{course.id}/submissions/"

    def ids(**params):
        response = http.get(url, params)
        assert response.status_code == 200, response.json()
        return [r["id"] for r in response.json()["results"]]

    assert ids(learner="u2") == [school["practice"].id]
    assert ids(exercise="mc-dropout") == [school["practice"].id]
    assert ids(quiz=str(school["quiz"].id)) == [school["answer"].id]
    Submission.objects.filter(id=school["answer"].id).update(
        updated_at=timezone.now() + timedelta(hours=1)
    )
    since = (timezone.now() + timedelta(minutes=1)).isoformat()
    assert ids(updated_since=since) == [school["answer"].id]
    assert ids(learner="u2", updated_since=since) == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"learner": "nobody"}, "learner"),
        ({"exercise": "dropout-sideways"}, "exercise"),
        ({"updated_since": "last tuesday"}, "updated_since"),
        ({"updated_since": "2026-01-01T10:00:00"}, "updated_since"),  # no time zone
        ({"quiz": "x"}, "quiz"),
    ],
)
def test_bad_filters_are_400s_naming_the_field(course, school, params, field):
    response = school["http"].get(f"/api/v1/courses/{course.id}/submissions/", params)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_another_schools_course_and_quiz_are_out_of_reach(course, school, lms_client):
    http = school["http"]
    assert http.get(f"/api/v1/courses/{school['other'].id}/submissions/").status_code == 404
    other_quiz = school["other"].quizzes.get()
    response = http.get(f"/api/v1/courses/{course.id}/submissions/", {"quiz": other_quiz.id})
    assert response.status_code == 400 and "quiz" in response.json()["error"]["fields"]
    # another client bound to the course knows no "u1": its learner ids are its own
    _, stranger = lms_client(course, scopes=["grades:read"])
    response = stranger.get(f"/api/v1/courses/{course.id}/submissions/", {"learner": "u1"})
    assert response.status_code == 400
    _, unscoped = lms_client(course, scopes=["quizzes:read"])
    assert unscoped.get(f"/api/v1/courses/{course.id}/submissions/").status_code == 403


def test_grades_filter_per_learner(course, school):
    u2 = LmsIdentity.objects.get(lms_user_id="u2").user
    now = timezone.now()
    for learner in (school["attempt"].learner, u2):
        Attempt.objects.filter(quiz=school["quiz"], learner=learner).delete()
        Attempt.objects.create(
            quiz=school["quiz"], learner=learner, number=1, seed=1, started_at=now,
            state=Attempt.State.SUBMITTED, submitted_at=now, max_score=1,
        )  # fmt: skip
    url = f"/api/v1/courses/{course.id}/grades/"
    rows = school["http"].get(url, {"learner": "u2"}).json()["results"]
    assert [r["lms_user_id"] for r in rows] == ["u2"]
    assert len(school["http"].get(url).json()["results"]) == 2
    bad = school["http"].get(url, {"learner": "nobody"})
    assert bad.status_code == 400 and "learner" in bad.json()["error"]["fields"]


def test_quizzes_show_their_schedule(course, lms_client):
    opens = timezone.now().replace(microsecond=0)
    quiz = _code_quiz(
        course, opens_at=opens, closes_at=opens + timedelta(days=7),
        time_limit=timedelta(minutes=20), attempts_allowed=2,
    )  # fmt: skip
    _, http = lms_client(course, scopes=["quizzes:read"])
    (row,) = http.get(f"/api/v1/courses/{course.id}/quizzes/").json()["results"]
    assert row["id"] == quiz.id
    assert row["opens_at"] == opens.isoformat().replace("+00:00", "Z")
    assert row["closes_at"] == (opens + timedelta(days=7)).isoformat().replace("+00:00", "Z")
    assert row["time_limit_seconds"] == 1200 and row["attempts_allowed"] == 2
