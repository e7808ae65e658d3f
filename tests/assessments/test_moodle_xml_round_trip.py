"""Our whole catalogue through Moodle XML and back: every question of every bank comes back
equal (bank_export's output), two-tier items as two linked questions and code questions as
essays tagged with their exercise among them, every tag within Moodle's 50 characters."""

import json

import pytest
from defusedxml import ElementTree as ET  # type: ignore[import-untyped]
from django.conf import settings

from assessments.bank_transfer import bank_export, bank_import
from assessments.catalog import misconceptions_load
from assessments.formats.conversion_import import conversion_import
from assessments.formats.moodle_xml_read import moodle_xml_read
from assessments.formats.moodle_xml_write import moodle_xml_write
from assessments.models import Question, QuestionBank

pytestmark = pytest.mark.django_db
FIXTURES = settings.BASE_DIR / "fixtures"


@pytest.fixture
def catalogue():
    misconceptions_load(json.loads((FIXTURES / "misconceptions.json").read_text()))
    for path in sorted((FIXTURES / "banks").glob("*.json")):
        bank_import(json.loads(path.read_text()))
    return [bank_export(bank) for bank in QuestionBank.objects.order_by("slug")]


def test_the_catalogue_comes_back_equal_through_moodle_xml(catalogue):
    # given the catalogue exported as one Moodle XML file
    exported = moodle_xml_write(catalogue)
    # when every bank is deleted and the file imported
    QuestionBank.objects.all().delete()
    report = conversion_import(conversion=moodle_xml_read(exported.xml, default_bank="x"))
    # then every bank and every question is back, equal, nothing left out or refused
    assert exported.left_out == {}
    assert report.refused == {} and report.skipped == {}
    assert [bank_export(b) for b in QuestionBank.objects.order_by("slug")] == catalogue
    types = {q["type"] for bank in catalogue for q in bank["questions"]}
    assert {"twotier", "code"} <= types
    assert Question.objects.count() == sum(len(bank["questions"]) for bank in catalogue) == 90


def test_the_catalogue_travels_as_moodle_questions_with_short_tags(catalogue):
    quiz = ET.fromstring(moodle_xml_write(catalogue).xml)
    questions = [q for q in quiz.findall("question") if q.get("type") != "category"]
    twotier = sum(1 for b in catalogue for q in b["questions"] if q["type"] == "twotier")
    code = [q for b in catalogue for q in b["questions"] if q["type"] == "code"]
    # a two-tier item is two questions
    assert len(questions) == 90 + twotier
    essays = [q for q in questions if q.findtext("responseformat") == "monospaced"]
    assert len(essays) == len(code)
    for question in questions:
        for tag in question.findall("tags/tag/text"):
            assert len(tag.text) <= 50, tag.text  # Moodle cuts longer tags (TAG_MAX_LENGTH)
