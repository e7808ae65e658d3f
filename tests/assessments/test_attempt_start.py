from datetime import timedelta

import pytest
from django.utils import timezone

from assessments.models import Attempt, QuizSection
from assessments.services import attempt_start
from core.errors import ConflictError
from tests.factories import BankFactory, numeric, quiz_of, single, two_tier

pytestmark = pytest.mark.django_db


def test_it_draws_per_section_and_form(learner):
    # given: a bank with three form-A and two form-B items, a quiz drawing 2 of form A
    bank = BankFactory.create()
    a_items = {single(bank, form="A").id for _ in range(3)}
    for _ in range(2):
        single(bank, form="B")
    quiz = quiz_of()
    QuizSection.objects.create(quiz=quiz, bank=bank, draw_count=2, form="A")
    # when
    attempt = attempt_start(quiz=quiz, learner=learner)
    # then
    drawn = set(attempt.responses.values_list("question_id", flat=True))
    assert len(drawn) == 2
    assert drawn <= a_items
    assert attempt.max_score == 2


def test_it_refuses_a_quiz_whose_bank_is_too_small(learner):
    bank = BankFactory.create(slug="tiny")
    single(bank, form="A")
    quiz = quiz_of()
    QuizSection.objects.create(quiz=quiz, bank=bank, draw_count=2, form="A")
    with pytest.raises(ConflictError, match="bank 'tiny' has 1 form-A questions"):
        attempt_start(quiz=quiz, learner=learner)
    assert not Attempt.objects.exists()


def test_choice_order_and_parameters_are_fixed_per_attempt(learner):
    question = two_tier()
    number = numeric()
    quiz = quiz_of(question, number, shuffle_choices=True)
    attempt = attempt_start(quiz=quiz, learner=learner)
    slot1, slot2 = attempt.responses.order_by("slot")
    tier_of = {c.id: c.tier for c in question.choices.all()}
    assert sorted(slot1.choice_order) == sorted(tier_of)
    assert [tier_of[i] for i in slot1.choice_order] == [1, 1, 2, 2]  # shuffled within tiers only
    assert slot2.parameters["p"] in (0.2, 0.3)


def test_it_resumes_the_unfinished_attempt(learner):
    quiz = quiz_of(single())
    first = attempt_start(quiz=quiz, learner=learner)
    assert attempt_start(quiz=quiz, learner=learner).id == first.id
    assert Attempt.objects.count() == 1


def test_it_enforces_attempts_allowed(learner):
    quiz = quiz_of(single(), attempts_allowed=1)
    attempt = attempt_start(quiz=quiz, learner=learner)
    Attempt.objects.filter(id=attempt.id).update(state=Attempt.State.SUBMITTED)
    with pytest.raises(ConflictError, match="used all 1 attempt"):
        attempt_start(quiz=quiz, learner=learner)


@pytest.mark.parametrize(
    ("opens", "closes", "message"),
    [(timedelta(hours=1), None, "opens at"), (None, timedelta(hours=-1), "closed")],
)
def test_it_enforces_open_and_close_dates(learner, opens, closes, message):
    now = timezone.now()
    quiz = quiz_of(
        single(),
        opens_at=now + opens if opens else None,
        closes_at=now + closes if closes else None,
    )
    with pytest.raises(ConflictError, match=message):
        attempt_start(quiz=quiz, learner=learner)


def test_the_deadline_is_the_time_limit_or_the_closing_time(learner):
    now = timezone.now()
    quiz = quiz_of(single(), time_limit=timedelta(minutes=20), closes_at=now + timedelta(minutes=5))
    attempt = attempt_start(quiz=quiz, learner=learner, now=now)
    assert attempt.deadline == now + timedelta(minutes=5)
