"""Moodle XML for what Moodle has no type for: a two-tier item as two single-choice questions
linked by `twotier:KEY` and `tier:1`/`tier:2` tags, a code question as a monospaced essay
tagged `exercise:NAME`. Written as Moodle reads them, read back merged, and every broken
link refused naming the question and the tags, with nothing written."""

import pytest
from defusedxml import ElementTree as ET  # type: ignore[import-untyped]

from assessments.bank_transfer import bank_export
from assessments.formats.conversion_import import conversion_import
from assessments.formats.moodle_xml_read import moodle_xml_read
from assessments.formats.moodle_xml_write import moodle_xml_write
from assessments.formats.tags import twotier_key
from assessments.models import Question, QuestionBank
from core.errors import ApplicationError
from grader.exercises import EXERCISES
from tests.factories import code

pytestmark = pytest.mark.django_db
CODES = ("DO-TEST", "DO-SCHEME", "DO-PKEEP", "DO-NOSCALE", "DO-FIXEDMASK", "DO-TARGETED")
# What dropout-forward's checks can name: a code question probes all of it.
FORWARD_PROBES = [f"misconception:{name}" for name in CODES]


@pytest.fixture(autouse=True)
def codes():
    for name in CODES:
        code(name)


def _tags(*tags: str) -> str:
    return "<tags>" + "".join(f"<tag><text>{tag}</text></tag>" for tag in tags) + "</tags>"


def _answer(text: str, fraction: int, feedback: str = "") -> str:
    return (
        f'<answer fraction="{fraction}" format="html"><text>{text}</text>'
        f"<feedback><text>{feedback}</text></feedback></answer>"
    )


def _choice_question(name: str, text: str, tags: str, *, single: str = "true") -> str:
    return f"""<question type="multichoice">
    <name><text>{name}</text></name>
    <questiontext format="html"><text><![CDATA[<p>{text}</p>]]></text></questiontext>
    <generalfeedback format="html"><text>Nothing is dropped at inference.</text></generalfeedback>
    <defaultgrade>0.5</defaultgrade>
    <idnumber>{name}</idnumber>
    <single>{single}</single>
    {_answer("No", 100)}
    {_answer("Yes", 0 if single == "true" else -100, "Dropout is off at inference.")}
    {tags}
  </question>"""


def _answer_tier(*tags: str, name: str = "inference") -> str:
    return _choice_question(
        name,
        "Does a dropout layer drop units at inference?",
        _tags("misconception:DO-TEST", "answer-2:DO-TEST", *tags),
    )


def _reason_tier(*tags: str, name: str = "inference-reason", single: str = "true") -> str:
    return _choice_question(
        name,
        "Which reason supports your answer?",
        _tags("misconception:DO-SCHEME", "answer-2:DO-SCHEME", *tags),
        single=single,
    )


def _file(*questions: str) -> bytes:
    body = "\n  ".join(questions)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<quiz>
  <question type="category"><category><text>$course$/top/Linked</text></category></question>
  {body}
</quiz>""".encode()


PAIR = ("twotier:inference",)


def test_two_linked_questions_import_as_one_two_tier_item_wherever_they_stand():
    # given the reason tier first, a question between, then the answer tier
    other = _choice_question("between", "Is dropout on in training?", _tags(
        "misconception:DO-TEST", "answer-2:DO-TEST"))  # fmt: skip
    data = _file(_reason_tier(*PAIR, "TIER:2"), other, _answer_tier("TwoTier:Inference", "tier:1"))
    # when the file is imported
    report = conversion_import(conversion=moodle_xml_read(data, default_bank="x"))
    # then the pair is one item where the first tier stood, named by the answer tier
    assert report.banks == {"linked": 2}
    bank = bank_export(QuestionBank.objects.get(slug="linked"))
    item = bank["questions"][0]
    assert [q["slug"] for q in bank["questions"]] == ["inference", "between"]
    assert item["type"] == "twotier"
    assert item["stem"] == "Does a dropout layer drop units at inference?"
    assert item["reason_prompt"] == "Which reason supports your answer?"
    assert item["mark"] == 1.0  # the two halves
    assert item["probes"] == ["DO-SCHEME", "DO-TEST"]
    assert [(c["text"], c["tier"], c["misconceptions"]) for c in item["choices"]] == [
        ("No", 1, []), ("Yes", 1, ["DO-TEST"]), ("No", 2, []), ("Yes", 2, ["DO-SCHEME"]),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("questions", "where", "message"),
    [
        (
            [_answer_tier(*PAIR, "tier:1")],
            "question 1 'inference' (line 4) tags",
            "The answer tier of two-tier question twotier:inference has no reason tier",
        ),
        (
            [_reason_tier(*PAIR, "tier:2")],
            "question 1 'inference-reason' (line 4) tags",
            "has no answer tier to pair with: a single choice tagged twotier:inference and tier:1",
        ),
        (
            [_answer_tier(*PAIR, "tier:1"), _answer_tier(*PAIR, "tier:1", name="again")],
            "question 2 'again' (line 15) tags",
            "question 1 'inference' (line 4) is the answer tier tagged twotier:inference already",
        ),
        (
            [_answer_tier("tier:1")],
            "question 1 'inference' (line 4) tags",
            "names one pairing tag (found none)",
        ),
        (
            [_answer_tier(*PAIR, "twotier:other", "tier:1")],
            "question 1 'inference' (line 4) tags",
            "(found twotier:inference, twotier:other)",
        ),
        ([_answer_tier(*PAIR)], "question 1 'inference' (line 4) tags", "(found none)"),
        ([_answer_tier(*PAIR, "tier:3")], "question 1 'inference' (line 4) tags", "found tier:3"),
        (
            [_answer_tier(*PAIR, "tier:1"), _reason_tier(*PAIR, "tier:2", single="false")],
            "question 2 'inference-reason' (line 15) single",
            "The reason tier of a two-tier question is a single-choice multichoice",
        ),
        (
            [_answer_tier(*PAIR, "tier:1", "form:A"), _reason_tier(*PAIR, "tier:2", "form:B")],
            "question 2 'inference-reason' (line 15) tags",
            "name different parallel forms (A and B)",
        ),
    ],
)
def test_a_broken_link_is_refused_naming_the_question_and_nothing_is_written(
    questions, where, message
):
    with pytest.raises(ApplicationError) as caught:
        conversion_import(conversion=moodle_xml_read(_file(*questions), default_bank="x"))
    assert where in caught.value.fields, caught.value.fields
    assert message in caught.value.fields[where]
    assert not Question.objects.exists()


def test_tiers_in_two_categories_are_refused():
    data = _file(
        _answer_tier(*PAIR, "tier:1"),
        '<question type="category"><category><text>$course$/top/Other</text></category></question>',
        _reason_tier(*PAIR, "tier:2"),
    )
    conversion = moodle_xml_read(data, default_bank="x")
    assert conversion.banks == []
    assert (
        "is in another category"
        in conversion.refused["question 2 'inference-reason' (line 16) tags"]
    )
    assert "has no reason tier" in conversion.refused["question 1 'inference' (line 4) tags"]


def _code_essay(*tags: str, qtype: str = "essay") -> bytes:
    return _file(f"""<question type="{qtype}">
    <name><text>forward</text></name>
    <questiontext format="plain_text"><text>Implement inverted dropout.</text></questiontext>
    <generalfeedback format="plain_text"><text>Scale kept units by 1/(1-p).</text></generalfeedback>
    <idnumber>forward</idnumber>
    <responseformat>monospaced</responseformat>
    {_answer("x", 100) if qtype != "essay" else ""}
    {_tags(*FORWARD_PROBES, *tags)}
  </question>""")


def test_an_essay_tagged_with_an_exercise_imports_as_a_code_question():
    # Moodle may hand the tag back in another case; graderinfo is the exercise's, not read
    conversion_import(conversion=moodle_xml_read(_code_essay("Exercise:Dropout-Forward"), default_bank="x"))  # fmt: skip
    question = Question.objects.get(slug="forward")
    assert (question.qtype, question.exercise) == ("code", "dropout-forward")
    assert question.stem == "Implement inverted dropout."


@pytest.mark.parametrize(
    ("tags", "qtype", "message"),
    [
        (["exercise:dropout-sideways"], "essay", "unknown exercise 'dropout-sideways'; choose one"),
        (["exercise:dropout-forward", "exercise:dropout-backward"], "essay", "names one exercise"),
        (["exercise:"], "essay", "names one exercise"),
        (["exercise:dropout-forward", "idea-1:DO-TEST"], "essay", "has no answers or key ideas"),
        (["exercise:dropout-forward"], "multichoice", "Only an essay is a code question"),
    ],
)
def test_a_code_essay_we_cannot_keep_is_refused_naming_its_tags(tags, qtype, message):
    with pytest.raises(ApplicationError) as caught:
        conversion_import(conversion=moodle_xml_read(_code_essay(*tags, qtype=qtype), default_bank="x"))  # fmt: skip
    ((where, problem),) = caught.value.fields.items()
    assert where == "question 1 'forward' (line 4) tags"
    assert message in problem
    assert not Question.objects.exists()


TWOTIER = {
    "slug": "inference",
    "type": "twotier",
    "form": "B",
    "stem": "Does a dropout layer drop units at inference?",
    "reason_prompt": "Which reason supports your answer?",
    "mark": 1.25,
    "probes": ["DO-TEST"],
    "feedback": "Nothing is dropped at inference.",
    "choices": [
        {"text": "No", "correct": True, "tier": 1, "misconceptions": [], "feedback": ""},
        {"text": "Yes", "correct": False, "tier": 1, "misconceptions": ["DO-TEST"], "feedback": "Off."},
        {"text": "Eval mode", "correct": True, "tier": 2, "misconceptions": [], "feedback": ""},
        {"text": "Random", "correct": False, "tier": 2, "misconceptions": ["DO-TEST"], "feedback": "No."},
    ],
}  # fmt: skip
CODE = {
    "slug": "forward",
    "type": "code",
    "form": "",
    "stem": "Implement inverted dropout.",
    "mark": 1.0,
    "probes": ["DO-TEST"],
    "feedback": "Scale kept units by 1/(1-p).",
    "choices": [],
    "exercise": "dropout-forward",
}


def test_export_writes_a_two_tier_item_as_two_single_choices_moodle_reads():
    bank = {"slug": "b", "title": "B", "description": "", "questions": [TWOTIER]}
    quiz = ET.fromstring(moodle_xml_write([bank]).xml)
    answer, reason = quiz.findall("question[@type='multichoice']")
    assert [q.findtext("name/text") for q in (answer, reason)] == [
        "inference",
        "inference (reason)",
    ]
    assert [q.findtext("idnumber") for q in (answer, reason)] == ["inference", "inference:reason"]
    assert reason.findtext("questiontext/text") == "Which reason supports your answer?"
    for tier, question in enumerate((answer, reason), 1):
        assert question.findtext("single") == "true"
        assert question.findtext("defaultgrade") == "0.625"
        assert [a.get("fraction") for a in question.findall("answer")] == ["100", "0"]
        assert {t.text for t in question.findall("tags/tag/text")} == {
            "misconception:DO-TEST", "answer-2:DO-TEST", "form:B", "twotier:inference", f"tier:{tier}",
        }  # fmt: skip


def test_export_writes_a_code_question_as_a_monospaced_essay_for_a_human_grader():
    bank = {"slug": "b", "title": "B", "description": "", "questions": [CODE]}
    (essay,) = ET.fromstring(moodle_xml_write([bank]).xml).findall("question[@type='essay']")
    exercise = EXERCISES["dropout-forward"]
    assert essay.findtext("responseformat") == "monospaced"
    assert essay.findtext("responsetemplate/text") == exercise.starter_code
    info = essay.findtext("graderinfo/text")
    assert "graded by hand in Moodle" in info
    assert "- mean-preserved: DO-NOSCALE, DO-PKEEP, DO-SCHEME" in info
    assert {t.text for t in essay.findall("tags/tag/text")} == {
        "misconception:DO-TEST",
        "exercise:dropout-forward",
    }


def test_a_long_slug_pairs_under_a_key_that_fits_moodles_tags():
    first, second = ("a" * 70 + "-first", "a" * 70 + "-second")
    keys = {twotier_key(first), twotier_key(second)}
    assert len(keys) == 2
    assert all(len(f"twotier:{key}") == 50 for key in keys)
    assert twotier_key("Short-Slug") == "short-slug"
