"""import_bank and export_bank in every format, and the admin's import and Moodle XML export:
what they write, what they report, and that a refused import writes nothing."""

import io
import json
import zipfile
from pathlib import Path

import pytest
from defusedxml import ElementTree as ET  # type: ignore[import-untyped]
from django.core.management import CommandError, call_command

from assessments.bank_format import FORMAT
from assessments.bank_transfer import bank_export, bank_import
from assessments.models import Choice, Question, QuestionBank
from tests.factories import code

pytestmark = pytest.mark.django_db
MOODLE_FILE = Path(__file__).parent / "moodle_xml" / "dropout_basics.xml"
CODES = ("DO-TEST", "DO-SPEED", "DO-DATA", "DO-PKEEP", "DO-SCHEME", "DO-NOSCALE")


@pytest.fixture(autouse=True)
def codes():
    for name in CODES:
        code(name)


def _counts():
    return QuestionBank.objects.count(), Question.objects.count(), Choice.objects.count()


def _run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_bank_reads_moodle_xml_and_says_what_it_skipped():
    out, err = _run("import_bank", "--format", "moodle-xml", str(MOODLE_FILE))
    assert "Imported bank 'dropout--basics' with 6 questions." in out
    assert "Skipped question 3 'Reading' (line 113): A description" in out
    assert err == ""


def test_a_refused_import_writes_nothing_and_names_every_problem(tmp_path):
    broken = tmp_path / "broken.xml"
    broken.write_bytes(MOODLE_FILE.read_bytes().replace(b"answer-4:DO-DATA", b"answer-9:DO-DATA"))
    before = _counts()
    with pytest.raises(CommandError) as caught:
        _run("import_bank", "--format", "moodle-xml", str(broken))
    assert "Nothing was imported" in str(caught.value)
    assert "question 2 'What dropout is for' (line 66) tags: Tag answer-9:" in str(caught.value)
    assert _counts() == before


def test_partial_imports_the_rest_and_lists_what_it_left(tmp_path):
    broken = tmp_path / "broken.xml"
    broken.write_bytes(MOODLE_FILE.read_bytes().replace(b"answer-4:DO-DATA", b"answer-9:DO-DATA"))
    out, err = _run("import_bank", "--format", "moodle-xml", "--partial", str(broken))
    assert "Imported bank 'dropout--basics' with 5 questions." in out
    assert "Not imported: question 2 'What dropout is for' (line 66)" in err


def test_a_file_too_large_is_refused_before_it_is_read(tmp_path):
    big = tmp_path / "big.xml"
    with big.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024 + 1)  # sparse: no 50 MB written
    with pytest.raises(CommandError, match="limited to 50 MB"):
        _run("import_bank", "--format", "moodle-xml", str(big))


def test_export_bank_writes_moodle_xml_that_imports_back_and_lists_what_it_left_out(tmp_path):
    # given a bank with a question Moodle cannot express (a relative tolerance on a plain
    # number: Moodle's numerical type has only absolute ones)
    _run("import_bank", "--format", "moodle-xml", str(MOODLE_FILE))
    bank = QuestionBank.objects.get(slug="dropout--basics")
    data = bank_export(bank)
    relative = {
        "slug": "units-kept-relative",
        "type": "numeric",
        "stem": "With p = 0.2, how many of 1000 units stay active in one forward pass, on average?",
        "probes": ["DO-PKEEP"],
        "feedback": "Each unit is kept with probability 1 - p = 0.8: 800 on average.",
        "numeric": {
            "parameters": {},
            "answer": "800",
            "tolerance": 1,
            "relative": True,
            "unit": "",
            "distractors": [
                {
                    "answer": "200",
                    "misconceptions": ["DO-PKEEP"],
                    "feedback": "200 are dropped on average: p is the drop probability.",
                }
            ],
        },
    }
    bank_import({**data, "questions": [*data["questions"], relative]})
    # when it is exported as Moodle XML
    out, err = _run("export_bank", "--format", "moodle-xml", "dropout--basics")
    # then the file is Moodle's layout, and the left-out question is named with its reason
    quiz = ET.fromstring(out.encode())
    assert quiz.tag == "quiz"
    assert [q.get("type") for q in quiz.findall("question")] == [
        "category", "multichoice", "multichoice", "truefalse", "numerical", "calculated", "essay",
    ]  # fmt: skip
    assert (
        "Left out dropout--basics/units-kept-relative: Moodle's numerical type has only "
        "absolute tolerances." in err
    )
    # and importing it back changes nothing
    before = bank_export(bank)
    exported_file = tmp_path / "basics.xml"
    exported_file.write_text(out, encoding="utf-8")
    _run("import_bank", "--format", "moodle-xml", str(exported_file))
    assert bank_export(QuestionBank.objects.get(slug="dropout--basics")) == before


def test_export_bank_writes_json_by_default():
    _run("import_bank", "--format", "moodle-xml", str(MOODLE_FILE))
    out, _ = _run("export_bank", "dropout--basics")
    assert json.loads(out)["format"] == FORMAT


def test_import_bank_reads_gift(tmp_path):
    gift = tmp_path / "inference.gift"
    gift.write_text(
        "$CATEGORY: $course$/top/Gift bank\n\n"
        "// [tag:misconception:DO-TEST]\n"
        "// [tag:answer-2:DO-TEST]\n"
        "::Inference:: What does a dropout layer do at inference? {\n"
        "  =Nothing: every unit passes its value on.\n"
        "  ~It drops units at random.#Dropout is off at inference.\n"
        "  ####At inference every unit is kept.\n"
        "}\n",
        encoding="utf-8",
    )
    out, _ = _run("import_bank", "--format", "gift", str(gift))
    assert "Imported bank 'gift-bank' with 1 questions." in out


def test_the_admin_imports_moodle_xml_and_exports_it(admin_client):
    # a refused file: nothing written, every problem listed
    broken = io.BytesIO(MOODLE_FILE.read_bytes().replace(b"answer-4:DO-DATA", b"answer-9:DO-DATA"))
    broken.name = "basics.xml"
    before = _counts()
    response = admin_client.post(
        "/admin/assessments/questionbank/import/", {"format": "moodle-xml", "file": broken}
    )
    assert response.status_code == 400
    assert (
        "question 2 &#x27;What dropout is for&#x27; (line 66) tags</code>: Tag answer-9"
        in response.content.decode()
    )
    assert _counts() == before
    # with partial, the rest is imported and the refused one reported
    broken.seek(0)
    response = admin_client.post(
        "/admin/assessments/questionbank/import/",
        {"format": "moodle-xml", "file": broken, "partial": "on"},
        follow=True,
    )
    page = response.content.decode()
    assert "Imported bank &#x27;dropout--basics&#x27; (5 questions)." in page
    assert "Not imported: question 2" in page
    bank = QuestionBank.objects.get(slug="dropout--basics")
    exported = admin_client.post(
        "/admin/assessments/questionbank/",
        {"action": "export_moodle_xml", "_selected_action": [bank.id]},
    )
    assert exported["Content-Disposition"] == 'attachment; filename="dropout--basics.xml"'
    assert ET.fromstring(exported.content).find("question/idnumber").text == "dropout--basics"


def test_a_json_file_not_shaped_as_a_bank_is_refused_naming_the_fields(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": FORMAT, "title": "No slug", "questions": "none"}))
    with pytest.raises(CommandError) as caught:
        _run("import_bank", str(bad))
    assert "bank slug: This field is required." in str(caught.value)
    assert "bank questions:" in str(caught.value)
    assert _counts() == (0, 0, 0)


def test_export_bank_writes_a_qti_package_to_the_file_it_is_given(tmp_path):
    # given a bank
    _run("import_bank", "--format", "moodle-xml", str(MOODLE_FILE))
    target = tmp_path / "basics.zip"
    # when it is exported as QTI without a file, then with one
    with pytest.raises(CommandError, match="give --output"):
        _run("export_bank", "--format", "qti", "dropout--basics")
    _, err = _run("export_bank", "--format", "qti", "--output", str(target), "dropout--basics")
    # then the file is the package, its manifest first among what it holds
    assert "Wrote" in err
    assert "imsmanifest.xml" in zipfile.ZipFile(target).namelist()
