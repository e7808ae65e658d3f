"""Read a Moodle XML question file (docs.moodle.org/en/Moodle_XML_format) into banks in our
JSON form (assessments/bank_format.py), question by question.

A `category` question starts a bank (assessments/formats/categories.py): its path
`$course$/top/A/B` gives the title "A / B" and, unless the category's idnumber is a slug (as
our export writes it), the slug "a--b". Questions before any category go to the
bank named after the file. Codes come from tags (assessments/formats/tags.py), and so do
what Moodle has no type for: two single choices tagged `twotier:KEY`, `tier:1` and `tier:2`
are merged into one two-tier item (assessments/formats/moodle_xml_twotier.py), and an essay
tagged `exercise:NAME` is a code question on that exercise. Text in
html or moodle_auto_format is sanitised by nh3 and kept as plain text
(assessments/formats/rich_text.py); plain_text and markdown stay as written. Embedded
files (images, sound) are refused: our questions are plain text and store no media.
`<penalty>` (Moodle's cost of a retry), `<shuffleanswers>` (our attempts always shuffle
choices) and `<hidden>` have no counterpart and are not read.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from decimal import Decimal, InvalidOperation
from typing import Any

from defusedxml import DefusedXmlException  # type: ignore[import-untyped]
from defusedxml.ElementTree import DefusedXMLParser  # type: ignore[import-untyped]
from django.utils.text import slugify

from assessments.formats.categories import SLUG_LENGTH, bank_start, category_names, category_slug
from assessments.formats.conversion import Conversion
from assessments.formats.moodle_xml_answers import (
    calculated_read,
    choices_read,
    code_essay_read,
    essay_read,
    numerical_read,
    truefalse_read,
)
from assessments.formats.moodle_xml_fields import description_read
from assessments.formats.moodle_xml_text import QuestionRefused, element_text, rich_text
from assessments.formats.moodle_xml_twotier import TierPairs
from assessments.formats.tags import (
    codes_from_tags,
    exercise_from_tags,
    form_from_tags,
    tier_from_tags,
)
from core.errors import ApplicationError

MAX_FILE_BYTES = 50 * 1024 * 1024
_REFUSED_TYPES = {
    "shortanswer": "a typed short answer is matched against texts; we have no such item",
    "cloze": "a cloze (embedded answers) question has no equivalent here",
    "multianswer": "a cloze (embedded answers) question has no equivalent here",
    "matching": "a matching question has no equivalent here",
    "match": "a matching question has no equivalent here",
    "ddwtos": "drag-and-drop into text has no equivalent here",
    "gapselect": "select-missing-words has no equivalent here",
    "calculatedmulti": "a calculated multichoice has no equivalent here",
    "randomsamatch": "a random short-answer matching has no equivalent here",
    "random": "a random question is drawn by Moodle's quiz, not stored in a bank",
}
_READERS = {
    "multichoice": choices_read,
    "truefalse": truefalse_read,
    "numerical": numerical_read,
    "calculated": calculated_read,
    "calculatedsimple": calculated_read,
    "essay": essay_read,
}


class _Skipped(Exception):
    """A question with nothing to import (a Moodle description)."""


def moodle_xml_read(data: bytes, *, default_bank: str) -> Conversion:
    """Return the banks a Moodle XML file holds, with what was skipped or refused and why.

    Raise ApplicationError when the file itself cannot be read: too large, not XML, a DTD or
    entity declaration (billion laughs, external entities), or not a `<quiz>`.
    """
    file_refuse_if_too_large(size=len(data))
    root, lines = _parse(data)
    conversion = Conversion()
    banks: dict[str, dict[str, Any]] = {}
    bank: dict[str, Any] | None = None
    used: set[str] = set()
    pairs = TierPairs()
    position = 0
    for element in root.findall("question"):
        qtype = element.get("type", "")
        if qtype == "category":
            bank = _category_bank(element, banks, line=lines.get(element, 0))
            continue
        position += 1
        name = element_text(element.find("name"))
        label = f"question {position} {name!r} (line {lines.get(element, 0)})"
        if bank is None:
            slug = slugify(default_bank)[:SLUG_LENGTH] or "imported"
            bank = bank_start(banks, slug=slug, title=default_bank)
        slug_source = ((element.findtext("idnumber") or "").strip(), name)
        try:
            item, tier = _question(element, qtype)
            if tier is not None:
                # A tier of a two-tier item waits for its partner; the pair is one item.
                paired = pairs.tier_add(
                    key=tier[0],
                    tier=tier[1],
                    item=item,
                    label=label,
                    bank=bank,
                    mark=Decimal((element.findtext("defaultgrade") or "1").strip()),
                    slug_source=slug_source,
                )
                if paired is None:
                    continue
                item, slug_source, label = paired
        except _Skipped as skipped:
            conversion.skipped[label] = str(skipped)
            continue
        except QuestionRefused as refusal:
            conversion.refused[f"{label} {refusal.field}"] = str(refusal)
            continue
        idnumber, name = slug_source
        item["slug"] = _unique_slug(idnumber=idnumber, name=name or item["stem"], used=used)
        conversion.origins[item["slug"]] = label
        if tier is None:
            bank["questions"].append(item)
    conversion.refused.update(pairs.unpaired())
    conversion.banks = [b for b in banks.values() if b["questions"]]
    return conversion


def file_refuse_if_too_large(*, size: int) -> None:
    """Refuse a file over the size limit before anything reads it."""
    if size > MAX_FILE_BYTES:
        message = (
            f"The file is {size / 1024 / 1024:.1f} MB; question files are limited to "
            f"{MAX_FILE_BYTES // 1024 // 1024} MB. Split the bank into smaller files."
        )
        raise ApplicationError(message, code="file_too_large", fields={"file": message})


class _LineBuilder(ET.TreeBuilder):
    """Build the tree and note the line each element starts on, for error messages."""

    def __init__(self) -> None:
        super().__init__()
        self.parser: Any = None
        self.lines: dict[ET.Element, int] = {}

    def start(self, tag: str, attrs: dict[str, str]) -> ET.Element:
        element = super().start(tag, attrs)
        self.lines[element] = self.parser.parser.CurrentLineNumber
        return element


def _parse(data: bytes) -> tuple[ET.Element, dict[ET.Element, int]]:
    builder = _LineBuilder()
    # forbid_dtd: Moodle never writes a DTD, and one is how entity bombs and external
    # entities get in; defusedxml refuses entities and external references besides.
    parser = DefusedXMLParser(target=builder, forbid_dtd=True)
    builder.parser = parser
    try:
        parser.feed(data)
        root = parser.close()
    except DefusedXmlException as error:
        message = (
            f"The file declares a DTD or entities ({type(error).__name__}), which are refused: "
            "Moodle never writes them, and they can expand without end or read other files."
        )
        raise ApplicationError(message, code="invalid_file", fields={"file": message}) from error
    except ET.ParseError as error:
        line, column = error.position
        message = f"Not well-formed XML at line {line}, column {column}: {error}."
        raise ApplicationError(message, code="invalid_file", fields={"file": message}) from error
    if root.tag != "quiz":
        message = f"A Moodle XML file holds a <quiz> element; this one holds <{root.tag}>."
        raise ApplicationError(message, code="invalid_file", fields={"file": message})
    return root, builder.lines


def _category_bank(
    element: ET.Element, banks: dict[str, dict[str, Any]], *, line: int
) -> dict[str, Any] | None:
    """Return the bank a category starts; None for a context's top (`$course$/top`),
    whose questions go to the bank named after the file, as questions before any category."""
    segments = category_names(element_text(element.find("category")))
    if not segments:
        return None
    idnumber = (element.findtext("idnumber") or "").strip()
    slug = idnumber if re.fullmatch(r"[-a-zA-Z0-9_]{1,80}", idnumber) else ""
    bank = bank_start(banks, slug=slug or category_slug(segments), title=" / ".join(segments))
    info = element.find("info")
    if info is not None:
        try:
            text = rich_text(info, default_format="moodle_auto_format")
        except QuestionRefused as refusal:
            message = f"The category at line {line}: {refusal}"
            raise ApplicationError(message, fields={f"line {line}": message}) from refusal
        bank["description"], bank["is_prerequisite"] = description_read(text)
    return bank


def _question(element: ET.Element, qtype: str) -> tuple[dict[str, Any], tuple[str, int] | None]:
    """Return the question as an item, with its pairing key and tier if it is one tier of a
    two-tier item."""
    if qtype == "description":
        raise _Skipped("A description is text without an answer: nothing to import.")
    if qtype in _REFUSED_TYPES:
        raise QuestionRefused("type", f"Type {qtype!r} is refused: {_REFUSED_TYPES[qtype]}.")
    reader = _READERS.get(qtype)
    if reader is None:
        known = ", ".join(sorted(_READERS))
        raise QuestionRefused("type", f"Unknown question type {qtype!r}; we import {known}.")
    _refuse_files(element)
    tags = [element_text(tag) for tag in element.findall("./tags/tag")]
    tags += [element_text(tag) for tag in element.findall("./coursetags/tag")]
    try:
        probes, per_answer = codes_from_tags(tags)
        form = form_from_tags(tags)
        tier = tier_from_tags(tags)
        exercise = exercise_from_tags(tags)
    except ApplicationError as error:
        raise QuestionRefused("tags", error.message) from error
    if exercise and qtype != "essay":
        raise QuestionRefused(
            "tags", f"Only an essay is a code question; this {qtype} is tagged exercise:."
        )
    if exercise:
        reader = code_essay_read
    question_text = element.find("questiontext")
    question_format = "html" if question_text is None else question_text.get("format", "html")
    item: dict[str, Any] = {
        "form": form,
        "stem": rich_text(question_text, default_format="html"),
        "mark": _mark(element),
        "probes": probes,
        "feedback": rich_text(element.find("generalfeedback"), default_format=question_format),
        "choices": [],
    }
    if not item["stem"]:
        raise QuestionRefused("questiontext", "The question text is empty.")
    if not probes:
        raise QuestionRefused(
            "tags",
            "No misconception tag: tag the question misconception:DO-XXX with the code of "
            "each belief it probes (see the catalogue of misconceptions).",
        )
    if not item["feedback"]:
        raise QuestionRefused(
            "generalfeedback",
            "The general feedback is empty: write what is true; it is shown after every answer.",
        )
    item.update(reader(element, per_answer=per_answer, tags=tags, text_format=question_format))
    return item, tier


def _refuse_files(element: ET.Element) -> None:
    """Refuse embedded files rather than drop them: our questions are plain text."""
    answers = 0
    for child in element:
        where = child.tag
        if child.tag == "answer":
            answers += 1
            where = f"answer {answers}"
        for node in child.iter():
            if node.tag == "file":
                name = node.get("name", "?")
            elif node.text and "@@PLUGINFILE@@" in node.text:
                found = re.search(r"@@PLUGINFILE@@/?([^\"'\s)<>]*)", node.text)
                name = found.group(1) if found else "?"
            else:
                continue
            raise QuestionRefused(
                where,
                f"Embedded file {name!r} is refused: questions here are plain text and store "
                "no images or media. Describe it in words, or remove it.",
            )


def _mark(element: ET.Element) -> str:
    text = (element.findtext("defaultgrade") or "1").strip()
    try:
        mark = Decimal(text).quantize(Decimal("0.01"))
    except InvalidOperation as error:
        raise QuestionRefused("defaultgrade", f"{text!r} is not a number.") from error
    if mark < 0:
        raise QuestionRefused("defaultgrade", "A mark cannot be negative.")
    return str(mark)


def _unique_slug(*, idnumber: str, name: str, used: set[str]) -> str:
    """Return the idnumber when it is a slug (ours are exported so), else one made from it
    or the name; numbered when the file already used it."""
    if re.fullmatch(r"[-a-zA-Z0-9_]{1,80}", idnumber):
        base = idnumber
    else:
        base = slugify(idnumber or name)[:70].strip("-") or "question"
    slug, suffix = base, 2
    while slug in used:
        slug, suffix = f"{base[: SLUG_LENGTH - 4]}-{suffix}", suffix + 1
    used.add(slug)
    return slug
