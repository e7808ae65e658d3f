"""Write banks (in our JSON form) as Moodle XML, laid out as Moodle's own export writes it
(question/format/xml/format.php), so that Moodle's importer and ours read it back.

Each bank is a category `$course$/top/<title>` whose idnumber is the bank's slug; each
question's name and idnumber are its slug. Texts are written as plain_text, exactly as
stored. single, multiple and truefalse become multichoice and truefalse; numeric items with
per-attempt parameters become `calculated` (one dataset item per combination of values,
at most Moodle's 100), those without become `numerical`; explain items become essays (model
answer, key ideas and reading criteria in the information for graders). Codes and the
parallel form are tags (assessments/formats/tags.py). A two-tier item, which Moodle has no
type for, becomes two linked single-choice questions (assessments/formats/moodle_xml_twotier.py);
a code question a monospaced essay tagged with its exercise, graded by hand in Moodle (the
information for graders lists the checks the grader runs here, the response template is the
exercise's starter code). What Moodle cannot express is left out, each with its reason.
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from assessments.formats.moodle_xml_fields import (
    description_write,
    formula_to_moodle,
    grader_info_write,
)
from assessments.formats.moodle_xml_twotier import twotier_split
from assessments.formats.tags import (
    EXERCISE_TAG_PREFIX,
    MOODLE_TAG_LENGTH,
    tags_from_codes,
)
from grader.exercises import EXERCISES

# Moodle's importer takes a fraction only from its list of grades (question_bank::
# fraction_options_full): 1/k for these k, so a choice type needs this many right and wrong.
_MOODLE_SHARES = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20})
_MAX_DATASET_ITEMS = 100  # Moodle's calculated questions hold at most 100 items


class _LeftOut(Exception):
    """A question Moodle XML cannot express, with the reason."""


@dataclass
class MoodleExport:
    """The file, and the questions left out of it with why, by bank and slug."""

    xml: bytes
    left_out: dict[str, str] = field(default_factory=dict)


def moodle_xml_write(banks: list[dict[str, Any]]) -> MoodleExport:
    """Return the banks as a Moodle XML file, leaving out what Moodle cannot express."""
    quiz = ET.Element("quiz")
    left_out: dict[str, str] = {}
    for bank in banks:
        quiz.append(_category(bank))
        for item in bank["questions"]:
            try:
                quiz.extend(_questions(item))
            except _LeftOut as reason:
                left_out[f"{bank['slug']}/{item['slug']}"] = str(reason)
    if left_out:
        # A comment may not hold "--"; slugs may.
        lines = [f" {where}: {why}".replace("--", "- -") for where, why in left_out.items()]
        quiz.insert(0, ET.Comment(" Left out:\n" + "\n".join(lines) + "\n"))
    ET.indent(quiz)
    return MoodleExport(ET.tostring(quiz, encoding="UTF-8", xml_declaration=True), left_out)


def _text(parent: ET.Element, tag: str, text: str, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    ET.SubElement(element, "text").text = text
    return element


def _plain(parent: ET.Element, tag: str, text: str) -> ET.Element:
    return _text(parent, tag, text, format="plain_text")


def _value(parent: ET.Element, tag: str, value: object) -> None:
    ET.SubElement(parent, tag).text = str(value)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _percent(value: float) -> str:
    return f"{value:.5f}".rstrip("0").rstrip(".")


def _category(bank: dict[str, Any]) -> ET.Element:
    question = ET.Element("question", type="category")
    _text(question, "category", "$course$/top/" + bank["title"].replace("/", "//"))
    info = description_write(
        description=bank.get("description", ""), is_prerequisite=bank.get("is_prerequisite", False)
    )
    _plain(question, "info", info)
    _value(question, "idnumber", bank["slug"])
    return question


def _questions(item: dict[str, Any]) -> list[ET.Element]:
    """Return the Moodle questions an item becomes: two for a two-tier item, else one."""
    if item["type"] != "twotier":
        return [_question(item, name=item["slug"], idnumber=item["slug"], extra_tags=[])]
    return [
        _question(tier.item, name=tier.name, idnumber=tier.idnumber, extra_tags=tier.tags)
        for tier in twotier_split(item)
    ]


def _question(
    item: dict[str, Any], *, name: str, idnumber: str, extra_tags: list[str]
) -> ET.Element:
    qtype = item["type"]
    moodle_type = {
        "single": "multichoice",
        "multiple": "multichoice",
        "truefalse": "truefalse",
        "explain": "essay",
        "code": "essay",
    }.get(qtype) or ("calculated" if item["numeric"]["parameters"] else "numerical")
    question = ET.Element("question", type=moodle_type)
    _text(question, "name", name)
    _plain(question, "questiontext", item["stem"])
    _plain(question, "generalfeedback", item["feedback"])
    _value(question, "defaultgrade", _number(float(item.get("mark", 1))))
    _value(question, "penalty", "0")  # no retries here, so no cost of one
    _value(question, "hidden", "0")
    _value(question, "idnumber", idnumber)
    per_answer: dict[int, list[str]] = {}
    per_idea: dict[int, list[str]] = {}
    if qtype in ("single", "multiple", "truefalse"):
        per_answer = _choices(question, item)
    elif qtype == "numeric":
        per_answer = _numeric(question, item, moodle_type)
    elif qtype == "code":
        extra_tags = [*extra_tags, _code_essay(question, item)]
    else:
        per_idea = _essay(question, item)
    tags = tags_from_codes(
        probes=item["probes"], per_answer=per_answer, per_idea=per_idea, form=item.get("form", "")
    )
    tags += extra_tags
    container = ET.SubElement(question, "tags")
    for tag in tags:
        _text(container, "tag", tag)
    return question


def _choices(question: ET.Element, item: dict[str, Any]) -> dict[int, list[str]]:
    choices = item["choices"]
    if item["type"] == "truefalse":
        words = [choice["text"].strip().lower() for choice in choices]
        if words != ["true", "false"]:
            # Moodle's export always writes true, then false; answer-N tags follow that order.
            raise _LeftOut(f"Moodle's true/false has the choices True then False, not {words}.")
        fractions = [100.0 if choice["correct"] else 0.0 for choice in choices]
    else:
        right = sum(1 for choice in choices if choice["correct"])
        wrong = len(choices) - right
        if item["type"] == "single":
            fractions = [100.0 if choice["correct"] else 0.0 for choice in choices]
        elif right not in _MOODLE_SHARES or (wrong and wrong not in _MOODLE_SHARES):
            raise _LeftOut(
                f"{right} right and {wrong} wrong choices need fractions 1/{right} and "
                f"-1/{wrong}, which Moodle's list of grades lacks."
            )
        else:
            fractions = [100 / right if c["correct"] else -100 / wrong for c in choices]
        _value(question, "single", "true" if item["type"] == "single" else "false")
        _value(question, "shuffleanswers", "true")  # our attempts shuffle choices
        _value(question, "answernumbering", "abc")
        _value(question, "showstandardinstruction", "0")
        for name in ("correctfeedback", "partiallycorrectfeedback", "incorrectfeedback"):
            _plain(question, name, "")
    for choice, fraction in zip(choices, fractions, strict=True):
        text = choice["text"] if item["type"] != "truefalse" else choice["text"].strip().lower()
        answer = _text(question, "answer", text, fraction=_percent(fraction), format="plain_text")
        _plain(answer, "feedback", choice["feedback"])
    return {i: c["misconceptions"] for i, c in enumerate(choices, 1) if c["misconceptions"]}


def _numeric(question: ET.Element, item: dict[str, Any], moodle_type: str) -> dict[int, list[str]]:
    numeric = item["numeric"]
    parameters: dict[str, list[float]] = numeric["parameters"]
    answers = [(100, numeric["answer"], "")] + [
        (0, d["answer"], d["feedback"]) for d in numeric["distractors"]
    ]
    if moodle_type == "numerical":
        if numeric["relative"]:
            raise _LeftOut("Moodle's numerical type has only absolute tolerances.")
        for _, text, _ in answers:
            try:
                float(text)
            except ValueError:
                raise _LeftOut(f"Moodle's numerical answers are numbers, not {text!r}.") from None
    if moodle_type == "calculated":
        _value(question, "synchronize", "0")
        _value(question, "single", "0")
        _value(question, "answernumbering", "abc")
        _value(question, "shuffleanswers", "0")
        for name in ("correctfeedback", "partiallycorrectfeedback", "incorrectfeedback"):
            _plain(question, name, "")
    for fraction, text, feedback in answers:
        if moodle_type == "calculated":
            try:
                text = formula_to_moodle(text, names=set(parameters))
            except ValueError as error:
                raise _LeftOut(f"{error}.") from error
        answer = _text(question, "answer", text, fraction=str(fraction), format="plain_text")
        _value(answer, "tolerance", _number(numeric["tolerance"]))
        if moodle_type == "calculated":
            _value(answer, "tolerancetype", "1" if numeric["relative"] else "2")
            _value(answer, "correctanswerformat", "1")  # decimals
            _value(answer, "correctanswerlength", "2")
        _plain(answer, "feedback", feedback)
    _value(question, "unitgradingtype", "0")
    _value(question, "unitpenalty", "0.1000000")
    _value(question, "showunits", "0" if numeric["unit"] else "3")  # optional / none
    _value(question, "unitsleft", "0")
    if numeric["unit"]:
        unit = ET.SubElement(ET.SubElement(question, "units"), "unit")
        _value(unit, "multiplier", "1")
        _value(unit, "unit_name", numeric["unit"])
    if moodle_type == "calculated":
        _datasets(question, parameters)
    # The right answer is answer 1; the distractors follow it.
    distractors = enumerate(numeric["distractors"], 2)
    return {i: d["misconceptions"] for i, d in distractors if d["misconceptions"]}


def _datasets(question: ET.Element, parameters: dict[str, list[float]]) -> None:
    names = sorted(parameters)
    rows = list(itertools.product(*(parameters[name] for name in names)))
    if len(rows) > _MAX_DATASET_ITEMS:
        raise _LeftOut(
            f"Its parameters make {len(rows)} combinations; a Moodle dataset holds at most "
            f"{_MAX_DATASET_ITEMS}."
        )
    definitions = ET.SubElement(question, "dataset_definitions")
    for column, name in enumerate(names):
        values = [float(row[column]) for row in rows]
        definition = ET.SubElement(definitions, "dataset_definition")
        _text(definition, "status", "private")
        _text(definition, "name", name)
        _value(definition, "type", "calculated")
        _text(definition, "distribution", "uniform")
        _text(definition, "minimum", _number(min(values)))
        _text(definition, "maximum", _number(max(values)))
        _text(definition, "decimals", str(max(_decimals(v) for v in values)))
        _value(definition, "itemcount", len(rows))
        items = ET.SubElement(definition, "dataset_items")
        for number, value in enumerate(values, 1):
            entry = ET.SubElement(items, "dataset_item")
            _value(entry, "number", number)
            _value(entry, "value", _number(value))
        _value(definition, "number_of_items", len(rows))


def _decimals(value: float) -> int:
    text = _number(value)
    return 0 if "." not in text or "e" in text else len(text.split(".")[1])


def _essay(question: ET.Element, item: dict[str, Any]) -> dict[int, list[str]]:
    _value(question, "responseformat", "plain")
    _value(question, "responserequired", "1")
    _value(question, "responsefieldlines", "10")
    _value(question, "attachments", "0")
    _value(question, "attachmentsrequired", "0")
    info = grader_info_write(
        model_answer=item["model_answer"],
        key_ideas=item["key_ideas"],
        criteria=item.get("key_idea_criteria", []),
    )
    _plain(question, "graderinfo", info)
    _plain(question, "responsetemplate", "")
    probes = item.get("key_idea_probes", [])
    return {i: codes for i, codes in enumerate(probes, 1) if codes}


def _code_essay(question: ET.Element, item: dict[str, Any]) -> str:
    """Write a code question as Moodle's code-friendly essay; return its exercise tag."""
    exercise = EXERCISES.get(item["exercise"])
    if exercise is None:
        raise _LeftOut(f"Its exercise {item['exercise']!r} is not one of the grader's.")
    tag = f"{EXERCISE_TAG_PREFIX}{exercise.slug}"
    if len(tag) > MOODLE_TAG_LENGTH:
        raise _LeftOut(f"The tag {tag!r} is longer than Moodle's {MOODLE_TAG_LENGTH} characters.")
    _value(question, "responseformat", "monospaced")
    _value(question, "responserequired", "1")
    _value(question, "responsefieldlines", "20")
    _value(question, "attachments", "0")
    _value(question, "attachmentsrequired", "0")
    checks = [
        f"- {check}: "
        + (", ".join(codes) if codes else "none (a failure is a defect, not a belief)")
        for check, codes in exercise.check_codes.items()
    ]
    info = [
        f"Code for exercise {exercise.slug} ({exercise.title}), graded by hand in Moodle. "
        "The dropout service runs an answer on hidden inputs; each check that fails there "
        "names the misconceptions listed beside it:",
        *checks,
    ]
    _plain(question, "graderinfo", "\n".join(info))
    _plain(question, "responsetemplate", exercise.starter_code)
    return tag
