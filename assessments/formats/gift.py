"""Read a GIFT file (Moodle's plain-text question format) into banks in our JSON form.

What maps, and how:
- `$CATEGORY: $course$/top/A/B` starts bank "A / B" (slug a--b, as for Moodle XML);
  questions before any category go to the default bank. `::title::` and `// [id:...]` give the slug.
- Multiple choice with one `=` answer is a single-choice item; one with weights alone
  (`~%50%`, `~%-50%`) is multiple response, kept only when its weights are our scoring's
  (assessments/scoring.py: each right answer earns 100/R %, each wrong one ticked costs
  100/W %). `#` is an answer's feedback, `####` the general feedback.
- `{T}`/`{F}` (`{TRUE}`/`{FALSE}`, with `#wrong#right` feedback) is a true/false item whose
  answer 1 is True and answer 2 False.
- `{#2.5:0.1}`, `{#1..2}` and `{#=2.5:0.1 =%0%2:0.1#...}` are numeric items: one answer
  at 100% is the right number, and each 0% answer a wrong number that names its
  misconception.
- `{}` (an essay) is an explain-it-back item when its comments give the model answer
  (`// [model-answer:...]`) and key ideas (`// [key-idea:...]`, one each).
- Misconception codes are tags (assessments/formats/tags.py): `// [tag:misconception:DO-X]`
  on the question, `// [tag:answer-2:DO-X]` on its 2nd answer, `// [tag:idea-2:DO-X]` on
  an essay's 2nd key idea; `// [tag:form:A]` puts it in parallel form A.

A description (no answers) is skipped with a note; short answer, matching, the
missing-word form and anything malformed are refused, each named by its position, name
and line. Every question read is validated as bank_format validates it, and a question
that fails is refused with the problems named in GIFT's terms, so the banks returned
import as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.text import slugify

from assessments.bank_format import FORMAT, bank_validate
from assessments.formats.categories import SLUG_LENGTH, bank_start, category_names, category_slug
from assessments.formats.conversion import Conversion
from assessments.formats.gift_syntax import (
    Answer,
    Block,
    Question,
    category_path,
    choices_parse,
    gift_blocks,
    gift_error,
    numeric_parse,
    question_split,
    shown,
    true_false_parse,
)
from assessments.formats.tags import codes_from_tags, form_from_tags, idea_codes_from_tags
from core.errors import ApplicationError

_CLOSE = Decimal("0.05")  # percentage points: 33.33333 and 33.3 both mean a third

_TOP_FIELDS = {
    "stem": "question text",
    "feedback": "general feedback (after ####)",
    "probes": "misconception tags (// [tag:misconception:CODE])",
    "choices": "answers",
    "slug": "name ([id:...] or ::title::)",
    "model_answer": "model answer (// [model-answer:...])",
    "key_ideas": "key ideas (// [key-idea:...])",
    "numeric": "numeric answers",
    "numeric.answer": "right number",
    "numeric.tolerance": "tolerance",
}
_REFUSED_KINDS = {
    "shortanswer": "A short-answer question ({=answer =other answer}) has no equivalent here: "
    "typed words are not marked. Write it as multiple choice, with a wrong answer for each "
    "misconception.",
    "match": "A matching question (=item -> match) has no equivalent here.",
}


@dataclass
class _Read:
    """A question read from the file, before its slug is chosen and it is validated."""

    label: str
    number: int
    name: str  # the title, or the start of the text: what the slug is made from
    block: Block
    item: dict[str, Any]
    places: dict[str, tuple[int, str]]  # validation's answer path: (GIFT position, name)
    bank: dict[str, Any]


def gift_read(text: str, *, default_bank: str = "GIFT import") -> Conversion:
    """Return the banks a GIFT file holds, with the questions it skipped or refused."""
    conversion = Conversion()
    banks: dict[str, dict[str, Any]] = {}
    bank = _bank(banks, None, default_bank)
    read: list[_Read] = []
    number = 0
    for block in gift_blocks(text):
        path = category_path(block)
        if path is not None:
            bank = _bank(banks, path, default_bank)
            continue
        number += 1
        try:
            question = question_split(block)
        except ApplicationError as error:
            conversion.refused[f"question {number} (line {block.first_line})"] = error.message
            continue
        label = f"question {number} {_name(question)!r} (line {question.line})"
        if question.kind == "description":
            conversion.skipped[label] = (
                "A description (text without answers) has nothing to answer; not imported."
            )
            continue
        try:
            item, places = _question_item(question, block)
        except ApplicationError as error:
            conversion.refused[label] = error.message
            continue
        name = question.title or item["stem"][:60] or f"question-{number}"
        read.append(_Read(label, number, name, block, item, places, bank))
    slugs = _slugs(read, conversion)
    for question_read in read:
        if question_read.number not in slugs:
            continue
        item = {"slug": slugs[question_read.number], **question_read.item}
        problems = _problems(item, question_read.bank["slug"], question_read.places)
        if problems:
            conversion.refused[question_read.label] = problems
        else:
            question_read.bank["questions"].append(item)
            conversion.origins[item["slug"]] = question_read.label
    conversion.banks = [bank for bank in banks.values() if bank["questions"]]
    return conversion


def _bank(banks: dict[str, dict[str, Any]], path: str | None, default_bank: str) -> dict[str, Any]:
    """Return the bank of a category path, or the default bank for None or an empty path."""
    names = category_names(path or "")
    if not names:
        slug = slugify(default_bank)[:SLUG_LENGTH].strip("-") or "imported"
        return bank_start(banks, slug=slug, title=default_bank)
    return bank_start(banks, slug=category_slug(names), title=" / ".join(names))


def _name(question: Question) -> str:
    """Return the question's title, or the start of its text."""
    if question.title:
        return question.title
    text = " ".join(shown(question.stem.raw).split())
    return text if len(text) <= 40 else text[:39] + "…"


def _slugs(read: list[_Read], conversion: Conversion) -> dict[int, str]:
    """Return each question's slug by number: its [id:...] first, else its title or text,
    numbered -2, -3… when taken; a repeated [id:...] refuses the later question."""
    slugs: dict[int, str] = {}
    owners: dict[str, str] = {}
    for question in read:
        ids = question.block.annotations("id")
        if not ids:
            continue
        slug = slugify(ids[0])[:SLUG_LENGTH].strip("-")
        if not slug:
            conversion.refused[question.label] = f"[id:{ids[0]}] has no letter or digit."
        elif slug in owners:
            conversion.refused[question.label] = (
                f"[id:{ids[0]}] is already the id of {owners[slug]}."
            )
        else:
            slugs[question.number], owners[slug] = slug, question.label
    for question in read:
        if question.block.annotations("id"):
            continue
        base = slugify(question.name)[:SLUG_LENGTH].strip("-") or f"question-{question.number}"
        slug, suffix = base, 1
        while slug in owners:
            suffix += 1
            slug = f"{base[: SLUG_LENGTH - len(str(suffix)) - 1].strip('-')}-{suffix}"
        slugs[question.number], owners[slug] = slug, question.label
    return slugs


def _question_item(
    question: Question, block: Block
) -> tuple[dict[str, Any], dict[str, tuple[int, str]]]:
    """Return the question in the JSON form (without its slug) and, for validation's
    answer paths (choices[1], numeric.distractors[0]), the GIFT answer each names."""
    kind = question.kind
    if question.after_answers:
        raise ApplicationError(
            "The answers stand inside the text (Moodle's missing-word form, shown as a "
            "blank): here a question's text comes first and its answers after it.",
            code="invalid_gift",
        )
    if kind in _REFUSED_KINDS:
        raise ApplicationError(_REFUSED_KINDS[kind] + _true_false_hint(question))
    stem, markup = question.stem.read()
    feedback = question.general_feedback.read(markup)[0] if question.general_feedback else ""
    tags = block.annotations("tag")
    try:
        probes, per_answer = codes_from_tags(tags)
        form, per_idea = form_from_tags(tags), idea_codes_from_tags(tags)
    except ApplicationError as error:
        raise gift_error(block.first_line, error.message) from error
    if per_idea and kind != "essay":
        raise gift_error(block.first_line, "Only an essay has key ideas to tag with idea-N.")
    item: dict[str, Any] = {
        "form": form,
        "stem": stem,
        "mark": 1,
        "probes": probes,
        "feedback": feedback,
        "choices": [],
    }
    places: dict[str, tuple[int, str]] = {}
    assert question.answers is not None  # a description was skipped
    if kind == "essay":
        item.update(_explain_fields(block, per_answer, per_idea))
    elif kind == "truefalse":
        item["type"] = "truefalse"
        item["choices"] = _true_false_choices(question, markup, per_answer, places)
    elif kind == "numerical":
        if "{" in stem or "}" in stem:
            raise gift_error(
                question.stem.line,
                "A numeric question's text here cannot hold a brace: {name} stands for a "
                "value drawn per attempt.",
            )
        item["type"] = "numeric"
        item["numeric"] = _numeric_block(question, markup, per_answer, places)
    else:
        answers = choices_parse(question.answers)
        single = "=" in question.answers.raw
        item["type"] = "single" if single else "multiple"
        right = _right_answers(answers, single=single)
        _tags_fit(per_answer, len(answers), right)
        for index, answer in enumerate(answers):
            text = answer.text.read(markup)[0]
            item["choices"].append(
                {
                    "text": text,
                    "correct": index + 1 in right,
                    "tier": 1,
                    "misconceptions": per_answer.get(index + 1, []),
                    "feedback": answer.feedback.read(markup)[0] if answer.feedback else "",
                }
            )
            places[f"choices[{index}]"] = (
                index + 1,
                f"answer {index + 1} {text[:40]!r} (line {answer.line})",
            )
    return item, places


def _true_false_hint(question: Question) -> str:
    assert question.answers is not None
    word = question.answers.raw.strip().split("#", 1)[0].strip()
    if word.upper() in ("T", "F", "TRUE", "FALSE"):
        return f" (true/false is written in capitals: {{{word.upper()}}}, not {{{word}}})"
    return ""


def _explain_fields(
    block: Block, per_answer: dict[int, list[str]], per_idea: dict[int, list[str]]
) -> dict[str, Any]:
    """Return an essay's fields as an explain-it-back item, or refuse what it lacks; idea-N
    tags give the codes a learner who leaves out key idea N may hold."""
    if per_answer:
        raise gift_error(block.first_line, "An essay has no answers to tag with answer-N.")
    model_answer = " ".join(block.annotations("model-answer"))
    key_ideas = block.annotations("key-idea")
    missing = []
    if not model_answer:
        missing.append("its model answer (// [model-answer:...])")
    if not key_ideas:
        missing.append(
            "the key ideas a learner checks an answer against (// [key-idea:...], one each)"
        )
    if missing:
        raise ApplicationError(
            "An essay imports as an explain-it-back item, which needs "
            + " and ".join(missing)
            + " in the question's comments."
        )
    beyond = [position for position in per_idea if position > len(key_ideas)]
    if beyond:
        raise gift_error(
            block.first_line,
            f"The tag idea-{beyond[0]}:... names key idea {beyond[0]}, but the question has "
            f"{len(key_ideas)} key ideas.",
        )
    fields: dict[str, Any] = {
        "type": "explain",
        "model_answer": model_answer,
        "key_ideas": key_ideas,
    }
    if per_idea:
        fields["key_idea_probes"] = [per_idea.get(i, []) for i in range(1, len(key_ideas) + 1)]
    return fields


def _true_false_choices(
    question: Question,
    markup: str,
    per_answer: dict[int, list[str]],
    places: dict[str, tuple[int, str]],
) -> list[dict[str, Any]]:
    """Return True and False as choices; the first # feedback is for a wrong answer."""
    assert question.answers is not None
    answer, wrong, right = true_false_parse(question.answers)
    _tags_fit(per_answer, 2, {1 if answer else 2})
    choices = []
    for index, value in enumerate((True, False)):
        feedback = right if value == answer else wrong
        choices.append(
            {
                "text": "True" if value else "False",
                "correct": value == answer,
                "tier": 1,
                "misconceptions": per_answer.get(index + 1, []),
                "feedback": feedback.read(markup)[0] if feedback else "",
            }
        )
        places[f"choices[{index}]"] = (index + 1, f"answer {index + 1} ({choices[-1]['text']})")
    return choices


def _right_answers(answers: list[Answer], *, single: bool) -> set[int]:
    """Return the positions (1-based) of the right answers, or refuse weights that our
    scoring cannot keep."""
    weights = [
        Decimal(100) if answer.marker == "=" else (answer.weight or Decimal(0))
        for answer in answers
    ]
    for answer, weight in zip(answers, weights, strict=True):
        if not -100 <= weight <= 100:
            raise gift_error(answer.line, f"The weight {weight}% is outside -100% to 100%.")
    if single:
        for position, (answer, weight) in enumerate(zip(answers, weights, strict=True), start=1):
            if weight not in (0, 100):
                raise gift_error(
                    answer.line,
                    f"Answer {position} weighs {weight}%: a single-choice question here scores "
                    "an answer right (=) or wrong (~), without partial credit or penalty.",
                )
        return {position for position, weight in enumerate(weights, start=1) if weight == 100}
    right = {position for position, weight in enumerate(weights, start=1) if weight > 0}
    wrong = len(answers) - len(right)
    for position, (answer, weight) in enumerate(zip(answers, weights, strict=True), start=1):
        due = Decimal(100) / len(right) if position in right else -Decimal(100) / (wrong or 1)
        if abs(weight - due) > _CLOSE:
            raise gift_error(
                answer.line,
                f"Answer {position} weighs {weight}%, but a multiple-response question here "
                "scores each of its right answers 100/R % and takes 100/W % for each wrong one "
                f"ticked (never below 0): with {len(right)} right and {wrong} wrong, write "
                f"~%{_percent(Decimal(100) / len(right))}% for each right answer and "
                f"~%-{_percent(Decimal(100) / (wrong or 1))}% for each wrong one.",
            )
    return right


def _percent(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.00001")).normalize(), "f")


def _tags_fit(per_answer: dict[int, list[str]], count: int, right: set[int]) -> None:
    """Refuse answer-N tags that name no answer, or name a right one."""
    for position in sorted(per_answer):
        if position > count:
            raise ApplicationError(
                f"The tag answer-{position}:... names answer {position}, but the question has "
                f"{count} answers."
            )
        if position in right:
            raise ApplicationError(
                f"The tag answer-{position}:... tags a right answer; only a wrong answer "
                "reveals a misconception."
            )


def _numeric_block(
    question: Question,
    markup: str,
    per_answer: dict[int, list[str]],
    places: dict[str, tuple[int, str]],
) -> dict[str, Any]:
    """Return the numeric block: the 100% answer, and each 0% answer as a distractor."""
    assert question.answers is not None
    answers = numeric_parse(question.answers)
    right = [position for position, answer in enumerate(answers, start=1) if answer.weight == 100]
    if len(right) != 1:
        raise gift_error(
            question.answers.line,
            f"A numeric question here has one right number (at 100%) with its tolerance; this "
            f"one has {len(right)}.",
        )
    _tags_fit(per_answer, len(answers), set(right))
    target = answers[right[0] - 1]
    if target.feedback is not None:
        raise gift_error(
            target.line,
            "The right number's feedback (#...) has no place here: a numeric item shows its "
            "general feedback (####) after every answer; write it there.",
        )
    tolerance = target.tolerance or Decimal(0)
    distractors: list[dict[str, Any]] = []
    for position, answer in enumerate(answers, start=1):
        if position == right[0]:
            continue
        if answer.weight != 0:
            raise gift_error(
                answer.line,
                f"Answer {position} gives {answer.weight}%: a number here is right (within "
                "the tolerance) or wrong, so give it 100% or 0% (a 0% answer is a wrong "
                "number that names its misconception).",
            )
        if answer.tolerance is not None and answer.tolerance != tolerance:
            raise gift_error(
                answer.line,
                f"Answer {position} has its own tolerance ({_number(answer.tolerance)}): a wrong "
                f"number is matched here within the right answer's ({_number(tolerance)}).",
            )
        places[f"numeric.distractors[{len(distractors)}]"] = (
            position,
            f"answer {position} ({_number(answer.value)}, line {answer.line})",
        )
        distractors.append(
            {
                "answer": _number(answer.value),
                "misconceptions": per_answer.get(position, []),
                "feedback": answer.feedback.read(markup)[0] if answer.feedback else "",
            }
        )
    return {
        "parameters": {},
        "answer": _number(target.value),
        "tolerance": float(tolerance),
        "relative": False,
        "unit": "",
        "distractors": distractors,
    }


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _problems(item: dict[str, Any], bank_slug: str, places: dict[str, tuple[int, str]]) -> str:
    """Return what validation finds wrong with one question, in GIFT's terms ("" if none)."""
    try:
        bank_validate(
            {"format": FORMAT, "slug": bank_slug, "title": bank_slug, "questions": [item]}
        )
    except ApplicationError as error:
        prefix = f"questions[0] {item['slug']!r}"
        return "; ".join(
            _gift_place(path.removeprefix(prefix).strip(), message, places)
            for path, message in error.fields.items()
        )
    return ""


def _gift_place(path: str, message: str, places: dict[str, tuple[int, str]]) -> str:
    """Return a validation problem named as a GIFT author would find it."""
    answer, _, field = path.partition(".")
    if path.startswith("numeric.distractors["):
        answer, _, field = path.removeprefix("numeric.").partition(".")
        answer = f"numeric.{answer}"
    if answer not in places:
        return f"{_TOP_FIELDS.get(path, path or 'question')}: {message}"
    position, place = places[answer]
    if field == "misconceptions":
        return f"{place}: {message} Tag it // [tag:answer-{position}:CODE]."
    if field == "feedback":
        return f"{place}: {message} Write it after # in the answer."
    return f"{place}{' ' + field if field else ''}: {message}"
