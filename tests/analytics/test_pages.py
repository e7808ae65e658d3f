"""The instructor pages and their CSV downloads, driven through Django's test client."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from analytics import charts
from analytics.misconceptions import course_gain
from analytics.statistics import quiz_statistics
from analytics.views.shown import gain_shown
from assessments.models import Attempt, Choice, Question, Quiz, Response
from courses.models import Course, Enrollment
from courses.roles import BANK_AUTHORS, INSTRUCTORS, role_group
from tests.factories import UserFactory, choice, quiz_of, single, true_false

pytestmark = pytest.mark.django_db

# Per learner: (pre-test answers, post-test answers); an answer is (right?, confidence).
# Slot 1 and 3 are single-choice (their wrong option reveals DO-SPEED), slot 2 true/false
# (its wrong option reveals DO-DATA).
ANSWERS = {
    "ada": ([(True, 4), (True, 5), (False, 4)], [(True, 5), (True, 5), (True, 4)]),
    "bob": ([(False, 4), (False, 1), (True, 2)], [(True, 4), (False, 1), (True, 3)]),
    "cy": ([(False, 5), (True, 3), (False, 4)], [(False, 4), (True, 4), (True, 4)]),
    "dee": ([(True, 1), (False, 2), (False, 1)], [(True, 3), (True, 3), (False, 2)]),
}


def _questions() -> list[Question]:
    return [single(), true_false(), single()]


def _answer(attempt: Attempt, slot: int, question: Question, right: bool, confidence: int) -> None:
    options = list(question.choices.order_by("position"))
    picked = next(c for c in options if c.is_correct == right)
    response = Response.objects.create(
        attempt=attempt, slot=slot, structural_slot=slot, question=question, confidence=confidence,
        mark=Decimal(1 if right else 0), max_mark=Decimal(1), is_correct=right,
        answered_at=timezone.now(),
    )  # fmt: skip
    response.selected_choices.add(picked)
    if not right:
        response.misconceptions.set(picked.misconceptions.all())


def _attempt(quiz: Quiz, learner: Any, questions: list[Question], answers: list[Any]) -> Attempt:
    score = sum(1 for right, _ in answers if right)
    when = timezone.now() - timedelta(days=7 if quiz.role == Quiz.Role.PRE else 1)
    attempt = Attempt.objects.create(
        quiz=quiz, learner=learner, number=1, seed=1, state=Attempt.State.SUBMITTED,
        started_at=when, submitted_at=when, score=Decimal(score), max_score=Decimal(len(answers)),
    )  # fmt: skip
    for slot, (question, (right, confidence)) in enumerate(zip(questions, answers, strict=True), 1):
        _answer(attempt, slot, question, right, confidence)
    return attempt


@pytest.fixture
def teacher() -> Any:
    return UserFactory.create(username="teacher")


@pytest.fixture
def course(teacher: Any) -> Course:
    """A course with a pre-test and a post-test taken by four enrolled learners."""
    course = Course.objects.create(slug="demo", title="Dropout 101")
    course.instructors.add(teacher)
    pre_questions, post_questions = _questions(), _questions()
    pre = quiz_of(*pre_questions, course=course, role=Quiz.Role.PRE, title="Pre-test", slug="pre")
    post = quiz_of(
        *post_questions, course=course, role=Quiz.Role.POST, title="Post-test", slug="post"
    )
    for username, (before, after) in ANSWERS.items():
        learner = UserFactory.create(username=username)
        Enrollment.objects.create(course=course, learner=learner)
        _attempt(pre, learner, pre_questions, before)
        _attempt(post, learner, post_questions, after)
    return course


@pytest.fixture
def client_in(client: Any, teacher: Any) -> Any:
    client.force_login(teacher)
    return client


def _quiz(course: Course, role: str) -> Quiz:
    return course.quizzes.get(role=role)


def _questions_of(quiz: Quiz) -> list[Question]:
    """The questions of the quiz's slots, in slot order (every attempt got the same ones)."""
    return [
        Response.objects.filter(attempt__quiz=quiz, slot=slot).earliest("id").question
        for slot in (1, 2, 3)
    ]


def _urls(course: Course) -> list[str]:
    pre = _quiz(course, Quiz.Role.PRE)
    ada = Enrollment.objects.get(course=course, learner__username="ada").learner_id
    base = f"/instructor/courses/{course.id}"
    return [
        f"{base}/",
        f"{base}/prevalence.csv",
        f"{base}/heatmap.csv",
        f"{base}/questions.csv",
        f"{base}/gain.csv",
        f"{base}/learners/{ada}/",
        f"{base}/learners/{ada}/profile.csv",
        f"/instructor/quizzes/{pre.id}/statistics/",
        f"/instructor/quizzes/{pre.id}/statistics/items.csv",
        f"/instructor/quizzes/{pre.id}/statistics/options.csv",
        f"/instructor/quizzes/{pre.id}/statistics/test.csv",
    ]


def _body(response: Any) -> str:
    return b"".join(response.streaming_content).decode()


def _csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment; filename=")
    return list(csv.DictReader(io.StringIO(_body(response))))


# --- Access ------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(client, course):
    for url in ["/instructor/", *_urls(course)]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/"), url


def test_another_instructor_gets_404_everywhere(client, course):
    other = UserFactory.create(username="other-teacher")
    Course.objects.create(slug="other", title="Other course").instructors.add(other)
    client.force_login(other)
    for url in _urls(course):
        assert client.get(url).status_code == 404, url
    page = client.get("/instructor/").content.decode()
    assert "Other course" in page
    assert "Dropout 101" not in page


def test_a_learner_of_the_course_gets_404_and_no_courses(client, course):
    client.force_login(Enrollment.objects.get(course=course, learner__username="ada").learner)
    for url in _urls(course):
        assert client.get(url).status_code == 404, url
    assert "You do not teach any course yet" in client.get("/instructor/").content.decode()


def test_superusers_see_every_course(client, course):
    client.force_login(UserFactory.create(username="root", is_staff=True, is_superuser=True))
    assert "Dropout 101" in client.get("/instructor/").content.decode()
    for url in _urls(course):
        assert client.get(url).status_code == 200, url


def test_staff_who_author_banks_see_no_course_they_do_not_teach(client, course):
    # given staff in both roles' groups, teaching nothing
    staff = UserFactory.create(username="staff", is_staff=True)
    staff.groups.add(role_group(BANK_AUTHORS), role_group(INSTRUCTORS))
    client.force_login(staff)
    # then
    assert "Dropout 101" not in client.get("/instructor/").content.decode()
    for url in _urls(course):
        assert client.get(url).status_code == 404, url


def test_a_learner_outside_the_course_has_no_profile(client_in, course):
    stranger = UserFactory.create(username="stranger")
    assert (
        client_in.get(f"/instructor/courses/{course.id}/learners/{stranger.id}/").status_code == 404
    )


def test_ids_too_large_for_the_database_are_404(client_in, course):
    huge = 10**25
    base = f"/instructor/courses/{course.id}"
    for url in (
        f"/instructor/courses/{huge}/",
        f"/instructor/quizzes/{huge}/statistics/",
        f"{base}/learners/{huge}/",
        f"{base}/learners/{huge}/profile.csv",
    ):
        assert client_in.get(url).status_code == 404, url
    assert client_in.get(f"{base}/?quiz={huge}").status_code == 400


def test_an_unknown_table_is_404(client_in, course):
    pre = _quiz(course, Quiz.Role.PRE)
    assert client_in.get(f"/instructor/courses/{course.id}/nope.csv").status_code == 404
    assert client_in.get(f"/instructor/quizzes/{pre.id}/statistics/nope.csv").status_code == 404


# --- My courses ----------------------------------------------------------------------------


def test_my_courses_lists_courses_with_learner_counts(client_in, course):
    html = client_in.get("/instructor/").content.decode()
    assert "Dropout 101" in html
    assert "4 learners · 2 quizzes" in html
    assert f'href="/instructor/courses/{course.id}/"' in html


def test_the_nav_links_to_my_courses_for_instructors_and_superusers_only(client, course, teacher):
    link = 'href="/instructor/">My courses</a>'
    client.force_login(teacher)
    assert link in client.get("/").content.decode()
    client.force_login(Enrollment.objects.get(course=course, learner__username="ada").learner)
    assert link not in client.get("/").content.decode()
    client.force_login(UserFactory.create(username="staff", is_staff=True))
    assert link not in client.get("/").content.decode()
    client.force_login(UserFactory.create(username="root", is_staff=True, is_superuser=True))
    assert link in client.get("/").content.decode()


def test_my_courses_has_an_empty_state(client_in):
    assert "You do not teach any course yet" in client_in.get("/instructor/").content.decode()


# --- Course dashboard ----------------------------------------------------------------------


def test_the_dashboard_shows_gain_prevalence_heatmap_and_matrix(client_in, course):
    response = client_in.get(f"/instructor/courses/{course.id}/")
    assert response.status_code == 200
    html = response.content.decode()
    gain = course_gain(course=course)
    assert f"{gain['pre_percent']:.1f}%" in html
    assert f"{gain['post_percent']:.1f}%" in html
    assert f"{gain['gain']:.2f}" in html
    band = {
        "low": "low (g &lt; 0.3)",
        "medium": "medium (0.3 ≤ g &lt; 0.7)",
        "high": "high (g ≥ 0.7)",
    }
    assert band[gain["band"]] in html
    assert 'id="gain-overall"' in html
    assert 'id="gain-codes"' in html
    assert '<title id="gain-overall-title">' in html
    # prevalence and heatmap: both codes, coloured cells, profile links
    assert "DO-SPEED" in html
    assert "DO-DATA" in html
    assert 'class="sharebar"' in html
    assert 'class="cell q-misconception"' in html
    assert "Colour key" in html
    for username in ANSWERS:
        learner = Enrollment.objects.get(course=course, learner__username=username).learner_id
        assert f'href="/instructor/courses/{course.id}/learners/{learner}/"' in html
    # the question matrix and the statistics links
    assert 'id="matrix"' in html
    for quiz in course.quizzes.all():
        assert f'href="/instructor/quizzes/{quiz.id}/statistics/"' in html
    assert html.index("<td>Pre-test</td>") < html.index("<td>Post-test</td>")
    assert "Download CSV" in html


def test_gains_show_what_is_missing_without_a_post_test(client_in, teacher):
    course = Course.objects.create(slug="solo", title="Solo")
    course.instructors.add(teacher)
    quiz_of(single(), course=course, role=Quiz.Role.PRE, title="Only a pre-test")
    html = client_in.get(f"/instructor/courses/{course.id}/").content.decode()
    assert "The course needs a pre-test and a post-test to measure gains." in html
    assert 'class="na" title="The course needs a pre-test and a post-test' in html
    assert "No learner is enrolled in this course yet." in html
    assert "No rated answer touches a misconception yet" in html
    assert 'id="gain-overall"' not in html


def test_the_heatmap_pages_learners_fifty_at_a_time(client_in, course):
    for number in range(50):
        Enrollment.objects.create(
            course=course, learner=UserFactory.create(username=f"z{number:02}")
        )
    first = client_in.get(f"/instructor/courses/{course.id}/").content.decode()
    assert "Learners 1\u201350 of 54" in first
    assert 'href="?page=2"' in first
    second = client_in.get(f"/instructor/courses/{course.id}/?page=2").content.decode()
    assert "Learners 51\u201354 of 54" in second
    assert ">z49</a>" in second
    assert ">ada</a>" not in second
    # a page past the end shows the last one
    assert (
        "Learners 51\u201354 of 54"
        in client_in.get(f"/instructor/courses/{course.id}/?page=9").content.decode()
    )


def test_the_dashboard_can_read_one_quiz_and_refuses_a_bad_one(client_in, course):
    post = _quiz(course, Quiz.Role.POST)
    one = client_in.get(f"/instructor/courses/{course.id}/?quiz={post.id}")
    assert one.status_code == 200
    assert f'<option value="{post.id}" selected>' in one.content.decode()
    assert (
        f'href="/instructor/courses/{course.id}/heatmap.csv?quiz={post.id}"' in one.content.decode()
    )
    other = quiz_of(single(), title="Elsewhere")
    for bad in ("abc", "\u00b2", "-1", str(other.id)):
        response = client_in.get(f"/instructor/courses/{course.id}/?quiz={bad}")
        assert response.status_code == 400
        assert "quiz: " in response.content.decode()
        assert "is not a quiz of this course" in response.content.decode()
    csv_bad = client_in.get(f"/instructor/courses/{course.id}/heatmap.csv?quiz=abc")
    assert csv_bad.status_code == 400
    assert csv_bad.content.decode().startswith("quiz: ")


# --- Quiz statistics -----------------------------------------------------------------------


def test_statistics_show_the_numbers_of_the_statistics_module(client_in, course):
    pre = _quiz(course, Quiz.Role.PRE)
    response = client_in.get(f"/instructor/quizzes/{pre.id}/statistics/")
    assert response.status_code == 200
    html = response.content.decode()
    stats = quiz_statistics(quiz=pre, attempts="first")
    assert "4 attempts counted (first attempt of each learner) · 3 items" in html
    assert "Percentages are of the maximum mark, 3." in html
    assert f"{stats['test']['mean']:.1f}%" in html
    assert f"{stats['test']['cic']:.1f}%" in html
    for item in stats["items"]:
        assert item["question_slug"] in html
        assert f"{item['facility']:.1f}" in html
        if item["discrimination_index"] is not None:
            assert f"{item['discrimination_index']:.1f}" in html
    assert 'id="facility-discrimination"' in html
    assert "Facility against discrimination index, by slot" in html
    assert html.count('class="chart"') == 1 + len(stats["items"])  # scatter + option bars
    assert "✓ Right" in html
    assert "DO-SPEED" in html


def test_flags_are_readable_badges_and_flagged_points_are_red(client_in, course):
    pre = _quiz(course, Quiz.Role.PRE)
    stats = quiz_statistics(quiz=pre, attempts="first")
    flagged = [item for item in stats["items"] if item["flags"]]
    assert flagged, "the fixture should produce at least one flagged item"
    html = client_in.get(f"/instructor/quizzes/{pre.id}/statistics/").content.decode()
    labels = {
        "negative_discrimination": "Negative discrimination",
        "low_discriminative_efficiency": "Low discriminative efficiency",
        "negative_covariance": "Negative covariance",
    }
    assert 'class="badge badge-flag" title="' in html
    for item in flagged:
        for flag in item["flags"]:
            assert f'>{labels[flag]}<span class="sr-only">' in html
    assert 'class="point-label flagged"' in html


def test_undefined_statistics_show_a_dash_with_the_reason(client_in, teacher):
    course = Course.objects.create(slug="tiny", title="Tiny")
    course.instructors.add(teacher)
    questions = _questions()
    quiz = quiz_of(*questions, course=course, title="Tiny quiz")
    learner = UserFactory.create(username="only")
    Enrollment.objects.create(course=course, learner=learner)
    _attempt(quiz, learner, questions, [(True, 4), (False, 4), (True, 2)])
    html = client_in.get(f"/instructor/quizzes/{quiz.id}/statistics/").content.decode()
    assert "1 attempt counted" in html
    assert 'title="The standard deviation needs at least 2 counted attempts."' in html
    assert "(not available: The standard deviation needs at least 2 counted attempts.)" in html
    assert 'title="Needs at least 2 attempts at this item."' in html
    assert "3 items not plotted: facility or discrimination undefined" in html


def test_statistics_have_an_empty_state(client_in, teacher):
    course = Course.objects.create(slug="new", title="New")
    course.instructors.add(teacher)
    quiz = quiz_of(single(), course=course, title="Nobody took it")
    html = client_in.get(f"/instructor/quizzes/{quiz.id}/statistics/").content.decode()
    assert "No finished attempt counts yet" in html
    assert 'id="items"' not in html


@pytest.mark.parametrize("policy", ["first", "last", "highest", "all"])
def test_every_attempts_policy_is_offered_and_kept(client_in, course, policy):
    pre = _quiz(course, Quiz.Role.PRE)
    html = client_in.get(
        f"/instructor/quizzes/{pre.id}/statistics/?attempts={policy}"
    ).content.decode()
    assert f'<option value="{policy}" selected>' in html
    assert f"items.csv?attempts={policy}" in html


def test_a_bad_attempts_policy_is_a_400_naming_the_field(client_in, course):
    pre = _quiz(course, Quiz.Role.PRE)
    response = client_in.get(f"/instructor/quizzes/{pre.id}/statistics/?attempts=best")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="attempts-error"' in html
    assert (
        "attempts: choose one of first, last, highest, all; &#x27;best&#x27; is not one of them."
        in html
    )
    assert 'aria-invalid="true"' in html
    assert 'id="items"' not in html
    csv_bad = client_in.get(f"/instructor/quizzes/{pre.id}/statistics/items.csv?attempts=best")
    assert csv_bad.status_code == 400
    assert csv_bad.content.decode().startswith("attempts: choose one of")


# --- Learner profile -----------------------------------------------------------------------


def test_a_learner_profile_shows_the_diagnosis_over_time(client_in, course):
    cy = Enrollment.objects.get(course=course, learner__username="cy").learner_id
    response = client_in.get(f"/instructor/courses/{course.id}/learners/{cy}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>cy</h1>" in html
    assert html.index("1. Pre-test") < html.index("2. Post-test")
    assert 'id="profile-scores"' in html
    assert "33.3%" in html  # one of three right on the pre-test
    assert "66.7%" in html
    assert 'class="cell q-misconception"' in html  # DO-SPEED, wrong and sure, both times
    assert "DO-SPEED" in html


def test_a_learner_without_attempts_has_an_empty_profile(client_in, course):
    newcomer = UserFactory.create(username="newcomer")
    Enrollment.objects.create(course=course, learner=newcomer)
    html = client_in.get(
        f"/instructor/courses/{course.id}/learners/{newcomer.id}/"
    ).content.decode()
    assert "has not finished any of the course's quizzes yet" in html


# --- CSV -----------------------------------------------------------------------------------


def test_statistics_csvs_hold_every_row(client_in, course):
    pre = _quiz(course, Quiz.Role.PRE)
    stats = quiz_statistics(quiz=pre, attempts="all")
    base = f"/instructor/quizzes/{pre.id}/statistics"
    items = _csv(client_in.get(f"{base}/items.csv?attempts=all"))
    assert [row["question_slug"] for row in items] == [i["question_slug"] for i in stats["items"]]
    assert float(items[0]["facility"]) == pytest.approx(stats["items"][0]["facility"], abs=1e-3)
    options = _csv(client_in.get(f"{base}/options.csv?attempts=all"))
    assert len(options) == sum(len(i["options"]) for i in stats["items"])
    assert {row["is_correct"] for row in options} == {"yes", "no"}
    test = _csv(client_in.get(f"{base}/test.csv"))
    assert [row["statistic"] for row in test][:3] == ["mean", "median", "sd"]
    assert test[-1] == {"statistic": "attempts_counted", "value": "4", "note": ""}
    response = client_in.get(f"{base}/items.csv?attempts=all")
    assert response["Content-Disposition"] == 'attachment; filename="pre-items-all.csv"'


def test_course_csvs_hold_every_row(client_in, course):
    base = f"/instructor/courses/{course.id}"
    prevalence = _csv(client_in.get(f"{base}/prevalence.csv"))
    assert {row["code"] for row in prevalence} >= {"DO-SPEED", "DO-DATA"}
    heatmap = _csv(client_in.get(f"{base}/heatmap.csv"))
    assert {row["username"] for row in heatmap} == set(ANSWERS)
    assert {row["quadrant"] for row in heatmap} <= {
        "misconception",
        "gap",
        "lucky_guess",
        "knowledge",
    }
    questions = _csv(client_in.get(f"{base}/questions.csv"))
    assert len(questions) == 6  # three questions per test
    gain = _csv(client_in.get(f"{base}/gain.csv"))
    expected = course_gain(course=course)
    assert gain[0]["measure"] == "class_average_score"
    assert float(gain[0]["gain"]) == pytest.approx(expected["gain"], abs=1e-4)
    assert gain[0]["band"] == expected["band"]
    assert {row["code"] for row in gain[1:]} == {r["code"] for r in expected["per_misconception"]}
    cy = Enrollment.objects.get(course=course, learner__username="cy").learner_id
    profile = _csv(client_in.get(f"{base}/learners/{cy}/profile.csv"))
    assert {row["quiz"] for row in profile} == {"Pre-test", "Post-test"}


def test_csv_cells_cannot_smuggle_formulas(client_in, course):
    pre = _quiz(course, Quiz.Role.PRE)
    question = _questions_of(pre)[0]
    choice(question, '=HYPERLINK("http://evil.example","x")')
    choice(question, "+1+1")
    evil = UserFactory.create(username="@evil")
    Enrollment.objects.create(course=course, learner=evil)
    post = _quiz(course, Quiz.Role.POST)
    _attempt(post, evil, _questions_of(post), [(False, 5), (False, 5), (False, 5)])
    options = _body(client_in.get(f"/instructor/quizzes/{pre.id}/statistics/options.csv"))
    assert "'=HYPERLINK(" in options
    assert "\n1,'+1+1" not in options  # the slot column comes first
    assert ",'+1+1," in options
    heatmap = _body(client_in.get(f"/instructor/courses/{course.id}/heatmap.csv"))
    assert ",'@evil," in heatmap
    # negative numbers stay numbers
    items = _csv(client_in.get(f"/instructor/quizzes/{pre.id}/statistics/items.csv"))
    assert all(not row["discrimination_index"].startswith("'") for row in items)


# --- Charts --------------------------------------------------------------------------------


def test_charts_escape_text_and_name_themselves():
    svg = charts.bar_chart(
        chart_id="c1",
        title="<b>Title</b>",
        description="A & B",
        rows=[charts.BarRow("<script>alert(1)</script>", (10.0, None))],
        series=[charts.Series("Pre", charts.PRE), charts.Series("Post", charts.ACCENT)],
    )
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert '<title id="c1-title">&lt;b&gt;Title&lt;/b&gt;</title>' in svg
    assert 'aria-labelledby="c1-title c1-desc"' in svg
    assert "Post: no data" in svg


def test_scatter_places_points_and_skips_undefined_ones():
    svg = charts.scatter(
        chart_id="s",
        title="t",
        description="d",
        points=[
            charts.Point("1", 0.0, -100.0),
            charts.Point("2", 100.0, 100.0, flagged=True),
            charts.Point("3", None, 20.0),
        ],
        x_label="x",
        y_label="y",
    )
    layout = charts.ScatterLayout()
    left, right = layout.left, charts.WIDTH - layout.right
    bottom, top = layout.height - layout.bottom, layout.top
    assert f'cx="{left:g}" cy="{bottom:g}" r="6"' in svg
    assert f'cx="{right:g}" cy="{top:g}" r="7"' in svg
    assert svg.count("<circle") == 2
    assert charts.scale(150.0, (0.0, 100.0), (0.0, 10.0)) == 10.0


@pytest.mark.parametrize(
    ("gain", "text"),
    [
        (0.2996, "0.2996"),
        (0.29949, "0.299"),
        (0.3, "0.30"),
        (0.6951, "0.695"),
        (0.5, "0.50"),
        (-0.1, "-0.10"),
    ],
)
def test_gain_is_never_rounded_onto_a_higher_band(gain, text):
    assert gain_shown(gain, "").text == text


def test_option_bars_mark_right_and_flagged_options():
    svg = charts.option_bars(
        chart_id="o",
        title="t",
        description="d",
        options=[
            charts.OptionBar("Right", 3, is_correct=True),
            charts.OptionBar("Tempting", 1, is_correct=False, flagged=True),
            charts.OptionBar("Never", 0, is_correct=False),
        ],
        total=4,
    )
    assert "✓ Right" in svg
    assert "! Tempting" in svg
    assert "3 (75%)" in svg
    assert "4 attempts" in svg


def test_choice_texts_are_kept_out_of_markup(client_in, course):
    pre = _quiz(course, Quiz.Role.PRE)
    question = _questions_of(pre)[0]
    Choice.objects.filter(question=question, is_correct=True).update(
        text="<img src=x onerror=alert(1)>"
    )
    html = client_in.get(f"/instructor/quizzes/{pre.id}/statistics/").content.decode()
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
