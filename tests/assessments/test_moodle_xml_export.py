"""Moodle XML export: the layout Moodle's importer reads (question/format/xml/format.php),
fractions from Moodle's list of grades, and a reason for each question it leaves out; the
tag convention both ways."""

import copy
import json

import pytest
from defusedxml import ElementTree as ET  # type: ignore[import-untyped]
from django.conf import settings

from assessments.formats.moodle_xml_write import moodle_xml_write
from assessments.formats.tags import (
    codes_from_tags,
    form_from_tags,
    idea_codes_from_tags,
    other_tags,
    tags_from_codes,
)
from core.errors import ApplicationError

BANKS = settings.BASE_DIR / "fixtures" / "banks"
# question_bank::fraction_options_full(): the only fractions Moodle's importer takes (it
# matches within 1e-5 and refuses the file otherwise).
MOODLE_GRADES = {0.0, 1.0, 0.9, 0.8333333, 0.8, 0.75, 0.7, 0.6666667, 0.6, 0.5, 0.4}
MOODLE_GRADES |= {0.3333333, 0.3, 0.25, 0.2, 0.1666667, 0.1428571, 0.125, 0.1111111, 0.1, 0.05}
MOODLE_GRADES |= {-grade for grade in MOODLE_GRADES}
# What Moodle's importer reads with no default (format.php indexes them directly).
CALCULATED_ANSWER = ("tolerance", "tolerancetype", "correctanswerformat", "correctanswerlength")
DATASET = ("status/text", "name/text", "type", "distribution/text", "minimum/text",
           "maximum/text", "decimals/text", "itemcount")  # fmt: skip


def _catalogue():
    banks = [json.loads(path.read_text()) for path in sorted(BANKS.glob("*.json"))]
    for bank in banks:
        for question in bank["questions"]:
            question.setdefault("form", "")
    return banks


def test_the_catalogue_exports_in_the_layout_moodle_reads():
    quiz = ET.fromstring(moodle_xml_write(_catalogue()).xml)
    questions = quiz.findall("question")
    assert {q.get("type") for q in questions} == {
        "category", "multichoice", "truefalse", "calculated", "essay",
    }  # fmt: skip
    for question in questions:
        if question.get("type") == "category":
            assert question.findtext("category/text").startswith("$course$/top/")
            continue
        for field in ("name/text", "questiontext/text", "generalfeedback/text", "idnumber"):
            assert question.find(field) is not None, field
        for answer in question.findall("answer"):
            assert round(float(answer.get("fraction")) / 100, 7) in MOODLE_GRADES
        if question.get("type") == "truefalse":
            assert [a.findtext("text") for a in question.findall("answer")] == ["true", "false"]
        if question.get("type") == "calculated":
            for answer in question.findall("answer"):
                assert all(answer.find(field) is not None for field in CALCULATED_ANSWER)
            for dataset in question.findall("dataset_definitions/dataset_definition"):
                assert all(dataset.find(field) is not None for field in DATASET)
                count = int(dataset.findtext("itemcount"))
                assert len(dataset.findall("dataset_items/dataset_item")) == count


def _bank(question):
    return [{"slug": "b", "title": "B", "description": "", "questions": [question]}]


NUMERIC = {
    "slug": "n",
    "type": "numeric",
    "form": "",
    "stem": "How many units stay active?",
    "mark": 1.0,
    "probes": ["DO-PKEEP"],
    "feedback": "800.",
    "choices": [],
    "numeric": {
        "parameters": {},
        "answer": "800",
        "tolerance": 0.01,
        "relative": True,
        "unit": "",
        "distractors": [{"answer": "200", "misconceptions": ["DO-PKEEP"], "feedback": "No."}],
    },
}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda q: None, "Moodle's numerical type has only absolute tolerances."),
        (
            lambda q: q["numeric"].update(relative=False, answer="1000 * (1 - 0.2)"),
            "Moodle's numerical answers are numbers, not '1000 * (1 - 0.2)'.",
        ),
        (
            lambda q: q["numeric"].update(parameters={"p": [0.1, 0.2]}, answer="(1 - p) ** 2"),
            "'(1 - p) ** 2' uses an operator Moodle's formulas lack.",
        ),
        (
            lambda q: q["numeric"].update(
                parameters={"a": list(range(11)), "p": [0.1 * i for i in range(10)]},
                answer="a * p",
            ),
            "Its parameters make 110 combinations; a Moodle dataset holds at most 100.",
        ),
    ],
)
def test_what_moodle_cannot_express_is_left_out_with_its_reason(change, reason):
    question = copy.deepcopy(NUMERIC)
    change(question)
    exported = moodle_xml_write(_bank(question))
    assert exported.left_out == {"b/n": reason}
    assert ET.fromstring(exported.xml).findall("question[@type='numerical']") == []


def test_tags_carry_the_codes_both_ways():
    tags = tags_from_codes(
        probes=["DO-TEST"],
        per_answer={2: ["DO-TEST", "DO-SCHEME"]},
        per_idea={1: ["DO-MORE"]},
        form="B",
    )
    assert tags == [
        "misconception:DO-TEST", "answer-2:DO-TEST", "answer-2:DO-SCHEME", "idea-1:DO-MORE", "form:B",
    ]  # fmt: skip
    # Moodle may hand a tag back in another case and order, beside tags of its own
    returned = ["week 3", "FORM:b", "Answer-2:do-scheme", *reversed(tags[:3]), tags[3]]
    probes, per_answer = codes_from_tags(returned)
    assert probes == ["DO-TEST"]
    assert {position: sorted(codes) for position, codes in per_answer.items()} == {
        2: ["DO-SCHEME", "DO-TEST"]
    }
    assert idea_codes_from_tags(returned) == {1: ["DO-MORE"]}
    assert form_from_tags(returned) == "B"
    assert other_tags(returned) == ["week 3"]


@pytest.mark.parametrize(
    ("read", "tags", "message"),
    [
        (codes_from_tags, ["answer-0:DO-TEST"], "answers are numbered from 1"),
        (codes_from_tags, ["misconception:"], "names no misconception code"),
        (idea_codes_from_tags, ["idea-1: "], "names no misconception code"),
        (form_from_tags, ["form:A", "form:B"], "give at most one"),
    ],
)
def test_a_malformed_code_tag_is_an_error_naming_it(read, tags, message):
    with pytest.raises(ApplicationError) as caught:
        read(tags)
    assert message in caught.value.message
    assert list(caught.value.fields) == ["tags"]
