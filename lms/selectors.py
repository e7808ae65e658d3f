"""Reads for API clients."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from django.db.models import Q, QuerySet

from assessments.models import Attempt, Quiz
from courses.models import Course, Enrollment
from grader.models import Submission
from lms.models import ApiClient, LmsIdentity, WebhookDelivery, WebhookEndpoint


class Member(NamedTuple):
    """One person of a course's roster and their role in it."""

    user_id: int
    role: str


def client_issuer(client: ApiClient) -> str:
    """Return the issuer under which an API client's people are known to us."""
    return f"api-client:{client.id}"


def client_courses(*, client: ApiClient) -> QuerySet[Course]:
    """Return the courses the client is bound to, by id."""
    return client.courses.order_by("id")


def client_webhooks(*, client: ApiClient) -> QuerySet[WebhookEndpoint]:
    """Return the client's webhook endpoints, by id."""
    return client.webhooks.order_by("id")


def endpoint_deliveries(
    *, endpoint: WebhookEndpoint, state: str | None = None
) -> QuerySet[WebhookDelivery]:
    """Return the endpoint's deliveries (in `state`, if given), newest first, with their tries."""
    deliveries = endpoint.deliveries.prefetch_related("log").order_by("-id")
    if state is not None:
        deliveries = deliveries.filter(state=state)
    return deliveries


def lms_user_ids(*, client: ApiClient, user_ids: Iterable[int] | None = None) -> dict[int, str]:
    """Return the LMS's user id of each of our users the client has sent (of `user_ids`)."""
    identities = LmsIdentity.objects.filter(issuer=client_issuer(client))
    if user_ids is not None:
        identities = identities.filter(user_id__in=list(user_ids))
    return dict(identities.values_list("user_id", "lms_user_id"))


def lms_user(*, client: ApiClient, lms_user_id: str) -> int | None:
    """Return our user id for the client's LMS user id, if it has sent that person."""
    return (
        LmsIdentity.objects.filter(issuer=client_issuer(client), lms_user_id=lms_user_id)
        .values_list("user_id", flat=True)
        .first()
    )


def course_members(*, course: Course) -> list[Member]:
    """Return the course's instructors, then its learners, each by user id."""
    instructors = course.instructors.order_by("id").values_list("id", flat=True)
    learners = course.enrollments.order_by("learner_id").values_list("learner_id", flat=True)
    return [Member(user_id, "instructor") for user_id in instructors] + [
        Member(user_id, "learner") for user_id in learners
    ]


def course_grades(
    *,
    course: Course,
    since: datetime | None = None,
    quiz: Quiz | None = None,
    learner_id: int | None = None,
) -> QuerySet[Attempt]:
    """Return the course's finished attempts that count (no previews), oldest change first."""
    attempts = Attempt.objects.filter(
        quiz__course=course, state=Attempt.State.SUBMITTED, is_preview=False
    ).order_by("updated_at", "id")
    if since is not None:
        attempts = attempts.filter(updated_at__gt=since)
    if quiz is not None:
        attempts = attempts.filter(quiz=quiz)
    if learner_id is not None:
        attempts = attempts.filter(learner_id=learner_id)
    return attempts


def course_quizzes(*, course: Course) -> QuerySet[Quiz]:
    """Return the course's quizzes, by id."""
    return course.quizzes.order_by("id")


def course_submissions(
    *,
    course: Course,
    since: datetime | None = None,
    learner_id: int | None = None,
    exercise: str | None = None,
    quiz: Quiz | None = None,
) -> QuerySet[Submission]:
    """Code submissions a course's LMS may read, oldest change first: answers to the
    course's quizzes (not previews), and the practice (no quiz) of its enrolled learners.
    Answers to another course's quizzes are that course's business, never this one's."""
    enrolled = Enrollment.objects.filter(course=course).values("learner_id")
    submissions = (
        Submission.objects.filter(
            Q(response__attempt__quiz__course=course, response__attempt__is_preview=False)
            | Q(response__isnull=True, learner_id__in=enrolled)
        )
        .select_related("response__attempt")
        .prefetch_related("misconceptions")
        .order_by("updated_at", "id")
    )
    if since is not None:
        submissions = submissions.filter(updated_at__gt=since)
    if learner_id is not None:
        submissions = submissions.filter(learner_id=learner_id)
    if exercise is not None:
        submissions = submissions.filter(exercise=exercise)
    if quiz is not None:
        submissions = submissions.filter(response__attempt__quiz=quiz)
    return submissions
