"""The shipped catalogue: loads, covers every misconception, and makes the two quizzes."""

import itertools
import json
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings

from assessments.catalog import catalog_load, demo_class_create
from assessments.models import Misconception, Question, QuestionType, Quiz
from assessments.numeric import expression_evaluate, within_tolerance
from assessments.services import attempt_start
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
MISCONCEPTIONS_MD = Path(settings.BASE_DIR).parent / "shared" / "misconceptions.md"


@pytest.fixture
def catalog():
    return catalog_load()


def _coverage():
    counts: Counter[str] = Counter()
    for question in Question.objects.prefetch_related(
        "probes", "choices__misconceptions", "distractors__misconceptions"
    ):
        codes = {m.code for m in question.probes.all()}
        codes |= {m.code for c in question.choices.all() for m in c.misconceptions.all()}
        codes |= {m.code for d in question.distractors.all() for m in d.misconceptions.all()}
        counts.update(codes)
    return counts


def test_the_banks_meet_the_content_requirements(catalog):
    dropout = Question.objects.filter(bank__is_prerequisite=False)
    assert dropout.count() >= 48
    assert dropout.filter(qtype=QuestionType.TWO_TIER).count() >= 6
    assert dropout.filter(qtype=QuestionType.NUMERIC).count() >= 6
    assert Question.objects.filter(bank__is_prerequisite=True).count() >= 6
    coverage = _coverage()
    for misconception in Misconception.objects.filter(kind="misconception"):
        assert coverage[misconception.code] >= 3, misconception.code
    for code in ("DO-SPEED", "DO-DATA", "DO-TEST"):
        assert coverage[code] >= 6, code
    assert coverage["PRE-NEURON"] >= 3
    assert coverage["PRE-OVERFIT"] >= 3


@pytest.mark.skipif(
    not MISCONCEPTIONS_MD.exists(), reason="shared/misconceptions.md is not beside the repository"
)
def test_every_code_of_the_catalogue_document_is_loaded(catalog):
    documented = {
        line.split("|")[1].strip()
        for line in MISCONCEPTIONS_MD.read_text().splitlines()
        if line.startswith("| DO-")
    }
    assert documented
    assert documented <= set(Misconception.objects.values_list("code", flat=True))


def test_every_wrong_option_names_a_misconception_with_feedback(catalog):
    for question in Question.objects.prefetch_related("choices__misconceptions"):
        for choice in question.choices.all():
            if not choice.is_correct:
                assert choice.misconceptions.exists(), (question.slug, choice.text)
                assert choice.feedback.strip(), (question.slug, choice.text)


def test_numeric_distractors_never_coincide_with_the_answer(catalog):
    for question in Question.objects.filter(qtype=QuestionType.NUMERIC).prefetch_related(
        "distractors"
    ):
        names = sorted(question.parameters)
        for values in itertools.product(*(question.parameters[n] for n in names)):
            parameters = dict(zip(names, values, strict=True))
            target = expression_evaluate(question.answer, parameters)
            for distractor in question.distractors.all():
                predicted = expression_evaluate(distractor.answer, parameters)
                assert not within_tolerance(
                    predicted,
                    target,
                    tolerance=question.tolerance,
                    relative=question.tolerance_is_relative,
                ), question.slug


def test_pre_and_post_tests_draw_sixteen_different_items_from_the_same_banks(catalog):
    learner = UserFactory.create()
    pre = attempt_start(quiz=Quiz.objects.get(slug="dropout-pretest"), learner=learner)
    post = attempt_start(quiz=Quiz.objects.get(slug="dropout-posttest"), learner=learner)
    pre_items = set(pre.responses.values_list("question_id", flat=True))
    post_items = set(post.responses.values_list("question_id", flat=True))
    assert len(pre_items) == len(post_items) == 16
    assert not pre_items & post_items
    banks = lambda quiz: set(quiz.sections.values_list("bank__slug", flat=True))  # noqa: E731
    assert banks(pre.quiz) == banks(post.quiz)


def test_loading_twice_changes_nothing(catalog, settings):
    settings.DEBUG = True  # demo accounts are made only in development
    before = (Question.objects.count(), Misconception.objects.count(), Quiz.objects.count())
    catalog_load()
    demo_class_create()
    demo_class_create()
    assert (Question.objects.count(), Misconception.objects.count(), Quiz.objects.count()) == before


def test_the_fixture_files_round_trip_through_export(catalog):
    from assessments.bank_transfer import bank_export
    from assessments.models import QuestionBank

    for bank in QuestionBank.objects.all():
        source = json.loads(
            (Path(settings.BASE_DIR) / "fixtures" / "banks" / f"{bank.slug}.json").read_text()
        )
        exported = bank_export(bank)
        assert [q["slug"] for q in exported["questions"]] == [
            q["slug"] for q in source["questions"]
        ]
        assert sum(len(q["choices"]) for q in exported["questions"]) == sum(
            len(q["choices"]) for q in source["questions"]
        )


def _sentences(text: str) -> list[str]:
    import re

    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) >= 10]


def _feedback_texts():
    """Yield (slug, where, text) for every feedback text of every bank file."""
    for path in sorted((Path(settings.BASE_DIR) / "fixtures" / "banks").glob("*.json")):
        for question in json.loads(path.read_text())["questions"]:
            yield question["slug"], "feedback", question["feedback"]
            for choice in question.get("choices", []):
                yield question["slug"], "choice", choice["feedback"]
            for distractor in question.get("numeric", {}).get("distractors", []):
                yield question["slug"], "choice", distractor["feedback"]


def test_no_feedback_sentence_repeats_on_one_screen_or_across_the_banks():
    # given every sentence of 10 words or more in the banks' feedback
    places: dict[str, list[tuple[str, str]]] = {}
    general: dict[str, set[str]] = {}
    for slug, where, text in _feedback_texts():
        for sentence in _sentences(text):
            places.setdefault(sentence, []).append((slug, where))
            if where == "feedback":
                general.setdefault(slug, set()).add(sentence)
    # then none is shown twice on one results screen (an option's and its question's)
    same_screen = [
        (slug, sentence[:60])
        for sentence, found in places.items()
        for slug, where in found
        if where == "choice" and sentence in general.get(slug, set())
    ]
    assert not same_screen
    # and no passage is pasted into three or more places
    repeated = {sentence[:60]: len(found) for sentence, found in places.items() if len(found) >= 3}
    assert not repeated
