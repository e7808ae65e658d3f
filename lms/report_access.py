"""Who may read a course's reports over REST (analytics, practice): its instructors and
superusers, by session or token, or an LMS's API client holding `analytics:read` bound to
the course. Anyone else finds nothing (404).

A module of its own: DRF imports lms.auth while it defines APIView (DEFAULT_THROTTLE_CLASSES
names lms.auth.ApiClientRateThrottle), so a view defined there would find APIView half-made.
"""

from __future__ import annotations

from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.request import Request
from rest_framework.views import APIView

from assessments.models import Quiz
from assessments.selectors import quiz_for_instructor
from core.errors import NotFoundError
from courses.models import Course
from courses.selectors import course_for_instructor
from lms.auth import ApiClientAuthentication, api_client, client_course, client_with_scope

ANALYTICS_READ = "analytics:read"


class InstructorOrClientApi(APIView):
    """People by session or token; LMS servers by API client token."""

    authentication_classes = [
        SessionAuthentication,
        TokenAuthentication,
        ApiClientAuthentication,
    ]


def course_for_instructor_or_client(request: Request, course_id: int) -> Course:
    """Return the course if the caller teaches it (or is a superuser), or is an API client
    holding analytics:read bound to it; otherwise it looks absent (404)."""
    client = api_client(request)
    if client is None:
        return course_for_instructor(user=request.user, course_id=course_id)
    return client_course(client_with_scope(client, ANALYTICS_READ), course_id)


def quiz_for_instructor_or_client(
    request: Request, quiz_id: int, *, learners: bool = False
) -> Quiz:
    """Return the quiz if the caller may read it (assessments.selectors.quiz_for_instructor),
    or it belongs to a course of an API client holding analytics:read; otherwise 404."""
    client = api_client(request)
    if client is None:
        return quiz_for_instructor(user=request.user, quiz_id=quiz_id, learners=learners)
    courses = client_with_scope(client, ANALYTICS_READ).courses.all()
    quiz = Quiz.objects.filter(id=quiz_id, course__in=courses).first()
    if quiz is None:
        raise NotFoundError("No such quiz.")
    return quiz
