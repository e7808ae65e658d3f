"""Moodle XML import: a file written to Moodle's documentation imports as banks, each question
we cannot keep is refused naming the question and the field, hostile files are refused
before they can do harm, and a refused import writes nothing."""

from pathlib import Path

import pytest

from assessments.bank_transfer import bank_export
from assessments.formats.conversion_import import conversion_import
from assessments.formats.moodle_xml_read import MAX_FILE_BYTES, moodle_xml_read
from assessments.models import Choice, NumericDistractor, Question, QuestionBank
from assessments.numeric import expression_evaluate
from core.errors import ApplicationError
from tests.factories import code

pytestmark = pytest.mark.django_db
FILES = Path(__file__).parent / "moodle_xml"
CODES = ("DO-TEST", "DO-SPEED", "DO-DATA", "DO-PKEEP", "DO-SCHEME", "DO-NOSCALE")


@pytest.fixture(autouse=True)
def codes():
    for name in CODES:
        code(name)


def _import(data: bytes, *, partial: bool = False):
    return conversion_import(
        conversion=moodle_xml_read(data, default_bank="upload"), partial=partial
    )


def _counts():
    return (
        QuestionBank.objects.count(),
        Question.objects.count(),
        Choice.objects.count(),
        NumericDistractor.objects.count(),
    )


def test_a_moodle_file_imports_as_a_bank_of_our_questions():
    # given a file laid out as Moodle exports it, with every feature we read
    data = (FILES / "dropout_basics.xml").read_bytes()
    # when it is imported
    report = _import(data)
    # then its category is one bank, named by its path
    assert report.banks == {"dropout--basics": 6}
    assert report.refused == {}
    assert list(report.skipped.values()) == [
        "A description is text without an answer: nothing to import."
    ]
    assert list(report.skipped) == ["question 3 'Reading' (line 113)"]
    bank = bank_export(QuestionBank.objects.get(slug="dropout--basics"))
    assert bank["title"] == "Dropout / Basics"
    assert bank["description"] == "What dropout does, in training and at inference."
    single, multiple, truefalse, numerical, calculated, essay = bank["questions"]
    # HTML is sanitised into plain text: the script is gone, entities are characters
    assert single["slug"] == "test-time-1"
    assert single["stem"] == (
        "A model with dropout (p = 0.5) is put in evaluation mode.\n\n"
        "What does a dropout layer do at inference?"
    )
    assert "alert" not in single["stem"]
    assert single["form"] == "A"
    assert single["choices"][1] == {
        "text": "It drops half of the units at random, as in training.",
        "correct": False,
        "tier": 1,
        "misconceptions": ["DO-TEST"],
        "feedback": "Dropping stops at inference: model.eval() turns it off.",
    }
    # 33.33333 and -50 are our multiple-response rule; tags are read in any case
    assert multiple["type"] == "multiple"
    assert multiple["slug"] == "what-dropout-is-for"
    assert multiple["mark"] == 2.0
    assert multiple["probes"] == ["DO-DATA", "DO-SPEED"]
    assert [c["correct"] for c in multiple["choices"]] == [True, False, True, False, True]
    assert multiple["choices"][3]["misconceptions"] == ["DO-DATA"]
    assert multiple["stem"] == "Which of these are true of dropout?\nSelect all that apply."
    # true/false keeps the file's order and each answer's feedback
    assert [(c["text"], c["correct"]) for c in truefalse["choices"]] == [
        ("True", False),
        ("False", True),
    ]
    assert truefalse["choices"][1]["feedback"] == "Right: nothing is dropped at inference."
    # numerical: the 100% answer is the number, each 0% answer a distractor with its codes
    assert numerical["numeric"] == {
        "parameters": {},
        "answer": "800",
        "tolerance": 0.5,
        "relative": False,
        "unit": "units",
        "distractors": [
            {
                "answer": "200",
                "misconceptions": ["DO-PKEEP"],
                "feedback": "200 is the expected number of dropped units.",
            }
        ],
    }
    # calculated: wildcards are per-attempt parameters, formulas our expressions
    assert calculated["numeric"]["parameters"] == {"a": [1.5, 3.0], "p": [0.2, 0.5]}
    assert calculated["numeric"]["answer"] == "a * (1 - p)"
    assert calculated["numeric"]["relative"] is True
    assert expression_evaluate(calculated["numeric"]["answer"], {"a": 3.0, "p": 0.5}) == 1.5
    # an essay is an explain item: model answer and key ideas from the graders' information
    assert essay["type"] == "explain"
    assert essay["model_answer"].startswith("At inference every unit is kept")
    assert essay["key_ideas"] == [
        "No unit is dropped at inference.",
        "The scaling keeps expected activations equal.",
    ]
    assert essay["key_idea_probes"] == [["DO-TEST"], ["DO-NOSCALE"]]


def test_importing_the_same_file_again_updates_in_place():
    data = (FILES / "dropout_basics.xml").read_bytes()
    _import(data)
    before = _counts()
    _import(data)
    assert _counts() == before


def _question(body: str, *, qtype: str = "multichoice", name: str = "Q") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<quiz>
  <question type="category"><category><text>$course$/top/Refusals</text></category></question>
  <question type="{qtype}">
    <name><text>{name}</text></name>
    <questiontext format="html"><text><![CDATA[<p>What does dropout do at inference?</p>]]></text></questiontext>
    <generalfeedback format="html"><text>Nothing is dropped at inference.</text></generalfeedback>
    {body}
  </question>
</quiz>""".encode()


RIGHT = '<answer fraction="100"><text>Nothing</text><feedback><text></text></feedback></answer>'
WRONG = (
    '<answer fraction="0"><text>Drops units</text><feedback><text>No.</text></feedback></answer>'
)
TAGS = "<tags><tag><text>misconception:DO-TEST</text></tag><tag><text>answer-2:DO-TEST</text></tag></tags>"


@pytest.mark.parametrize(
    ("qtype", "body", "field", "message"),
    [
        ("shortanswer", RIGHT, "type", "'shortanswer' is refused"),
        ("cloze", "", "type", "cloze"),
        ("multianswer", "", "type", "cloze"),
        ("matching", "", "type", "matching question has no equivalent"),
        ("ddwtos", "", "type", "drag-and-drop"),
        ("hotspot", "", "type", "Unknown question type 'hotspot'"),
        (
            "multichoice",
            RIGHT + WRONG + "<tags><tag><text>misconception:DO-TEST</text></tag></tags>",
            "answer 2",
            "tag the question answer-2:DO-XXX",
        ),
        ("multichoice", RIGHT + WRONG, "tags", "tag the question misconception:DO-XXX"),
        (
            "multichoice",
            WRONG.replace('"0"', '"50"') + WRONG + TAGS,
            "answer 1 fraction",
            "Partial credit (50%) on a single-choice answer",
        ),
        (
            "multichoice",
            WRONG
            + WRONG
            + TAGS.replace("</tags>", "<tag><text>answer-1:DO-TEST</text></tag></tags>"),
            "answer fraction",
            "No answer has fraction 100: mark the right answer.",
        ),
        (
            "multichoice",
            "<single>false</single>"
            + RIGHT.replace('"100"', '"40"')
            + WRONG.replace('"0"', '"-100"')
            + RIGHT.replace('"100"', '"40"')
            + TAGS,
            "answer fraction",
            "sum to 80%, not 100%",
        ),
        (
            "multichoice",
            "<single>false</single>"
            + RIGHT.replace('"100"', '"50"')
            + WRONG
            + RIGHT.replace('"100"', '"50"')
            + TAGS,
            "answer 2 fraction",
            "costing 100%",
        ),
        (
            "multichoice",
            RIGHT + WRONG.replace('"0"', '"-10"') + TAGS,
            "answer 2 fraction",
            "never less",
        ),
        (
            "multichoice",
            WRONG.replace(
                "<text>Drops", '<text><![CDATA[<img src="@@PLUGINFILE@@/mask.png">]]> Drops'
            )
            + RIGHT
            + TAGS,
            "answer 1",
            "Embedded file 'mask.png' is refused",
        ),
        (
            "multichoice",
            RIGHT
            + WRONG.replace("<text>No.", '<text><![CDATA[<img src="https://example.org/m.png">]]>')
            + TAGS,
            "answer 2 feedback",
            "shows media (<img>)",
        ),
        (
            "multichoice",
            RIGHT
            + WRONG
            + TAGS
            + '<file name="mask.png" path="/" encoding="base64">iVBORw0KGgo=</file>',
            "file",
            "Embedded file 'mask.png' is refused",
        ),
        (
            "numerical",
            '<answer fraction="100"><text>800</text><tolerance>0</tolerance></answer>'
            '<answer fraction="0"><text>*</text><feedback><text>No.</text></feedback></answer>'
            + TAGS,
            "answer 2",
            "A '*' answer",
        ),
        (
            "numerical",
            '<answer fraction="0"><text>800</text><tolerance>0</tolerance><feedback><text>n</text></feedback></answer>'
            + "<tags><tag><text>misconception:DO-TEST</text></tag><tag><text>answer-1:DO-TEST</text></tag></tags>",
            "answer fraction",
            "No answer has fraction 100",
        ),
        (
            "essay",
            "<graderinfo><text>Mark generously.</text></graderinfo>"
            + TAGS.replace("<tag><text>answer-2:DO-TEST</text></tag>", ""),
            "graderinfo",
            "'Model answer:'",
        ),
        (
            "multichoice",
            RIGHT
            + WRONG
            + TAGS.replace(
                "DO-TEST</text></tag></tags>",
                "DO-TEST</text></tag><tag><text>answer-7:DO-TEST</text></tag></tags>",
            ),
            "tags",
            "answer-7",
        ),
    ],
)
def test_a_question_we_cannot_keep_is_refused_naming_it_and_the_field(qtype, body, field, message):
    before = _counts()
    with pytest.raises(ApplicationError) as caught:
        _import(_question(body, qtype=qtype, name="Inference"))
    ((where, problem),) = caught.value.fields.items()
    assert where == f"question 1 'Inference' (line 4) {field}", problem
    assert message in problem
    assert _counts() == before


def test_validation_problems_name_the_question_as_the_file_does():
    data = _question(RIGHT + WRONG + TAGS.replace("answer-2:DO-TEST", "answer-2:DO-FOO"))
    with pytest.raises(ApplicationError) as caught:
        _import(data)
    assert caught.value.fields == {
        "question 1 'Q' (line 4) probes": "Wrong answers name DO-FOO; add it to the probes.",
        "question 1 'Q' (line 4) choices[1].misconceptions": "Unknown misconception code 'DO-FOO'.",
    }
    assert not QuestionBank.objects.exists()


def test_partial_imports_the_valid_questions_and_reports_the_others():
    data = (
        (FILES / "dropout_basics.xml")
        .read_bytes()
        .replace(b'<question type="numerical">', b'<question type="shortanswer">')
    )
    # all or nothing by default: nothing is written
    before = _counts()
    with pytest.raises(ApplicationError) as caught:
        _import(data)
    assert list(caught.value.fields) == ["question 5 'Units kept' (line 161) type"]
    assert _counts() == before
    # with partial, the five others are written and the refused one reported
    report = _import(data, partial=True)
    assert report.banks == {"dropout--basics": 5}
    assert list(report.refused) == ["question 5 'Units kept' (line 161) type"]
    assert not Question.objects.filter(stem__contains="stay active").exists()


@pytest.mark.parametrize(
    "category",
    [
        b"",  # no category before the question
        b'<question type="category"><category><text>$course$/top</text></category></question>',
    ],
)
def test_questions_outside_a_category_go_to_the_bank_named_after_the_file(category):
    data = _question(RIGHT + WRONG + TAGS).replace(
        b'<question type="category"><category><text>$course$/top/Refusals</text></category></question>',
        category,
    )
    report = _import(data)
    assert report.banks == {"upload": 1}


HOSTILE = {
    "billion laughs": b"""<?xml version="1.0"?>
<!DOCTYPE quiz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<quiz><question type="category"><category><text>&lol3;</text></category></question></quiz>""",
    "external entity": b"""<?xml version="1.0"?>
<!DOCTYPE quiz [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<quiz><question type="category"><category><text>&secret;</text></category></question></quiz>""",
}


@pytest.mark.parametrize("name", HOSTILE)
def test_entities_and_dtds_are_refused_before_they_expand(name):
    with pytest.raises(ApplicationError) as caught:
        moodle_xml_read(HOSTILE[name], default_bank="x")
    assert "DTD or entities" in caught.value.message
    assert caught.value.code == "invalid_file"


def test_a_file_over_50_mb_is_refused_before_parsing():
    # not even XML: were it parsed, it would fail differently
    data = b"\0" * (MAX_FILE_BYTES + 1)
    with pytest.raises(ApplicationError) as caught:
        moodle_xml_read(data, default_bank="x")
    assert caught.value.code == "file_too_large"
    assert "limited to 50 MB" in caught.value.message


def test_malformed_xml_is_refused_with_its_line():
    with pytest.raises(ApplicationError) as caught:
        moodle_xml_read(b"<quiz>\n<question type='truefalse'>\n</quiz>", default_bank="x")
    assert caught.value.message.startswith("Not well-formed XML at line 3")


def test_a_file_that_is_not_a_quiz_is_refused():
    with pytest.raises(ApplicationError) as caught:
        moodle_xml_read(b"<assessmentItem/>", default_bank="x")
    assert "holds <assessmentItem>" in caught.value.message


def test_a_slug_repeated_in_a_file_is_made_unique():
    # Moodle keeps idnumbers unique only within a category
    one = _question(RIGHT + WRONG + TAGS + "<idnumber>same</idnumber>", name="First")
    two = one.replace(b"Refusals", b"Elsewhere").replace(b"First", b"Second")
    data = one.replace(b"</quiz>", two.split(b"<quiz>", 1)[1])
    conversion = moodle_xml_read(data, default_bank="x")
    assert [[q["slug"] for q in bank["questions"]] for bank in conversion.banks] == [
        ["same"],
        ["same-2"],
    ]


def test_one_slug_in_two_banks_of_a_conversion_is_refused_before_anything_is_written():
    conversion = moodle_xml_read(_question(RIGHT + WRONG + TAGS, name="First"), default_bank="x")
    other = {**conversion.banks[0], "slug": "elsewhere"}
    conversion.banks.append(other)
    with pytest.raises(ApplicationError) as caught:
        conversion_import(conversion=conversion)
    assert caught.value.fields == {
        "question 1 'First' (line 4) slug": "Slug 'first' is also a question of bank "
        "'refusals' in this file."
    }
    assert not QuestionBank.objects.exists()
