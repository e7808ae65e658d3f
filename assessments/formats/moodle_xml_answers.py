"""The answers of each Moodle question type we import, as our choices, numeric block or
explain item; a question whose answers mean something our scoring cannot keep is refused.

Fractions are Moodle's percentages of the mark. A single choice is right or wrong here, so
it takes one answer at 100 and the others at 0. A multiple response is scored here as each
of its k right answers earning 1/k and each of its m wrong answers ticked costing 1/m, never
below 0 (assessments/scoring.py): in Moodle's terms, fractions 100/k and -100/m, the very
fractions Moodle's own scoring then agrees with. Others are refused with the fractions to
use. Every wrong answer names its codes by an `answer-N:` tag and carries feedback.
"""

from __future__ import annotations

import itertools
import math
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from assessments.formats.moodle_xml_fields import formula_from_moodle, grader_info_read
from assessments.formats.moodle_xml_text import QuestionRefused, element_text, rich_text
from assessments.formats.tags import (
    EXERCISE_TAG_PREFIX,
    exercise_from_tags,
    idea_codes_from_tags,
)
from core.errors import ApplicationError
from grader.exercises import EXERCISES

_CLOSE = 0.001  # in percent: Moodle writes 100/3 as 33.33333


def choices_read(
    element: ET.Element, *, per_answer: Mapping[int, list[str]], tags: list[str], text_format: str
) -> dict[str, Any]:
    """Return a multichoice question's type and choices."""
    single = (element.findtext("single") or "true").strip().lower() not in ("false", "0")
    answers = element.findall("answer")
    _positions_exist(per_answer, len(answers), "answer")
    choices: list[dict[str, Any]] = []
    fractions: list[float] = []
    for index, answer in enumerate(answers, 1):
        fraction = _fraction(answer, index)
        text = _answer_text(answer, f"answer {index}", text_format)
        if not text:
            raise QuestionRefused(f"answer {index}", "The answer's text is empty.")
        feedback = _answer_text(answer.find("feedback"), f"answer {index} feedback", text_format)
        choices.append(_choice(index, text, fraction > 0, per_answer.get(index, []), feedback))
        fractions.append(fraction)
    if single:
        _single_fractions(fractions)
    else:
        _multiple_fractions(fractions)
    return {"type": "single" if single else "multiple", "choices": choices}


def truefalse_read(
    element: ET.Element, *, per_answer: Mapping[int, list[str]], tags: list[str], text_format: str
) -> dict[str, Any]:
    """Return a true/false question's two choices, in file order."""
    answers = element.findall("answer")
    if len(answers) != 2:
        raise QuestionRefused("answer", f"A true/false question has 2 answers, not {len(answers)}.")
    _positions_exist(per_answer, 2, "answer")
    choices: list[dict[str, Any]] = []
    for index, answer in enumerate(answers, 1):
        fraction = _fraction(answer, index)
        if fraction not in (0, 100):
            raise QuestionRefused(f"answer {index}", "A true/false answer has fraction 100 or 0.")
        # Moodle's importer also falls back on the order true, false for other texts.
        word = element_text(answer).lower()
        if word not in ("true", "false"):
            word = "true" if index == 1 else "false"
        feedback = _answer_text(answer.find("feedback"), f"answer {index} feedback", text_format)
        choices.append(
            _choice(index, word.capitalize(), fraction == 100, per_answer.get(index, []), feedback)
        )
    if sum(1 for choice in choices if choice["correct"]) != 1:
        raise QuestionRefused("answer", "Exactly one of true and false has fraction 100.")
    return {"type": "truefalse", "choices": choices}


def numerical_read(
    element: ET.Element, *, per_answer: Mapping[int, list[str]], tags: list[str], text_format: str
) -> dict[str, Any]:
    """Return a numerical question's numeric block: one right number, wrong ones with codes."""

    def number(text: str, index: int) -> str:
        try:
            if math.isfinite(float(text)):
                return text
        except ValueError:
            pass
        raise QuestionRefused(f"answer {index}", f"{text!r} is not a number.")

    numeric = _numeric_answers(element, per_answer, text_format, number, relative_allowed=False)
    return {"type": "numeric", "numeric": {"parameters": {}, **numeric}}


def calculated_read(
    element: ET.Element, *, per_answer: Mapping[int, list[str]], tags: list[str], text_format: str
) -> dict[str, Any]:
    """Return a calculated question's numeric block, its wildcards as per-attempt parameters."""
    parameters = _parameters(element)
    if "{=" in element_text(element.find("questiontext")):
        raise QuestionRefused(
            "questiontext", "A formula in the text ({=...}) has no equivalent: state the value."
        )

    def expression(text: str, index: int) -> str:
        try:
            converted, names = formula_from_moodle(text)
        except ValueError as error:
            raise QuestionRefused(f"answer {index}", f"{error}.") from error
        unknown = sorted(names - set(parameters))
        if unknown:
            raise QuestionRefused(
                f"answer {index}", f"The formula uses {unknown}, which have no dataset."
            )
        return converted

    numeric = _numeric_answers(element, per_answer, text_format, expression, relative_allowed=True)
    return {"type": "numeric", "numeric": {"parameters": parameters, **numeric}}


def essay_read(
    element: ET.Element, *, per_answer: Mapping[int, list[str]], tags: list[str], text_format: str
) -> dict[str, Any]:
    """Return an essay as an explain item: model answer and key ideas from graderinfo."""
    if per_answer:
        raise QuestionRefused(
            "tags", "An essay has no answers for answer-N tags: tag key ideas idea-N:DO-XXX."
        )
    info = rich_text(element.find("graderinfo"), default_format=text_format)
    try:
        model_answer, ideas, criteria = grader_info_read(info)
        per_idea = idea_codes_from_tags(tags)
    except ApplicationError as error:
        raise QuestionRefused(next(iter(error.fields), "graderinfo"), error.message) from error
    _positions_exist(per_idea, len(ideas), "idea")
    return {
        "type": "explain",
        "model_answer": model_answer,
        "key_ideas": ideas,
        "key_idea_probes": [per_idea.get(i, []) for i in range(1, len(ideas) + 1)]
        if per_idea
        else [],
        "key_idea_criteria": criteria,
    }


def code_essay_read(
    element: ET.Element, *, per_answer: Mapping[int, list[str]], tags: list[str], text_format: str
) -> dict[str, Any]:
    """Return an essay tagged `exercise:NAME` as a code question on that exercise; its
    information for graders and response template are the exercise's and are not read."""
    if per_answer or idea_codes_from_tags(tags):
        raise QuestionRefused(
            "tags",
            "A code question (an essay tagged exercise:) has no answers or key ideas for "
            "answer-N or idea-N tags: its exercise's checks name the misconceptions.",
        )
    name = exercise_from_tags(tags)
    by_name = {slug.lower(): slug for slug in EXERCISES}
    if name.lower() not in by_name:
        known = ", ".join(sorted(EXERCISES))
        raise QuestionRefused(
            "tags",
            f"Tag {EXERCISE_TAG_PREFIX}{name}: unknown exercise {name!r}; choose one of {known}.",
        )
    return {"type": "code", "exercise": by_name[name.lower()]}


def _answer_text(element: ET.Element | None, where: str, text_format: str) -> str:
    """Return an answer's text or feedback as plain text; a refusal names the answer."""
    try:
        return rich_text(element, default_format=text_format)
    except QuestionRefused as refusal:
        raise QuestionRefused(where, str(refusal)) from refusal


def _choice(
    index: int, text: str, correct: bool, codes: list[str], feedback: str
) -> dict[str, Any]:
    where = f"answer {index}"
    if correct and codes:
        raise QuestionRefused(
            where, f"A right answer is never evidence of a misconception: remove answer-{index}:."
        )
    if not correct and not codes:
        raise QuestionRefused(
            where,
            f"Answer {index} ({text[:40]!r}) is wrong but names no misconception: tag the "
            f"question answer-{index}:DO-XXX with the code of the belief that would make a "
            "learner choose it.",
        )
    if not correct and not feedback:
        raise QuestionRefused(
            f"{where} feedback", "A wrong answer needs feedback that explains what is true."
        )
    return {"text": text, "correct": correct, "misconceptions": codes, "feedback": feedback}


def _fraction(answer: ET.Element, index: int) -> float:
    text = answer.get("fraction", "0")
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not -100 <= value <= 100:
        raise QuestionRefused(f"answer {index} fraction", f"{text!r} is not a percentage.")
    return value


def _positions_exist(codes: Mapping[int, list[str]], count: int, noun: str) -> None:
    beyond = sorted(position for position in codes if position > count)
    if beyond:
        raise QuestionRefused(
            "tags",
            f"Tag {noun}-{beyond[0]}: the question has no {noun} {beyond[0]} (it has {count}).",
        )


def _single_fractions(fractions: list[float]) -> None:
    for index, fraction in enumerate(fractions, 1):
        if 0 < fraction < 100:
            raise QuestionRefused(
                f"answer {index} fraction",
                f"Partial credit ({fraction:g}%) on a single-choice answer has no equivalent: "
                "a single choice is right (100) or wrong (0) here.",
            )
        if fraction < 0:
            raise QuestionRefused(
                f"answer {index} fraction",
                f"A negative fraction ({fraction:g}%) on a single-choice answer has no "
                "equivalent: a wrong single choice scores 0 here, never less.",
            )
    right = sum(1 for fraction in fractions if fraction == 100)
    if right != 1:
        raise QuestionRefused(
            "answer fraction",
            "No answer has fraction 100: mark the right answer."
            if right == 0
            else f"{right} answers have fraction 100: a single choice has one right answer.",
        )


def _multiple_fractions(fractions: list[float]) -> None:
    right = [f for f in fractions if f > 0]
    wrong = [f for f in fractions if f <= 0]
    if not right:
        raise QuestionRefused("answer fraction", "No answer has a positive fraction: mark one.")
    if abs(sum(right) - 100) > len(right) * _CLOSE:
        raise QuestionRefused(
            "answer fraction",
            f"The right answers' fractions sum to {sum(right):g}%, not 100%.",
        )
    gain, cost = 100 / len(right), -100 / len(wrong) if wrong else 0.0
    for index, fraction in enumerate(fractions, 1):
        expected = gain if fraction > 0 else cost
        if abs(fraction - expected) > _CLOSE:
            raise QuestionRefused(
                f"answer {index} fraction",
                f"Answer {index} has {fraction:g}%: multiple response is scored here as each of "
                f"the {len(right)} right answers earning {gain:.5g}% and each of the "
                f"{len(wrong)} wrong answers ticked costing {-cost:.5g}% (never below 0); "
                "give the answers those fractions.",
            )


def _numeric_answers(
    element: ET.Element,
    per_answer: Mapping[int, list[str]],
    text_format: str,
    parse: Any,
    *,
    relative_allowed: bool,
) -> dict[str, Any]:
    answers = element.findall("answer")
    _positions_exist(per_answer, len(answers), "answer")
    right: list[str] = []
    distractors: list[dict[str, Any]] = []
    tolerances: set[tuple[float, bool]] = set()
    for index, answer in enumerate(answers, 1):
        text = element_text(answer)
        fraction = _fraction(answer, index)
        if text == "*":
            raise QuestionRefused(
                f"answer {index}",
                "A '*' answer (any other number) has no equivalent: a number no wrong answer "
                "predicts is a gap in knowledge here, not a belief. Remove it.",
            )
        expression = parse(text, index)
        tolerances.add(_tolerance(answer, index, relative_allowed=relative_allowed))
        feedback = _answer_text(answer.find("feedback"), f"answer {index} feedback", text_format)
        if 0 < fraction < 100 or fraction < 0:
            raise QuestionRefused(
                f"answer {index} fraction",
                f"Partial credit ({fraction:g}%) has no equivalent: a number is right or wrong.",
            )
        if fraction == 100:
            if feedback:
                raise QuestionRefused(
                    f"answer {index} feedback",
                    "The right answer's own feedback has no place here: numeric items show "
                    "the general feedback after every answer. Move it there.",
                )
            if per_answer.get(index):
                raise QuestionRefused(
                    f"answer {index}", "A right answer is never evidence of a misconception."
                )
            right.append(expression)
            continue
        choice = _choice(index, text, False, per_answer.get(index, []), feedback)
        distractors.append(
            {"answer": expression, "misconceptions": choice["misconceptions"], "feedback": feedback}
        )
    if len(right) != 1:
        raise QuestionRefused(
            "answer fraction",
            "No answer has fraction 100: give the right answer."
            if not right
            else f"{len(right)} answers have fraction 100: give one right answer.",
        )
    if len(tolerances) > 1:
        raise QuestionRefused(
            "answer tolerance",
            "The answers have different tolerances; here one tolerance serves the right "
            "answer and every wrong one.",
        )
    tolerance, relative = tolerances.pop()
    return {
        "answer": right[0],
        "tolerance": tolerance,
        "relative": relative,
        "unit": _unit(element),
        "distractors": distractors,
    }


def _tolerance(answer: ET.Element, index: int, *, relative_allowed: bool) -> tuple[float, bool]:
    text = (answer.findtext("tolerance") or "0").strip()
    kind = (answer.findtext("tolerancetype") or "2").strip()
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise QuestionRefused(f"answer {index} tolerance", f"{text!r} is not a tolerance.")
    if kind not in ("1", "2") or (kind == "1" and not relative_allowed):
        raise QuestionRefused(
            f"answer {index} tolerancetype",
            "Only relative (1) and nominal (2) tolerances have an equivalent here.",
        )
    return value, kind == "1"


def _unit(element: ET.Element) -> str:
    grading = (element.findtext("unitgradingtype") or "0").strip()
    if grading not in ("", "0"):
        raise QuestionRefused(
            "unitgradingtype",
            "Moodle grades the unit here; learners here type only the number, shown beside "
            "its unit. Make units optional or unused.",
        )
    units = element.findall("./units/unit")
    names = [(element_text(u.find("unit_name")), (u.findtext("multiplier") or "1").strip())
             for u in units]  # fmt: skip
    if len(names) > 1 or any(float(multiplier) != 1 for _, multiplier in names):
        raise QuestionRefused(
            "units", "Only one unit (multiplier 1) has an equivalent: the unit shown beside it."
        )
    return names[0][0] if names else ""


def _parameters(element: ET.Element) -> dict[str, list[float]]:
    """Return the per-attempt parameters that a calculated question's datasets list."""
    columns: dict[str, list[float]] = {}
    for definition in element.findall("./dataset_definitions/dataset_definition"):
        name = element_text(definition.find("name"))
        items = definition.findall("./dataset_items/dataset_item")
        try:
            ordered = sorted(items, key=lambda item: int(item.findtext("number") or "0"))
            columns[name] = [float(item.findtext("value") or "") for item in ordered]
        except ValueError as error:
            message = f"An item is not a number: {error}."
            raise QuestionRefused(f"dataset {name!r}", message) from error
        if not columns[name]:
            raise QuestionRefused(f"dataset {name!r}", "The dataset lists no values.")
    if not columns:
        raise QuestionRefused("dataset_definitions", "A calculated question needs its datasets.")
    names = sorted(columns)
    if len({len(columns[name]) for name in names}) > 1:
        message = "The datasets list different numbers of items."
        raise QuestionRefused("dataset_definitions", message)
    if len(names) == 1:
        return columns
    # Moodle draws item k of every dataset together; here each parameter is drawn on its own,
    # which is the same only when the items list every combination, in order.
    values = {name: list(dict.fromkeys(columns[name])) for name in names}
    rows = list(zip(*(columns[name] for name in names), strict=True))
    if rows != list(itertools.product(*(values[name] for name in names))):
        raise QuestionRefused(
            "dataset_definitions",
            f"The items pair values of {', '.join(names)} one by one; here each parameter is "
            "drawn on its own, so the items must list every combination of the values, in "
            "order (the last wildcard, alphabetically, changing fastest).",
        )
    return values
