"""Import a question bank from its JSON form (validated by bank_format) and export one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from assessments.bank_format import FORMAT, bank_validate
from assessments.models import (
    Choice,
    Misconception,
    NumericDistractor,
    Question,
    QuestionBank,
    QuestionType,
)
from core.errors import ApplicationError


@transaction.atomic
def bank_import(data: Any) -> QuestionBank:
    """Create or update a bank from its JSON form; questions are matched by slug."""
    bank_data = bank_validate(data)
    codes = {m.code: m for m in Misconception.objects.all()}
    bank, _ = QuestionBank.objects.update_or_create(
        slug=bank_data["slug"],
        defaults={
            "title": bank_data["title"],
            "description": bank_data["description"],
            "is_prerequisite": bank_data["is_prerequisite"],
        },
    )
    for position, item in enumerate(bank_data["questions"]):
        numeric = item.get("numeric") or {}
        question, _ = Question.objects.update_or_create(
            slug=item["slug"],
            defaults={
                "bank": bank,
                "qtype": item["type"],
                "form": item["form"],
                "stem": item["stem"],
                "reason_prompt": item["reason_prompt"],
                "mark": item["mark"],
                "feedback": item["feedback"],
                "parameters": numeric.get("parameters", {}),
                "answer": numeric.get("answer", ""),
                "tolerance": numeric.get("tolerance", 0),
                "tolerance_is_relative": numeric.get("relative", False),
                "unit": numeric.get("unit", ""),
                "model_answer": item["model_answer"],
                "key_ideas": item["key_ideas"],
                "key_idea_probes": item["key_idea_probes"],
                "key_idea_criteria": [_criteria_stored(e) for e in item["key_idea_criteria"]],
                "exercise": item["exercise"],
                "position": position,
            },
        )
        question.probes.set([codes[c] for c in item["probes"]])
        _choices_replace(question, item["choices"], codes)
        question.distractors.all().delete()
        for index, distractor in enumerate(numeric.get("distractors", [])):
            row = NumericDistractor.objects.create(
                question=question,
                answer=distractor["answer"],
                feedback=distractor["feedback"],
                position=index,
            )
            row.misconceptions.set([codes[c] for c in distractor["misconceptions"]])
    return bank


def _criteria_stored(entry: Mapping[str, Any]) -> dict[str, Any]:
    """Return one key idea's criteria as stored: plain lists, keys in the format's order."""
    return {
        "must_say": [list(group) for group in entry["must_say"]],
        "must_not_claim": [
            {"pattern": claim["pattern"], "code": claim["code"]}
            for claim in entry["must_not_claim"]
        ],
    }


def _choices_replace(
    question: Question, items: list[dict[str, Any]], codes: dict[str, Misconception]
) -> None:
    """Update choices in place by position, so answers already given keep their choice rows."""
    existing = list(question.choices.order_by("tier", "position", "id"))
    ordered = sorted(enumerate(items), key=lambda pair: (pair[1]["tier"], pair[0]))
    for position, (_, item) in enumerate(ordered):
        choice = existing[position] if position < len(existing) else Choice(question=question)
        choice.tier = item["tier"]
        choice.text = item["text"]
        choice.is_correct = item["correct"]
        choice.feedback = item["feedback"]
        choice.position = position
        choice.save()
        choice.misconceptions.set([codes[c] for c in item["misconceptions"]])
    surplus = existing[len(ordered) :]
    if any(choice.responses.exists() for choice in surplus):
        raise ApplicationError(
            f"Question {question.slug!r} has been answered with choices the file removes; "
            "add a new question instead of removing choices.",
            code="invalid_bank",
            fields={f"{question.slug}.choices": "Cannot remove choices that learners chose."},
        )
    for choice in surplus:
        choice.delete()


def bank_export(bank: QuestionBank) -> dict[str, Any]:
    """Return the bank in the fixture format."""
    questions = bank.questions.prefetch_related(
        "probes", "choices__misconceptions", "distractors__misconceptions"
    ).order_by("position", "id")
    return {
        "format": FORMAT,
        "slug": bank.slug,
        "title": bank.title,
        "description": bank.description,
        "is_prerequisite": bank.is_prerequisite,
        "questions": [_question_export(q) for q in questions],
    }


def _codes(related: Any) -> list[str]:
    return sorted(m.code for m in related.all())


def _question_export(question: Question) -> dict[str, Any]:
    item: dict[str, Any] = {
        "slug": question.slug,
        "type": question.qtype,
        "form": question.form,
        "stem": question.stem,
        "mark": float(question.mark),
        "probes": _codes(question.probes),
        "feedback": question.feedback,
        "choices": [
            {
                "text": c.text,
                "correct": c.is_correct,
                "tier": c.tier,
                "misconceptions": _codes(c.misconceptions),
                "feedback": c.feedback,
            }
            for c in question.choices.all()
        ],
    }
    if question.qtype == QuestionType.TWO_TIER:
        item["reason_prompt"] = question.reason_prompt
    if question.qtype == QuestionType.NUMERIC:
        item["numeric"] = {
            "parameters": question.parameters,
            "answer": question.answer,
            "tolerance": question.tolerance,
            "relative": question.tolerance_is_relative,
            "unit": question.unit,
            "distractors": [
                {
                    "answer": d.answer,
                    "misconceptions": _codes(d.misconceptions),
                    "feedback": d.feedback,
                }
                for d in question.distractors.all()
            ],
        }
    if question.qtype == QuestionType.CODE:
        item["exercise"] = question.exercise
    if question.qtype == QuestionType.EXPLAIN:
        item["model_answer"] = question.model_answer
        item["key_ideas"] = question.key_ideas
        if question.key_idea_probes:
            item["key_idea_probes"] = question.key_idea_probes
        if question.key_idea_criteria:
            item["key_idea_criteria"] = question.key_idea_criteria
    return item
