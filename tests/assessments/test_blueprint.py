"""Blueprints: every attempt carries the items its quiz's blueprint asks for."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from analytics.simulated_class import course_quizzes_ensure
from assessments import blueprint
from assessments.blueprint import Item, Rule, Section, blueprint_draw, blueprint_problem
from assessments.catalog import quizzes_load
from assessments.draws import display_order_draw, questions_draw
from assessments.models import Attempt, BlueprintRule, Question, QuestionType, Quiz, QuizSection
from assessments.selectors import quiz_blueprint_problem
from assessments.services import attempt_start
from core.errors import ApplicationError, ConflictError
from courses.models import Course
from courses.roles import BANK_AUTHORS, role_group
from lti.deep_linking import quiz_for_course
from tests.factories import (
    BankFactory,
    code,
    quiz_of,
    rule,
    section,
    single,
    true_false,
    two_tier,
)

pytestmark = pytest.mark.django_db

SEEDS = 500


@pytest.fixture
def quiz() -> Quiz:
    """A quiz whose plain draws miss its rare items most of the time.

    Section 1 draws 3 of 10 form-A mechanics items: one probes DO-GRADIENT, one is the only
    two-tier item (P(a plain draw misses each) = 0.7). Section 2 draws 2 of 7 form-A purpose
    items: one true/false item probes DO-DATA (P(miss) = 5/7). Form-B items are decoys.
    """
    mechanics = BankFactory.create(slug="mechanics")
    for index in range(8):
        single(mechanics, form="A", slug=f"mech-test-{index}", probes=("DO-TEST",))
    single(mechanics, form="A", slug="mech-gradient", probes=("DO-GRADIENT",))
    _form_a(two_tier(mechanics))
    for index in range(4):
        single(mechanics, form="B", slug=f"mech-b-{index}", probes=("DO-GRADIENT",))
    purpose = BankFactory.create(slug="purpose")
    for index in range(6):
        single(purpose, form="A", slug=f"purpose-speed-{index}", probes=("DO-SPEED",))
    _form_a(true_false(purpose))
    made = quiz_of(slug="blueprinted", attempts_allowed=None, shuffle_questions=True)
    section(made, mechanics, 3, "A")
    section(made, purpose, 2, "A")
    rule(made, "DO-GRADIENT")
    rule(made, "DO-DATA", QuestionType.TRUE_FALSE)
    rule(made, qtype=QuestionType.TWO_TIER)
    rule(made, "DO-SPEED")
    return made


def _form_a(question: Question) -> None:
    question.form = "A"
    question.save(update_fields=["form"])


def _start_many(quiz: Quiz, learner: Any, count: int) -> list[Attempt]:
    attempts = []
    for _ in range(count):
        attempt = attempt_start(quiz=quiz, learner=learner)
        Attempt.objects.filter(id=attempt.id).update(state=Attempt.State.SUBMITTED)
        attempts.append(attempt)
    return attempts


def _drawn(attempt: Attempt) -> list[Question]:
    """The attempt's questions in structural order."""
    responses = attempt.responses.select_related("question").order_by("structural_slot")
    return [r.question for r in responses]


def _honours(questions: list[Question], rules: list[BlueprintRule]) -> bool:
    """Count, the plain way, each rule's items among the questions."""
    probes = {
        (question_id, code)
        for question_id, code in Question.probes.through.objects.values_list(
            "question_id", "misconception__code"
        )
    }
    for wanted in rules:
        code = wanted.misconception.code if wanted.misconception else ""
        count = sum(
            1
            for q in questions
            if (not code or (q.id, code) in probes)
            and (not wanted.qtype or q.qtype == wanted.qtype)
        )
        if count < wanted.minimum:
            return False
    return True


# ---------------------------------------------------------------- draws


def test_every_attempt_honours_the_blueprint_where_plain_draws_mostly_miss(quiz, learner):
    # given: how often plain draws (the quiz without its blueprint) miss a rule
    rules = list(quiz.blueprint_rules.select_related("misconception"))
    plain = Quiz.objects.create(slug="plain", title="Plain", attempts_allowed=None)
    for s in quiz.sections.all():
        section(plain, s.bank, s.draw_count, s.form)
    plain_draws = [questions_draw(plain, random.Random(seed)) for seed in range(200)]
    missed = sum(not _honours(questions, rules) for questions in plain_draws)
    assert missed >= 150  # P(a plain draw honours all four rules) is about 0.02
    # when
    attempts = _start_many(quiz, learner, SEEDS)
    # then
    assert len({a.seed for a in attempts}) == SEEDS
    for attempt in attempts:
        assert _honours(_drawn(attempt), rules), attempt.seed


def test_draws_still_vary_and_reach_every_item(quiz, learner):
    # when
    seen = Counter(q.slug for attempt in _start_many(quiz, learner, 200) for q in _drawn(attempt))
    # then: every form-A item comes up, no form-B item ever does
    pools = Question.objects.filter(bank__sections__quiz=quiz, form="A")
    assert set(seen) == set(pools.values_list("slug", flat=True))
    assert seen["mech-gradient"] == 200 and seen["purpose-speed-0"] < 200


def test_a_draw_is_reproducible_from_the_attempts_seed(quiz, learner):
    for attempt in _start_many(quiz, learner, 20):
        # when: the draw is replayed from the stored seed
        rng = random.Random(attempt.seed)
        questions = questions_draw(quiz, rng)
        order = display_order_draw(quiz, len(questions), rng)
        # then: the same questions in the same structural slots, shown in the same order
        stored = list(attempt.responses.order_by("slot"))
        assert [r.structural_slot for r in stored] == [index + 1 for index in order]
        assert [r.question_id for r in stored] == [questions[index].id for index in order]


def test_structural_slots_follow_the_sections_whatever_thedisplay_order_draw(quiz, learner):
    sections = list(quiz.sections.order_by("position"))
    for attempt in _start_many(quiz, learner, 50):
        responses = list(attempt.responses.select_related("question"))
        assert sorted(r.slot for r in responses) == [1, 2, 3, 4, 5]
        assert sorted(r.structural_slot for r in responses) == [1, 2, 3, 4, 5]
        for response in responses:
            owner = sections[0] if response.structural_slot <= 3 else sections[1]
            assert response.question.bank_id == owner.bank_id
            assert response.question.form == owner.form


def test_shared_pools_fill_every_section_with_distinct_questions(learner):
    # given: two sections on one bank: any form (2 draws), then form A (2 of only 2)
    bank = BankFactory.create(slug="shared")
    a_items = {single(bank, form="A", probes=("DO-TEST",)).id for _ in range(2)}
    single(bank, form="B", probes=("DO-GRADIENT",))
    single(bank, form="", probes=("DO-SPEED",))
    quiz = quiz_of(attempts_allowed=None)
    section(quiz, bank, 2, "")
    section(quiz, bank, 2, "A")
    rule(quiz, "DO-GRADIENT")
    for attempt in _start_many(quiz, learner, 30):
        drawn = _drawn(attempt)
        # then: the form-A section gets both form-A items; the other section the rest
        assert {q.id for q in drawn[2:]} == a_items
        assert len({q.id for q in drawn}) == 4


def test_attempt_start_costs_the_same_queries_however_many_sections(learner, other_learner):
    def queries(quiz: Quiz, who: Any) -> int:
        with CaptureQueriesContext(connection) as context:
            attempt_start(quiz=quiz, learner=who)
        return len(context.captured_queries)

    # given: a quiz of 2 sections and one of 6, both with blueprints
    small = quiz_of()
    big = quiz_of()
    for quiz, sections in ((small, 2), (big, 6)):
        for index in range(sections):
            bank = BankFactory.create()
            for _ in range(3):
                single(bank, probes=(f"DO-S{index}",))
            section(quiz, bank, 2)
            rule(quiz, f"DO-S{index}")
    # then: the unfinished attempt, attempts used, rules, sections, the pools with their
    # probe codes, the drawn questions, their choices, and the writes (with savepoints):
    # no query per section or per question
    assert queries(small, learner) == queries(big, other_learner) <= 13


def test_attempt_start_refuses_a_blueprint_no_draw_can_meet(quiz, learner):
    # given: a second DO-GRADIENT item is asked for; form A holds one
    BlueprintRule.objects.filter(quiz=quiz, misconception__code="DO-GRADIENT").update(minimum=2)
    # when
    with pytest.raises(ConflictError) as refused:
        attempt_start(quiz=quiz, learner=learner)
    # then
    assert refused.value.code == "quiz_misconfigured"
    assert (
        "DO-GRADIENT: the blueprint asks for 2 items but the sections' pools hold only 1 "
        "that probe it." in refused.value.message
    )
    assert not Attempt.objects.exists()


def test_attempt_start_names_the_rule_the_others_crowd_out(learner):
    # given: one draw from {DO-TEST item, DO-SPEED item}: either rule alone, never both
    bank = BankFactory.create()
    single(bank, probes=("DO-TEST",))
    single(bank, probes=("DO-SPEED",))
    quiz = quiz_of()
    section(quiz, bank, 1)
    rule(quiz, "DO-TEST")
    rule(quiz, "DO-SPEED")
    with pytest.raises(ConflictError, match="together with the rest of the blueprint") as refused:
        attempt_start(quiz=quiz, learner=learner)
    assert refused.value.message.startswith("This quiz cannot start: DO-")


# ---------------------------------------------------------------- feasibility


def _items(*specs: tuple[int, str, tuple[str, ...]]) -> list[Item]:
    return [Item(id=i, qtype=qtype, codes=frozenset(codes)) for i, qtype, codes in specs]


def test_the_check_says_when_the_sections_cannot_draw_enough_of_a_code():
    # given: three DO-TEST items, all in a section that draws one
    items = _items((1, "single", ("DO-TEST",)), (2, "single", ("DO-TEST",)),
                   (3, "single", ("DO-TEST",)), (4, "single", ()))  # fmt: skip
    sections = [Section(draw_count=1, pool=(1, 2, 3), bank="a"), Section(1, (4,), bank="b")]
    # when
    problem = blueprint_problem(items=items, sections=sections, rules=[Rule("DO-TEST", "", 2)])
    # then
    assert problem == (
        "DO-TEST: the blueprint asks for 2 items but the sections can draw at most 1 of the "
        "3 that probe it."
    )


def test_the_check_names_type_rules_and_combined_rules():
    items = _items((1, "single", ("DO-TEST",)), (2, "twotier", ("DO-SPEED",)))
    sections = [Section(draw_count=2, pool=(1, 2), bank="a")]

    def check(*rules: Rule) -> str | None:
        return blueprint_problem(items=items, sections=sections, rules=list(rules))

    assert check(Rule("", "twotier", 1), Rule("DO-TEST", "single", 1)) is None
    assert check(Rule("", "twotier", 2)) == (
        "twotier: the blueprint asks for 2 items but the sections' pools hold only 1 of type "
        "twotier."
    )
    assert check(Rule("DO-TEST", "twotier", 1)) == (
        "DO-TEST (twotier): the blueprint asks for 1 item but the sections' pools hold none of "
        "type twotier that probe it."
    )


def test_the_draw_finds_the_only_draw_that_works():
    # given: 3 draws, 6 rules; only {1, 2, 3} covers them all (4-6 are each a partial decoy
    # that serves two rules, as many as the right items)
    items = _items((1, "single", ("A", "B")), (2, "single", ("C", "D")), (3, "single", ("E", "F")),
                   (4, "single", ("A", "C")), (5, "single", ("B", "E")), (6, "single", ("D", "A")))  # fmt: skip
    sections = [Section(draw_count=3, pool=(1, 2, 3, 4, 5, 6), bank="a")]
    rules = [Rule(code, "", 1) for code in "ABCDEF"]
    assert blueprint_problem(items=items, sections=sections, rules=rules) is None
    for seed in range(100):
        drawn = blueprint_draw(items=items, sections=sections, rules=rules, rng=random.Random(seed))
        assert sorted(drawn[0]) == [1, 2, 3]


def test_an_impossible_joint_blueprint_is_found_and_blamed():
    # given: a prerequisites section draws 2, and the blueprint wants 2 PRE-NEURON items and
    # 1 PRE-OVERFIT item from it; each rule alone can be met, and DO-TEST's rule elsewhere
    items = _items((1, "single", ("PRE-NEURON",)), (2, "single", ("PRE-NEURON",)),
                   (3, "single", ("PRE-NEURON",)), (4, "single", ("PRE-OVERFIT",)),
                   (5, "single", ("DO-TEST",)), (6, "single", ("DO-SPEED",)))  # fmt: skip
    sections = [Section(draw_count=2, pool=(1, 2, 3, 4), bank="pre"),
                Section(draw_count=1, pool=(5, 6), bank="dropout")]  # fmt: skip
    rules = [Rule("PRE-NEURON", "", 2), Rule("PRE-OVERFIT", "", 1), Rule("DO-TEST", "", 1)]
    # when
    problem = blueprint_problem(items=items, sections=sections, rules=rules)
    # then: one of the two rivals is named, with the other; DO-TEST is not blamed
    assert problem in (
        "PRE-NEURON: the blueprint asks for 2 items and the sections' pools hold 3 that probe "
        "it, but no draw of the sections' 3 questions carries them together with the rest of "
        "the blueprint (it competes with PRE-OVERFIT for the same slots).",
        "PRE-OVERFIT: the blueprint asks for 1 item and the sections' pools hold 1 that probe "
        "it, but no draw of the sections' 3 questions carries them together with the rest of "
        "the blueprint (it competes with PRE-NEURON for the same slots).",
    )
    with pytest.raises(blueprint.BlueprintUnmet, match="together with the rest of the blueprint"):
        blueprint_draw(items=items, sections=sections, rules=rules, rng=random.Random(1))


def test_the_quiz_check_reads_the_saved_pools(quiz):
    assert quiz_blueprint_problem(quiz=quiz) is None
    BlueprintRule.objects.filter(quiz=quiz, misconception__code="DO-SPEED").update(minimum=7)
    assert quiz_blueprint_problem(quiz=quiz) == (
        "DO-SPEED: the blueprint asks for 7 items but the sections' pools hold only 6 that "
        "probe it."
    )


# ---------------------------------------------------------------- catalogue


def _fixture(quiz_blueprint: Any, *, count: int = 3) -> list[dict[str, Any]]:
    return [
        {
            "slug": "loaded",
            "title": "Loaded",
            "sections": [{"bank": "mechanics", "count": count, "form": "A"}],
            "blueprint": quiz_blueprint,
        }
    ]


def test_the_catalogue_loads_a_blueprint_and_replaces_it_on_reload(quiz):
    # when
    quizzes_load(
        _fixture(
            [
                {"misconception": "DO-GRADIENT", "qtype": "", "minimum": 1},
                {"misconception": "", "qtype": "twotier", "minimum": 1},
            ]
        )
    )
    # then
    loaded = Quiz.objects.get(slug="loaded")
    assert sorted(str(r) for r in loaded.blueprint_rules.all()) == [
        "at least 1 item(s) of type twotier",
        "at least 1 item(s) that probe DO-GRADIENT",
    ]
    # and a reload without a blueprint leaves none
    quizzes_load([{k: v for k, v in _fixture([])[0].items() if k != "blueprint"}])
    assert not loaded.blueprint_rules.exists()


@pytest.mark.parametrize(
    ("entries", "message", "field"),
    [
        ([{"misconception": "DO-NOPE", "minimum": 1}], "unknown misconception 'DO-NOPE'",
         "loaded.blueprint[0].misconception"),
        ([{"qtype": "essay", "minimum": 1}], "unknown question type 'essay'",
         "loaded.blueprint[0].qtype"),
        ([{"misconception": "", "qtype": "", "minimum": 1}], "name a misconception",
         "loaded.blueprint[0]"),
        ([{"misconception": "DO-TEST", "minimum": 0}], "at least 1, not 0",
         "loaded.blueprint[0].minimum"),
        ([{"code": "DO-TEST"}], "unknown key(s) 'code'", "loaded.blueprint[0].code"),
        ([{"misconception": "DO-TEST"}, {"misconception": "DO-TEST", "minimum": 2}],
         "a second rule for DO-TEST", "loaded.blueprint[1]"),
    ],
)  # fmt: skip
def test_the_catalogue_refuses_a_malformed_blueprint(quiz, entries, message, field):
    with pytest.raises(ApplicationError) as refused:
        quizzes_load(_fixture(entries))
    assert message in refused.value.message
    assert field in refused.value.fields
    assert not Quiz.objects.filter(slug="loaded").exists()


def test_the_catalogue_refuses_a_blueprint_its_pools_cannot_meet(quiz):
    with pytest.raises(ApplicationError) as refused:
        quizzes_load(_fixture([{"misconception": "DO-GRADIENT", "minimum": 2}]))
    assert refused.value.message == (
        "Quiz 'loaded': no attempt could honour its blueprint. DO-GRADIENT: the blueprint asks "
        "for 2 items but the sections' pools hold only 1 that probe it."
    )
    assert "loaded.blueprint" in refused.value.fields
    assert not Quiz.objects.filter(slug="loaded").exists()


# ---------------------------------------------------------------- copies


def test_a_course_copy_over_lti_carries_the_blueprint(quiz):
    course = Course.objects.create(slug="lms-course", title="LMS course")
    copy = quiz_for_course(quiz, course)
    assert copy.id != quiz.id
    assert _rules(copy) == _rules(quiz)


def test_the_simulated_class_copies_carry_the_blueprint(quiz):
    # given: the catalogue's pre- and post-test (here: the blueprinted quiz, and a copy)
    Quiz.objects.filter(id=quiz.id).update(slug="dropout-pretest")
    post = quiz_of(slug="dropout-posttest")
    section(post, quiz.sections.first().bank, 1, "B")
    rule(post, "DO-GRADIENT")
    course = Course.objects.create(slug="sim", title="Simulated")
    # when
    pre_copy, post_copy = course_quizzes_ensure(course)
    # then
    assert _rules(pre_copy) == _rules(quiz) and len(_rules(quiz)) == 4
    assert _rules(post_copy) == [("DO-GRADIENT", "", 1)]


def _rules(quiz: Quiz) -> list[tuple[str, str, int]]:
    return sorted(
        (r.misconception.code if r.misconception else "", r.qtype, r.minimum)
        for r in quiz.blueprint_rules.select_related("misconception")
    )


# ---------------------------------------------------------------- the admin


@pytest.fixture
def admin_client(client: Any) -> Any:
    client.force_login(
        get_user_model().objects.create_superuser("boss", "boss@example.com", "pass-word-123")
    )
    return client


def _post(quiz: Quiz, sections: list[QuizSection], rules: list[dict[str, Any]]) -> dict[str, Any]:
    """The Quiz change form as the admin posts it: the quiz, its sections, its blueprint."""
    data: dict[str, Any] = {
        "slug": quiz.slug,
        "title": quiz.title,
        "description": quiz.description,
        "shuffle_questions": "on",
        "time_limit": "",
        "attempts_allowed": "",
        "opens_at_0": "",
        "opens_at_1": "",
        "closes_at_0": "",
        "closes_at_1": "",
        "is_published": "on",
        "course": "",
        "role": quiz.role,
        "sections-TOTAL_FORMS": len(sections),
        "sections-INITIAL_FORMS": sum(1 for s in sections if s.pk),
        "blueprint_rules-TOTAL_FORMS": len(rules),
        "blueprint_rules-INITIAL_FORMS": sum(1 for r in rules if r.get("id")),
    }
    for index, s in enumerate(sections):
        prefix = f"sections-{index}-"
        data |= {prefix + "id": s.pk or "", prefix + "quiz": quiz.pk, prefix + "bank": s.bank_id,
                 prefix + "draw_count": s.draw_count, prefix + "form": s.form,
                 prefix + "position": s.position}  # fmt: skip
    for index, r in enumerate(rules):
        prefix = f"blueprint_rules-{index}-"
        data |= {prefix + "id": r.get("id", ""), prefix + "quiz": quiz.pk,
                 prefix + "misconception": r.get("misconception", ""),
                 prefix + "qtype": r.get("qtype", ""), prefix + "minimum": r.get("minimum", 1)}  # fmt: skip
        if r.get("delete"):
            data[prefix + "DELETE"] = "on"
    return data


def _saved_rules(quiz: Quiz) -> list[dict[str, Any]]:
    return [
        {"id": r.id, "misconception": r.misconception_id or "", "qtype": r.qtype,
         "minimum": r.minimum, "code": r.misconception.code if r.misconception else ""}
        for r in quiz.blueprint_rules.select_related("misconception")
    ]  # fmt: skip


def test_the_admin_shows_and_saves_a_feasible_blueprint(quiz, admin_client):
    url = reverse("admin:assessments_quiz_change", args=[quiz.id])
    page = admin_client.get(url)
    assert page.status_code == 200
    assert b"Blueprint: every attempt carries at least" in page.content
    # when: the two-tier rule is deleted and a rule for single-choice DO-TEST items added
    rules = _saved_rules(quiz)
    next(r for r in rules if r["qtype"] == "twotier")["delete"] = True
    test = BlueprintRule.objects.get(quiz=quiz, qtype="twotier").id  # kept for the check below
    rules.append({"misconception": code("DO-TEST").id, "qtype": "single", "minimum": 1})
    response = admin_client.post(url, _post(quiz, list(quiz.sections.all()), rules))
    # then
    assert response.status_code == 302, response.content.decode()[:3000]
    assert not BlueprintRule.objects.filter(id=test).exists()
    assert _rules(quiz) == [("DO-DATA", "truefalse", 1), ("DO-GRADIENT", "", 1),
                            ("DO-SPEED", "", 1), ("DO-TEST", "single", 1)]  # fmt: skip


def test_the_admin_refuses_rules_that_crowd_each_other_out(quiz, admin_client):
    # given: section 2 draws 2 and must hold the DO-DATA item: room for 1 DO-SPEED item only
    url = reverse("admin:assessments_quiz_change", args=[quiz.id])
    rules = _saved_rules(quiz)
    next(r for r in rules if r["code"] == "DO-SPEED")["minimum"] = 2
    # when
    response = admin_client.post(url, _post(quiz, list(quiz.sections.all()), rules))
    # then
    assert response.status_code == 200
    assert "together with the rest of the blueprint" in response.content.decode()
    assert ("DO-SPEED", "", 1) in _rules(quiz)


def test_the_admin_refuses_a_blueprint_the_pools_cannot_meet(quiz, admin_client):
    url = reverse("admin:assessments_quiz_change", args=[quiz.id])
    before = _rules(quiz)
    rules = _saved_rules(quiz)
    gradient = BlueprintRule.objects.get(quiz=quiz, misconception__code="DO-GRADIENT")
    next(r for r in rules if r["id"] == gradient.id)["minimum"] = 2
    # when
    response = admin_client.post(url, _post(quiz, list(quiz.sections.all()), rules))
    # then
    assert response.status_code == 200
    assert (
        "No attempt could honour this blueprint. DO-GRADIENT: the blueprint asks for 2 items "
        "but the sections&#x27; pools hold only 1 that probe it."
    ) in response.content.decode()
    assert _rules(quiz) == before


def test_the_admin_refuses_sections_that_break_the_blueprint(quiz, admin_client):
    url = reverse("admin:assessments_quiz_change", args=[quiz.id])
    sections = list(quiz.sections.order_by("position"))
    # when: the mechanics section switches to form B, where no item is two-tier
    sections[0].form = "B"
    response = admin_client.post(url, _post(quiz, sections, _saved_rules(quiz)))
    # then
    assert response.status_code == 200
    assert (
        "No attempt could honour the blueprint with these sections. twotier: the blueprint "
        "asks for 1 item but the sections&#x27; pools hold none of type twotier."
    ) in response.content.decode()
    assert quiz.sections.get(position=0).form == "A"


def test_the_admin_refuses_two_rules_for_the_same_code_and_type(quiz, admin_client):
    url = reverse("admin:assessments_quiz_change", args=[quiz.id])
    speed = BlueprintRule.objects.get(quiz=quiz, misconception__code="DO-SPEED")
    rules = [*_saved_rules(quiz), {"misconception": speed.misconception_id, "minimum": 1}]
    response = admin_client.post(url, _post(quiz, list(quiz.sections.all()), rules))
    assert response.status_code == 200
    assert "Two rules count item(s) that probe DO-SPEED" in response.content.decode()
    assert quiz.blueprint_rules.count() == 4


# ---------------------------------------------------------------- the statistics page


def test_instructors_see_the_blueprint_beside_the_quizs_statistics(quiz, client):
    # given: the quiz belongs to a course; its instructor opens the statistics
    teacher = get_user_model().objects.create_user("tess", password="pass-word-123")
    course = Course.objects.create(slug="taught", title="Taught")
    course.instructors.add(teacher)
    Quiz.objects.filter(id=quiz.id).update(course=course)
    client.force_login(teacher)
    # when
    page = client.get(reverse("analytics:quiz_statistics", args=[quiz.id]))
    # then
    assert page.status_code == 200
    html = page.content.decode()
    table = html[html.index('id="blueprint-rules"') :]
    table = table[: table.index("</table>")]
    assert table.count("<tr>") == 5  # the header and four rules
    assert ">DO-GRADIENT</span>" in table and "<code>twotier</code>" in table


def test_a_quiz_without_a_blueprint_shows_none(client):
    author = get_user_model().objects.create_user("author", password="pass-word-123")
    author.groups.add(role_group(BANK_AUTHORS))  # a catalogue quiz's statistics are theirs
    client.force_login(author)
    page = client.get(reverse("analytics:quiz_statistics", args=[quiz_of(single()).id]))
    assert page.status_code == 200
    assert b'id="blueprint"' not in page.content
