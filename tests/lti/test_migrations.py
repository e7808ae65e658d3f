"""The lti data migration: copies deep linking made before copies were recorded are found."""

from __future__ import annotations

import pytest

from tests.migrating import back_to_latest, migrate_to

BEFORE = ("lti", "0002_quiz_copy")
RECORDED = ("lti", "0003_record_quiz_copies")


@pytest.mark.django_db(transaction=True)
def test_earlier_copies_are_recorded_unless_their_source_is_ambiguous():
    with back_to_latest():
        # given: an LMS course with copies of catalogue quizzes, made by slug
        old = migrate_to(BEFORE)
        quizzes = old.get_model("assessments", "Quiz").objects
        course = old.get_model("courses", "Course").objects.create(slug="lms-1", title="LMS")
        platform = old.get_model("lti", "Platform").objects.create(
            issuer="https://lms.example", client_id="c"
        )
        deployment = old.get_model("lti", "Deployment").objects.create(
            platform=platform, deployment_id="d"
        )
        old.get_model("lti", "Context").objects.create(
            deployment=deployment, context_id="ctx", course=course
        )
        basics = quizzes.create(slug="basics", title="Basics")
        for slug in ("a" * 60 + "-one", "a" * 60 + "-two"):
            quizzes.create(slug=slug, title=slug)
        copied = quizzes.create(slug=f"basics-c{course.id}", title="Basics", course=course)
        quizzes.create(slug=f"{'a' * 60}-c{course.id}", title="?", course=course)
        quizzes.create(slug="basics-own", title="The course's own", course=course)
        # when
        new = migrate_to(RECORDED)
        # then: only the copy whose source is certain is recorded
        recorded = new.get_model("lti", "QuizCopy").objects.values_list(
            "source_id", "course_id", "copy_id"
        )
        assert list(recorded) == [(basics.id, course.id, copied.id)]
