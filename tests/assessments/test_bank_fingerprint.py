"""A bank's fingerprint moves with every edit of what its questions show, and only then."""

from __future__ import annotations

import copy

import pytest

from assessments.bank_fingerprint import banks_fingerprint
from assessments.bank_transfer import bank_export, bank_import
from assessments.catalog import misconceptions_load
from assessments.models import Choice, Misconception, NumericDistractor, QuestionBank
from tests.factories import BankFactory, code, numeric, single

pytestmark = pytest.mark.django_db


@pytest.fixture
def bank() -> QuestionBank:
    made = BankFactory.create()
    single(made)
    numeric(made)
    return made


@pytest.fixture
def other_bank() -> QuestionBank:
    made = BankFactory.create()
    single(made)
    return made


def fingerprint(bank: QuestionBank) -> str:
    return banks_fingerprint(bank_ids=[bank.id])


def test_it_stays_put_while_nothing_changes(bank, django_assert_num_queries):
    # given
    before = fingerprint(bank)
    # when
    with django_assert_num_queries(1):
        again = fingerprint(bank)
    # then
    assert again == before


def test_an_edit_in_another_bank_leaves_it_alone(bank, other_bank):
    # given
    before = fingerprint(bank)
    every_bank_before = banks_fingerprint(bank_ids=None)
    question = other_bank.questions.get()
    # when
    question.stem = "Edited?"
    question.save()
    # then
    assert fingerprint(bank) == before
    assert banks_fingerprint(bank_ids=None) != every_bank_before


def test_a_question_edit_moves_it(bank):
    before = fingerprint(bank)
    question = bank.questions.first()
    assert question is not None
    question.stem = "A new stem?"
    question.save()
    assert fingerprint(bank) != before


def test_a_choice_edit_moves_it(bank):
    before = fingerprint(bank)
    choice = Choice.objects.filter(question__bank=bank).first()
    assert choice is not None
    choice.text = "Another text"
    choice.save()
    assert fingerprint(bank) != before


def test_a_choice_added_or_deleted_moves_it(bank):
    question = bank.questions.filter(qtype="single").get()
    before = fingerprint(bank)
    added = Choice.objects.create(question=question, text="New", feedback="", position=9)
    after_add = fingerprint(bank)
    added.delete()
    assert len({before, after_add, fingerprint(bank)}) == 3


@pytest.mark.parametrize("edit", ["add", "remove", "clear", "set"])
def test_a_choice_misconception_change_moves_it(bank, edit):
    # given: a wrong choice naming DO-SPEED
    choice = Choice.objects.get(question__bank=bank, text="Wrong A")
    before = fingerprint(bank)
    # when
    if edit == "add":
        choice.misconceptions.add(code("DO-NOSCALE"))
    elif edit == "remove":
        choice.misconceptions.remove(code("DO-SPEED"))
    elif edit == "clear":
        choice.misconceptions.clear()
    else:
        choice.misconceptions.set([code("DO-TEST")])
    # then
    assert fingerprint(bank) != before


@pytest.mark.parametrize("edit", ["add", "remove"])
def test_a_change_from_the_misconceptions_side_moves_it(bank, edit):
    choice = Choice.objects.get(question__bank=bank, text="Wrong A")
    before = fingerprint(bank)
    if edit == "add":
        code("DO-NOSCALE").choices.add(choice)
    else:
        code("DO-SPEED").choices.remove(choice)
    assert fingerprint(bank) != before


def test_a_question_probe_change_moves_it(bank):
    question = bank.questions.filter(qtype="single").get()
    before = fingerprint(bank)
    question.probes.add(code("DO-NOSCALE"))
    assert fingerprint(bank) != before


def test_a_distractor_edit_moves_it(bank):
    distractor = NumericDistractor.objects.get(question__bank=bank)
    before = fingerprint(bank)
    distractor.feedback = "Other feedback."
    distractor.save()
    after_edit = fingerprint(bank)
    distractor.misconceptions.set([code("DO-SPEED")])
    after_codes = fingerprint(bank)
    distractor.delete()
    assert len({before, after_edit, after_codes, fingerprint(bank)}) == 4


def test_a_question_deletion_moves_it(bank):
    before = fingerprint(bank)
    bank.questions.filter(qtype="numeric").delete()
    assert fingerprint(bank) != before


def test_a_misconception_edit_or_deletion_moves_it(bank):
    before = fingerprint(bank)
    misconceptions_load(
        [
            {
                "code": "DO-PKEEP",
                "title": "New title",
                "belief": "b",
                "truth": "t",
                "explain_prompt": "e",
            }
        ]
    )
    after_edit = fingerprint(bank)
    Misconception.objects.filter(code="DO-PKEEP").delete()
    assert len({before, after_edit, fingerprint(bank)}) == 3


def test_a_bank_import_moves_it(bank):
    # given: the bank's file with one wrong choice pointing at another misconception
    data = copy.deepcopy(bank_export(bank))
    item = data["questions"][0]
    wrong = next(c for c in item["choices"] if c["text"] == "Wrong A")
    code("DO-NOSCALE")
    wrong["misconceptions"] = ["DO-NOSCALE"]
    item["probes"] = ["DO-DATA", "DO-NOSCALE"]
    before = fingerprint(bank)
    # when
    bank_import(data)
    # then
    assert fingerprint(bank) != before
    assert Choice.objects.get(question__bank=bank, text="Wrong A").misconceptions.get().code == (
        "DO-NOSCALE"
    )


def test_a_bank_edit_moves_it(bank):
    before = fingerprint(bank)
    bank.is_prerequisite = True
    bank.save()
    assert fingerprint(bank) != before


def test_a_question_moved_to_another_bank_moves_both(bank, other_bank):
    # given
    before, other_before = fingerprint(bank), fingerprint(other_bank)
    question = other_bank.questions.get()
    # when
    question.bank = bank
    question.save()
    # then
    assert fingerprint(bank) != before
    assert fingerprint(other_bank) != other_before


def test_no_banks_and_banks_without_questions_have_one_fingerprint(bank):
    empty = BankFactory.create()
    assert banks_fingerprint(bank_ids=[]) == fingerprint(empty)
    assert fingerprint(empty) != fingerprint(bank)
