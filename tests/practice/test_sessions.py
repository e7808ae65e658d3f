"""Guided practice on scripted learners, asserted step by step against the tutor's rules.

BKT defaults (practice.bkt): misconceptions prior .5, learn .1, guess .2, slip .1;
prerequisites prior .8, learn .3, guess .2, slip .1. Every P(known) below is worked by hand
from P(L|right) = P(1-S) / (P(1-S) + (1-P)G), P(L|wrong) = PS / (PS + (1-P)(1-G)),
then P + (1-P)T.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from assessments.answers import AnswerInput
from assessments.models import Attempt, Misconception, Question, Quiz, Response
from core.errors import ApplicationError, ConflictError, NotFoundError
from practice import instructor_services, services
from practice.mastery import mastery_threshold
from practice.models import Mastery, PracticeSession, PracticeStep
from practice.selectors.items import BUILT_IN_PAIRS, practice_items, practice_questions
from tests.factories import UserFactory
from tests.practice.scripted import ScriptedLearner, wrong_answer
from tests.practice.scripted import right_answer as right_answer_of

pytestmark = pytest.mark.django_db

Kind = PracticeStep.Kind


def _probes(step: PracticeStep) -> set[str]:
    return {m.code for m in step.prompt.probes.all()}


def _revealed(step: PracticeStep) -> set[str]:
    return {m.code for m in step.revealed.all()}


def _mastery(learner, code: str) -> Mastery:
    return Mastery.objects.get(learner=learner, misconception__code=code)


def _disable_code_items(course) -> None:
    questions = practice_questions(course=course)
    instructor_services.practice_items_arrange(
        course=course, order=[(q.id, q.qtype != "code") for q in questions]
    )


def test_a_learner_who_answers_everything_right_gets_a_short_session(course, enrolled):
    # given
    learner = ScriptedLearner(course=course, learner=enrolled)
    # when
    answered = learner.right_until(Kind.EXPLAIN_BACK)
    explained = learner.explain_fully()
    # then: one check per prerequisite, two right answers per misconception (items probing
    # several cover them together: 12 items settle the 14 misconceptions), the explain-back,
    # and no remediation of any kind
    kinds = [step.kind for step in answered]
    assert kinds[:2] == [Kind.PREREQUISITE, Kind.PREREQUISITE]
    assert set(kinds[2:]) == {Kind.PROBE}
    assert len(answered) == 14
    assert len(learner.session.agenda) == 16  # DO-ILLUSION is shown by explanations alone
    assert explained.is_correct is True
    learner.session.refresh_from_db()
    assert learner.session.state == PracticeSession.State.FINISHED
    # one right answer settles a prerequisite: .8*.9/(.72+.2*.2) = .947368; +.052632*.3 = .963158
    assert answered[0].mastery_after == {"PRE-NEURON": pytest.approx(0.9632, abs=1e-4)}
    threshold = mastery_threshold()
    for code in learner.session.agenda:
        assert _mastery(enrolled, code).p_known >= threshold, code
    assert not Mastery.objects.filter(learner=enrolled, held=True).exists()


def test_a_learner_missing_the_neuron_prerequisite_is_taught_and_checked_again(course, enrolled):
    # given
    learner = ScriptedLearner(course=course, learner=enrolled)
    first = learner.current()
    assert first.kind == Kind.PREREQUISITE and first.target.code == "PRE-NEURON"
    # when: the neuron check is missed, unsure
    missed = learner.wrong("PRE-NEURON", confidence=1)
    # then: .8*.1/(.08+.2*.8) = .333333; +.666667*.3 = .533333
    assert missed.is_correct is False
    assert missed.mastery_after == {"PRE-NEURON": pytest.approx(0.533333, abs=1e-4)}
    recheck = learner.current()
    assert recheck.kind == Kind.RECHECK and recheck.target.code == "PRE-NEURON"
    assert recheck.question_id != missed.question_id
    assert recheck.question.qtype != missed.question.qtype  # another form of the same check
    assert "now you have read the explanation" in recheck.reason
    # when: the fresh check is right; .533333*.9 = .48, .466667*.2 = .093333,
    # .48/.573333 = .837209; +.162791*.3 = .886047 (not yet .95: one more check)
    checked = learner.right()
    assert checked.mastery_after == {"PRE-NEURON": pytest.approx(0.886047, abs=1e-4)}
    again = learner.current()
    assert again.kind == Kind.RECHECK and again.target.code == "PRE-NEURON"
    assert again.question_id not in {missed.question_id, recheck.question_id}
    # .886047*.9 = .797442, .113953*.2 = .022791, .797442/.820233 = .972215; +.027785*.3 = .980550
    settled = learner.right()
    assert settled.mastery_after == {"PRE-NEURON": pytest.approx(0.980550, abs=1e-4)}
    # then: the other prerequisite, and only then dropout itself
    overfit = learner.current()
    assert overfit.kind == Kind.PREREQUISITE and overfit.target.code == "PRE-OVERFIT"
    learner.right()
    assert learner.current().kind == Kind.PROBE
    neuron = _mastery(enrolled, "PRE-NEURON")
    assert neuron.held is True and neuron.held_confidently is False  # a gap, now filled
    assert neuron.mastered_at is not None


def test_a_prerequisite_missed_three_times_is_left_as_a_gap(course, enrolled):
    learner = ScriptedLearner(course=course, learner=enrolled)
    for _ in range(3):
        assert learner.current().target.code == "PRE-NEURON"
        learner.wrong("PRE-NEURON", confidence=2)
    following = learner.current()
    assert following.target.code == "PRE-OVERFIT"
    assert _mastery(enrolled, "PRE-NEURON").p_known < mastery_threshold()


def test_a_learner_sure_that_dropout_runs_at_test_time_is_shown_otherwise(course, enrolled):
    # given: the prerequisites are known
    learner = ScriptedLearner(course=course, learner=enrolled)
    learner.right()
    learner.right()
    probe = learner.current()
    assert probe.kind == Kind.PROBE and probe.question.slug == "fixedmask-seed-b"
    assert "DO-TEST" in _probes(probe)
    # when: a sure wrong answer: "nothing is wrong, the mask only matters at inference"
    held = learner.wrong("DO-TEST", confidence=5)
    # then: .5*.1/(.05+.5*.8) = .111111; +.888889*.1 = .2
    assert _revealed(held) == {"DO-TEST"}
    assert held.mastery_after == {"DO-TEST": pytest.approx(0.2, abs=1e-4)}
    # and the same idea from another angle, of a type not yet used on it: a two-tier item
    other_angle = learner.current()
    assert other_angle.kind == Kind.REMEDIATION and other_angle.target.code == "DO-TEST"
    assert "You were sure (confidence 5 of 5)" in other_angle.reason
    assert other_angle.question.slug == "noscale-twotier-a"
    # when: "yes, they match: the random zeros average out", sure again (answer and reason
    # both say no scaling is needed)
    mixed = learner.wrong("DO-NOSCALE", confidence=5)
    # then: the other belief of a known confusion shows; DO-NOSCALE from .5 to .2 (and
    # nothing said about DO-TEST, which the answer does not point at)
    assert _revealed(mixed) == {"DO-NOSCALE"}
    assert mixed.mastery_after == {"DO-NOSCALE": pytest.approx(0.2, abs=1e-4)}
    # then: two steps after the first sure answer, explain back the idea it was sure of, on
    # the explain item about it that is not the closing one (explain-scaling-a: its third
    # key idea answers DO-TEST)
    explain = learner.current()
    assert explain.kind == Kind.EXPLAIN_BACK and explain.target.code == "DO-TEST"
    assert explain.question.slug == "explain-scaling-a"
    assert explain.reason == (
        "Two steps ago you were sure (confidence 5 of 5) of an answer that pointed at "
        "“Dropout is also applied at inference”. Explain that idea back in your own words."
    )
    explained = learner.explain_fully()
    # a complete explanation: a right answer on DO-ILLUSION (.5 -> .836364), and the session
    # goes on
    assert explained.is_correct is True
    assert explained.mastery_after == {"DO-ILLUSION": pytest.approx(0.836364, abs=1e-4)}
    learner.session.refresh_from_db()
    assert learner.session.state == PracticeSession.State.ACTIVE
    # then: the two-tier answer, sure of another belief, gets its own explain-back: on the
    # explain item most about DO-NOSCALE not yet asked (explain-deployed-b: one key idea on
    # it alone; explain-dropped-unit-b shares its idea with DO-GRADIENT)
    no_scale = learner.current()
    assert no_scale.kind == Kind.EXPLAIN_BACK and no_scale.target.code == "DO-NOSCALE"
    assert no_scale.question.slug == "explain-deployed-b"
    assert "pointed at “No rescaling is needed”" in no_scale.reason
    learner.explain_fully()
    # then: the answers have pointed at both beliefs of the pair, and the latest one is
    # followed up as if the explain-backs had not come between: an item that tells them apart
    separating = learner.current()
    assert separating.kind == Kind.SEPARATING
    assert separating.question.slug == "classic-test-a"
    assert {"DO-TEST", "DO-NOSCALE"} <= _probes(separating)
    assert "tells the two apart" in separating.reason
    # when: the separating item shows it is the test-time belief, held firmly
    shown = learner.wrong("DO-TEST", confidence=5)
    # then: .2*.1/(.02+.8*.8) = .030303; +.969697*.1 = .127273
    assert _revealed(shown) == {"DO-TEST"}
    assert shown.mastery_after == {"DO-TEST": pytest.approx(0.127273, abs=1e-4)}
    remediation = learner.current()
    assert remediation.kind == Kind.REMEDIATION and remediation.target.code == "DO-TEST"
    assert "You were sure (confidence 5 of 5)" in remediation.reason
    # a different item, of a type not yet used on DO-TEST (single and two-tier were)
    assert remediation.question.qtype == "numeric"
    # when: corrected after the feedback; .127273*.9 = .114545, .872727*.2 = .174545,
    # .114545/.289091 = .396226; +.603774*.1 = .456604
    corrected = learner.right()
    assert corrected.mastery_after["DO-TEST"] == pytest.approx(0.456604, abs=1e-4)
    # then: no second explain-back on DO-TEST, although the separating answer was sure too;
    # the least mastered of what was touched is probed first: DO-NOSCALE (.2), then DO-TEST
    # (.456604)
    following = learner.current()
    assert following.kind == Kind.PROBE and following.target.code == "DO-NOSCALE"
    for _ in range(15):
        if _mastery(enrolled, "DO-TEST").p_known >= mastery_threshold():
            break
        learner.right()
    else:
        raise AssertionError("DO-TEST never settled")
    learner.right_until(Kind.EXPLAIN_BACK)
    closing = learner.current()
    assert closing.target is None and closing.question.slug == "explain-what-why-a"
    learner.explain_fully()
    learner.session.refresh_from_db()
    assert learner.session.state == PracticeSession.State.FINISHED
    belief = _mastery(enrolled, "DO-TEST")
    assert belief.held and belief.held_confidently and belief.mastered_at is not None
    later = learner.session.steps.filter(number__gt=following.number, target__code="DO-TEST")
    assert not later.filter(kind=Kind.REMEDIATION).exists()
    explains = learner.session.steps.filter(kind=Kind.EXPLAIN_BACK).order_by("number")
    targets = [step.target.code if step.target else None for step in explains]
    assert targets == ["DO-TEST", "DO-NOSCALE", None]


def test_a_learner_who_claims_to_understand_but_cannot_explain_is_sent_back(course, enrolled):
    # given: code exercises switched off by the instructor (no grader in this test); the
    # learner answers every item right and is sure of everything
    _disable_code_items(course)
    learner = ScriptedLearner(course=course, learner=enrolled)
    for _ in range(30):
        if learner.current().kind == Kind.EXPLAIN_BACK:
            break
        learner.right(confidence=5)
    # no item but an explanation bears on DO-ILLUSION: it is still at its prior
    illusion_before = _mastery(enrolled, "DO-ILLUSION").p_known
    assert illusion_before == pytest.approx(0.5, abs=1e-4)
    # when: "I understand it now" and one key idea, which the self-check finds too
    failed = learner.explain(
        "I understand it now; dropout is simple. It zeroes each unit's output at random, "
        "with a new random mask on every training pass.",
        ticked=[0],
    )
    # then: an illusion of understanding: .5*.1 = .05, .5*.8 = .4, .05/.45 = .111111;
    # +.888889*.1 = .2
    assert failed.is_correct is False
    assert failed.mastery_after["DO-ILLUSION"] == pytest.approx(0.2, abs=1e-4)
    assert {"DO-ILLUSION", "DO-ENSEMBLE", "DO-TEST", "DO-SPEED"} <= _revealed(failed)
    # then: back to the items on each idea left out, in the order of the ideas
    question = failed.question
    missing = [question.key_ideas[i] for i in (1, 2, 3)]
    sent_back = learner.right_until(Kind.EXPLAIN_BACK)
    assert sent_back, "no item between the two explanations"
    assert {step.kind for step in sent_back} == {Kind.REMEDIATION}
    reasons = [step.reason for step in sent_back]
    assert all(any(idea in reason for idea in missing) for reason in reasons)
    assert missing[0] in reasons[0] and missing[-1] in reasons[-1]
    for step in sent_back:
        assert (
            step.target.code
            in question.key_idea_probes[1]
            + question.key_idea_probes[2]
            + question.key_idea_probes[3]
        )
    again = learner.current()
    assert "again" in again.reason and again.question_id == question.id
    # when: the second explanation has every key idea
    learner.explain_fully()
    # then
    learner.session.refresh_from_db()
    assert learner.session.state == PracticeSession.State.FINISHED


def test_mixing_up_ensembles_and_pruning_brings_an_item_that_separates_them(course, enrolled):
    learner = ScriptedLearner(course=course, learner=enrolled)
    seen: set[str] = set()
    for _ in range(40):
        step = learner.current()
        if step.kind == Kind.SEPARATING:
            break
        if step.kind == Kind.EXPLAIN_BACK:  # on a belief the learner was sure of
            learner.explain_fully()
            continue
        probes = _probes(step)
        pending = [c for c in ("DO-PERMANENT", "DO-ENSEMBLE") if c in probes and c not in seen]
        if pending and step.question.qtype != "numeric":
            seen.add(pending[0])
            learner.wrong(pending[0], confidence=4)
        else:
            learner.right()
    else:
        raise AssertionError("no separating item")
    assert seen == {"DO-PERMANENT", "DO-ENSEMBLE"}
    assert {"DO-ENSEMBLE", "DO-PERMANENT"} <= _probes(step)
    ensemble, permanent = (
        Misconception.objects.get(code=c) for c in ("DO-ENSEMBLE", "DO-PERMANENT")
    )
    wrong_options = [
        {m.code for m in choice.misconceptions.all()}
        for choice in step.question.choices.all()
        if not choice.is_correct
    ]
    assert any(ensemble.code in o and permanent.code not in o for o in wrong_options)
    assert any(permanent.code in o and ensemble.code not in o for o in wrong_options)


def _wrong_options(question) -> list[set[str]]:
    """The codes each wrong option of a question points at (choices or numeric distractors)."""
    options = [
        {m.code for m in choice.misconceptions.all()}
        for choice in question.choices.all()
        if not choice.is_correct
    ]
    return options + [{m.code for m in d.misconceptions.all()} for d in question.distractors.all()]


def test_every_built_in_pair_has_items_that_tell_it_apart(course):
    # given the shipped banks, every item in use
    items = practice_items(course=course)
    slugs = dict(Question.objects.values_list("id", "slug"))
    # then: for each built-in pair, items that probe both and whose wrong options point at
    # each without the other
    for first, second in BUILT_IN_PAIRS:
        separating = sorted(
            slugs[item.question_id]
            for item in items
            if {first, second} <= item.probes and item.separates(first, second)
        )
        assert separating, (first, second)
    no_scale_or_scheme = sorted(
        slugs[item.question_id]
        for item in items
        if {"DO-NOSCALE", "DO-SCHEME"} <= item.probes and item.separates("DO-NOSCALE", "DO-SCHEME")
    )
    assert no_scale_or_scheme == [
        "classic-inverted-b",
        "classic-test-a",
        "noscale-twotier-a",
        "num-classic-inference-a",
        "num-inverted-mean-a",
        "num-kept-value-a",
        "num-scale-factor-a",
        "pkeep-twotier-b",
    ]


def test_mixing_up_no_scaling_and_the_scaling_scheme_brings_an_item_that_separates_them(
    course, enrolled
):
    # given: a learner who leaves the scale out on one item and scales at the wrong time on
    # another (the two built-in pair's beliefs), sure of both
    learner = ScriptedLearner(course=course, learner=enrolled)
    seen: set[str] = set()
    for _ in range(40):
        step = learner.current()
        if step.kind == Kind.SEPARATING:
            break
        if step.kind == Kind.EXPLAIN_BACK:  # on a belief the learner was sure of
            learner.explain_fully()
            continue
        pending = [
            code
            for code in ("DO-NOSCALE", "DO-SCHEME")
            if code not in seen and any(o == {code} for o in _wrong_options(step.prompt))
        ]
        if pending:
            answered = learner.wrong(pending[0], confidence=4)
            seen |= _revealed(answered) & {"DO-NOSCALE", "DO-SCHEME"}
        else:
            learner.right()
    else:
        raise AssertionError("no separating item")
    # then: an item probing both, with a wrong option for each alone
    assert seen == {"DO-NOSCALE", "DO-SCHEME"}
    assert {"DO-NOSCALE", "DO-SCHEME"} <= _probes(step)
    options = _wrong_options(step.prompt)
    assert any("DO-NOSCALE" in o and "DO-SCHEME" not in o for o in options)
    assert any("DO-SCHEME" in o and "DO-NOSCALE" not in o for o in options)
    assert "Your answers have pointed both at “No rescaling is needed” and at" in step.reason


def test_an_instructor_linked_pair_is_separated_too(course, enrolled):
    # given: the instructor sees learners mix up speed and data
    instructor_services.confused_pair_add(course=course, first="DO-SPEED", second="DO-DATA")
    learner = ScriptedLearner(course=course, learner=enrolled)
    seen: set[str] = set()
    for _ in range(40):
        step = learner.current()
        if step.kind == Kind.SEPARATING:
            break
        if step.kind == Kind.EXPLAIN_BACK:  # on a belief the learner was sure of
            learner.explain_fully()
            continue
        probes = _probes(step)
        pending = [c for c in ("DO-SPEED", "DO-DATA") if c in probes and c not in seen]
        if pending and step.question.qtype not in ("numeric", "multiple"):
            seen.add(pending[0])
            learner.wrong(pending[0], confidence=4)
        else:
            learner.right()
    else:
        raise AssertionError("no separating item")
    assert {"DO-SPEED", "DO-DATA"} <= _probes(step)


def test_progress_is_kept_across_visits(course, enrolled):
    # given: two prerequisites and a few items, then "stop for now"
    learner = ScriptedLearner(course=course, learner=enrolled)
    for _ in range(5):
        learner.right()
    services.session_stop(session_id=learner.session.id, learner=enrolled)
    settled = set(
        Mastery.objects.filter(learner=enrolled, mastered_at__isnull=False).values_list(
            "misconception__code", flat=True
        )
    )
    assert {"PRE-NEURON", "PRE-OVERFIT"} <= settled
    # when: the learner comes back
    again = services.session_open(course=course, learner=enrolled)
    # then: a new session on what is still open, starting with dropout itself
    assert again.id != learner.session.id
    assert not set(again.agenda) & settled
    assert again.steps.get().kind == Kind.PROBE
    with pytest.raises(ConflictError):
        services.step_answer(
            step_id=learner.session.steps.order_by("number").last().id,
            learner=enrolled,
            answer=AnswerInput(choice_ids=[], confidence=3),
        )


def test_quiz_answers_in_the_course_seed_the_learners_mastery(course, enrolled):
    # given: a submitted quiz of this course where the learner chose "it speeds training"
    question = Question.objects.get(slug="speed-epochs-tf-a")
    quiz = Quiz.objects.create(slug="pre", title="Pre-test", course=course)
    now = timezone.now()
    attempt = Attempt.objects.create(
        quiz=quiz,
        learner=enrolled,
        number=1,
        seed=1,
        state=Attempt.State.SUBMITTED,
        started_at=now - timedelta(minutes=5),
        submitted_at=now,
    )
    response = Response.objects.create(
        attempt=attempt, slot=1, question=question, answered_at=now, confidence=5, is_correct=False
    )
    response.misconceptions.set(Misconception.objects.filter(code="DO-SPEED"))
    # when
    services.session_open(course=course, learner=enrolled)
    # then: one wrong answer from the prior: .5*.1/(.05+.4) = .111111; +.888889*.1 = .2
    speed = _mastery(enrolled, "DO-SPEED")
    assert speed.p_known == pytest.approx(0.2, abs=1e-4)
    assert speed.held is False  # held in practice only; the quiz shows in the quiz analytics
    assert _mastery(enrolled, "DO-DATA").p_known == pytest.approx(0.5)


def test_bad_input_is_refused_and_changes_nothing(course, enrolled, other_learner):
    learner = ScriptedLearner(course=course, learner=enrolled)
    step = learner.current()
    cases = [
        (AnswerInput(choice_ids=[], confidence=3), "choices"),
        (AnswerInput(choice_ids=[999999], confidence=3), "choices"),
        (AnswerInput(choice_ids=[step.question.choices.first().id]), "confidence"),
        (AnswerInput(choice_ids=[step.question.choices.first().id], confidence=9), "confidence"),
        (AnswerInput(numeric_value=3.0, confidence=3), "numeric_value"),
        (AnswerInput(text="words", confidence=3), "text"),
    ]
    for answer, field in cases:
        with pytest.raises(ApplicationError) as caught:
            services.step_answer(step_id=step.id, learner=enrolled, answer=answer)
        assert field in caught.value.fields, (answer, caught.value.fields)
    with pytest.raises(NotFoundError):
        services.step_answer(
            step_id=step.id, learner=other_learner, answer=wrong_answer(step, "PRE-NEURON", 3)
        )
    step.refresh_from_db()
    assert step.state == PracticeStep.State.OPEN and step.answered_at is None
    assert not Mastery.objects.filter(observations__gt=0).exists()
    # a done step cannot be answered twice
    learner.right()
    with pytest.raises(ConflictError):
        services.step_answer(
            step_id=step.id, learner=enrolled, answer=wrong_answer(step, "PRE-NEURON", 3)
        )
    # outsiders cannot practise in the course
    with pytest.raises(NotFoundError):
        services.session_open(course=course, learner=UserFactory.create(username="eve"))


def test_a_self_check_takes_only_key_ideas_of_the_item(course, enrolled):
    _disable_code_items(course)
    learner = ScriptedLearner(course=course, learner=enrolled)
    learner.right_until(Kind.EXPLAIN_BACK)
    step = learner.answer(AnswerInput(text="My explanation.", confidence=3))
    with pytest.raises(ApplicationError) as caught:
        services.step_self_check(step_id=step.id, learner=enrolled, ideas=[0, 7])
    assert "ideas" in caught.value.fields
    step.refresh_from_db()
    assert step.state == PracticeStep.State.CHECKING and step.self_assessed_ideas is None
    with pytest.raises(ConflictError):
        services.step_answer(
            step_id=step.id, learner=enrolled, answer=AnswerInput(text="Again", confidence=3)
        )


def test_an_instructor_practises_as_a_preview(course):
    teacher = UserFactory.create(username="tess")
    course.instructors.add(teacher)
    session = services.session_open(course=course, learner=teacher)
    assert session.is_preview is True


def test_answering_costs_the_same_queries_late_in_a_session(course, enrolled):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    learner = ScriptedLearner(course=course, learner=enrolled)
    counts = []
    for _ in range(12):
        step = learner.pending()
        answer = right_answer_of(step)
        with CaptureQueriesContext(connection) as captured:
            services.step_answer(step_id=step.id, learner=enrolled, answer=answer)
        counts.append(len(captured))
    # no query per earlier step or per item: a flat cost, whatever the session's length
    assert max(counts[2:]) - min(counts[2:]) <= 3, counts
    assert max(counts) < 50, counts
