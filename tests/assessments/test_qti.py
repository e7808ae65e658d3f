"""QTI 2.1 export: every catalogue bank as a content package, checked against the IMS XSDs
where they are present, and against what our scoring means everywhere."""

import io
import itertools
import os
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
import xmlschema
from defusedxml.ElementTree import fromstring  # type: ignore[import-untyped]
from django.core.management import call_command

from assessments.bank_transfer import bank_export
from assessments.formats.qti import TAXONOMY, qti_export, qti_write
from assessments.formats.qti_items import QtiRefused
from assessments.formats.qti_items import item_element as item_built
from assessments.formats.registry import EXPORTERS
from assessments.models import QuestionBank
from assessments.numeric import expression_evaluate

pytestmark = pytest.mark.django_db

QTI = "{http://www.imsglobal.org/xsd/imsqti_v2p1}"
CP = "{http://www.imsglobal.org/xsd/imscp_v1p1}"
MD = "{http://www.imsglobal.org/xsd/imsmd_v1p2}"

# No package on PyPI, npm or Debian ships the IMS XSDs: the tests carry the published subset
# QTI 2.1 items and manifests import (qti_xsd/SOURCE.md); QTI_XSD_DIR may point at another
# copy laid out as 1EdTech does.
XSD_DIR = os.environ.get("QTI_XSD_DIR") or str(Path(__file__).parent / "qti_xsd")
MANIFEST_SCHEMAS = """<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:manifest-schemas">
  <xs:import namespace="http://www.imsglobal.org/xsd/imscp_v1p1" schemaLocation="{dir}/imscp_v1p1.xsd"/>
  <xs:import namespace="http://www.imsglobal.org/xsd/imsmd_v1p2" schemaLocation="{dir}/imsmd_v1p2p4.xsd"/>
  <xs:import namespace="http://www.imsglobal.org/xsd/imsqti_metadata_v2p1"
             schemaLocation="{dir}/qtiv2p1/imsqti_metadata_v2p1.xsd"/>
</xs:schema>
"""


@pytest.fixture
def catalogue():
    call_command("load_catalog", verbosity=0)
    return list(QuestionBank.objects.order_by("slug"))


def item_element(question):
    """Return the item as a reader parses it (namespaced names)."""
    return fromstring(ET.tostring(item_built(question)))


def package_files(content):
    archive = zipfile.ZipFile(io.BytesIO(content))
    return {name: archive.read(name) for name in archive.namelist()}


def test_every_catalogue_item_and_manifest_validates_against_the_ims_xsds(catalogue, tmp_path):
    items = xmlschema.XMLSchema(str(Path(XSD_DIR) / "qtiv2p1" / "imsqti_v2p1.xsd"))
    bundle = tmp_path / "manifest.xsd"
    bundle.write_text(MANIFEST_SCHEMAS.format(dir=Path(XSD_DIR).resolve().as_uri()))
    manifests = xmlschema.XMLSchema(str(bundle))
    checked = 0
    for bank in catalogue:
        for name, data in package_files(qti_export(bank)).items():
            schema = manifests if name == "imsmanifest.xml" else items
            errors = [f"{e.path}: {e.reason}" for e in schema.iter_errors(data.decode("utf-8"))]
            assert errors == [], (bank.slug, name, errors[:3])
            checked += 1
    assert checked == sum(bank.questions.exclude(qtype="code").count() + 1 for bank in catalogue)


def test_a_package_holds_the_manifest_and_one_item_per_question_it_can_carry(catalogue):
    for bank in catalogue:
        exported = bank_export(bank)
        package = qti_write([exported])
        files = package_files(package.content)
        manifest = fromstring(files.pop("imsmanifest.xml"))
        resources = manifest.findall(f"{CP}resources/{CP}resource")
        carried = [q for q in exported["questions"] if q["type"] != "code"]
        assert [r.get("href") for r in resources] == [
            f"items/{bank.slug}/{q['slug']}.xml" for q in carried
        ]
        assert sorted(files) == sorted(r.get("href") for r in resources)
        for resource, question in zip(resources, carried, strict=True):
            assert resource.get("type") == "imsqti_item_xmlv2p1"
            assert resource.find(f"{CP}file").get("href") == resource.get("href")
            path = resource.find(f"{CP}metadata/{MD}lom/{MD}classification/{MD}taxonpath")
            assert path.findtext(f"{MD}source/{MD}langstring") == TAXONOMY
            assert [t.findtext(f"{MD}id") for t in path.findall(f"{MD}taxon")] == question["probes"]
            item = fromstring(files[resource.get("href")])
            assert item.tag == f"{QTI}assessmentItem"
        assert set(package.left_out) == {
            f"{bank.slug}/{q['slug']}" for q in exported["questions"] if q["type"] == "code"
        }


def test_the_registry_exports_qti_as_a_zip(catalogue):
    exported = EXPORTERS["qti"](catalogue)

    assert (exported.extension, exported.media_type) == ("zip", "application/zip")
    assert "imsmanifest.xml" in package_files(exported.content)
    assert all("sandbox" in reason for reason in exported.left_out.values())


def evaluate(node, values):
    """Evaluate the QTI arithmetic the export writes."""
    tag = node.tag.removeprefix(QTI)
    args = [evaluate(child, values) for child in node]
    if tag == "baseValue":
        return float(node.text)
    if tag == "variable":
        return values[node.get("identifier")]
    operations = {
        "sum": lambda a: sum(a),
        "product": lambda a: a[0] * a[1],
        "subtract": lambda a: a[0] - a[1],
        "divide": lambda a: a[0] / a[1],
        "power": lambda a: a[0] ** a[1],
        "min": min,
        "max": max,
    }
    return operations[tag](args)


def test_numeric_answers_and_distractors_are_our_expressions_for_every_drawn_parameter(catalogue):
    numeric = QuestionBank.objects.get(slug="dropout-numeric")
    for question in bank_export(numeric)["questions"]:
        item = item_element(question)
        spec = question["numeric"]["parameters"]
        drawn = {
            setter.get("identifier"): [float(v.text) for v in setter.iter(f"{QTI}baseValue")]
            for setter in item.iter(f"{QTI}setTemplateValue")
        }
        assert drawn == spec
        [correct] = item.iter(f"{QTI}setCorrectResponse")
        tests = [e for e in item.iter(f"{QTI}equal")]
        expressions = [question["numeric"]["answer"]] + [
            d["answer"] for d in question["numeric"]["distractors"]
        ]
        names = sorted(spec)
        for combination in itertools.product(*(spec[name] for name in names)):
            values = dict(zip(names, combination, strict=True))
            assert evaluate(correct[0], values) == pytest.approx(
                expression_evaluate(question["numeric"]["answer"], values)
            )
            # The right answer's test, then each distractor's (feedback), in file order.
            for test, expression in zip(tests, expressions, strict=False):
                assert evaluate(test[1], values) == pytest.approx(
                    expression_evaluate(expression, values)
                )
        mode = "relative" if question["numeric"]["relative"] else "absolute"
        tolerance = question["numeric"]["tolerance"] * (100 if mode == "relative" else 1)
        assert {t.get("toleranceMode") for t in tests} == {mode}
        assert [float(t.get("tolerance")) for t in tests] == pytest.approx([tolerance] * len(tests))


def test_multiple_response_mapping_is_our_partial_credit_rule(catalogue):
    purpose = bank_export(QuestionBank.objects.get(slug="dropout-purpose"))
    [question] = [q for q in purpose["questions"] if q["slug"] == "purpose-facts-a"]
    mapping = item_element(question).find(f"{QTI}responseDeclaration/{QTI}mapping")

    values = [float(e.get("mappedValue")) for e in mapping.findall(f"{QTI}mapEntry")]
    assert values == pytest.approx([1 / 3, 1 / 3, 1 / 3, -1 / 3, -1 / 3, -1 / 3])
    assert (mapping.get("lowerBound"), mapping.get("upperBound")) == ("0", "1")


def revealed_by(item, response):
    """Return {code: choice identifiers whose choice reveals it} from the processing."""
    found = {}
    for condition in item.iter(f"{QTI}responseIf"):
        setter = condition.find(f"{QTI}setOutcomeValue[@identifier='MISCONCEPTIONS']")
        if setter is None:
            continue
        code = setter.find(f"{QTI}multiple/{QTI}baseValue").text
        for test in condition.find(f"{QTI}or"):
            if test.find(f"{QTI}variable").get("identifier") == response:
                found.setdefault(code, set()).add(test.find(f"{QTI}baseValue").text)
    return found


def test_misconceptions_are_revealed_by_the_wrong_choices_that_name_them(catalogue):
    for slug in ("dropout-purpose", "dropout-mechanics", "prerequisites"):
        for question in bank_export(QuestionBank.objects.get(slug=slug))["questions"]:
            if question["type"] not in ("single", "multiple", "truefalse", "twotier"):
                continue
            item = item_element(question)
            for tier, response, prefix in ((1, "RESPONSE", "C"), (2, "REASON", "R")):
                choices = [c for c in question["choices"] if c["tier"] == tier]
                expected = {}
                for index, choice in enumerate(choices, start=1):
                    for code in choice["misconceptions"]:
                        expected.setdefault(code, set()).add(f"{prefix}{index}")
                assert revealed_by(item, response) == expected, (question["slug"], tier)


def test_a_two_tier_item_reads_the_answer_only_when_the_reason_names_nothing(catalogue):
    purpose = bank_export(QuestionBank.objects.get(slug="dropout-purpose"))
    [question] = [q for q in purpose["questions"] if q["slug"] == "data-twotier-a"]
    item = item_element(question)

    interactions = item.findall(f"{QTI}itemBody/{QTI}choiceInteraction")
    assert [i.get("responseIdentifier") for i in interactions] == ["RESPONSE", "REASON"]
    assert interactions[1].findtext(f"{QTI}prompt") == question["reason_prompt"]
    guard = [
        branch
        for branch in item.find(f"{QTI}responseProcessing").findall(
            f"{QTI}responseCondition/{QTI}responseIf"
        )
        if branch.find(f"{QTI}isNull/{QTI}variable[@identifier='MISCONCEPTIONS']") is not None
    ]
    assert len(guard) == 1
    assert revealed_by(guard[0], "RESPONSE") == {"DO-DATA": {"C2"}}


def test_a_code_question_and_an_expression_qti_lacks_are_refused_with_the_reason():
    code_question = {"slug": "c", "type": "code", "stem": "Write it.", "mark": 1}
    with pytest.raises(QtiRefused, match="sandbox"):
        item_built(code_question)
    numeric = {
        "slug": "n",
        "type": "numeric",
        "stem": "p = {p}?",
        "mark": 1,
        "feedback": "f",
        "numeric": {
            "parameters": {"p": [0.25]},
            "answer": "sqrt(p)",
            "tolerance": 0.01,
            "relative": False,
            "unit": "",
            "distractors": [],
        },
    }
    with pytest.raises(QtiRefused, match=r"uses 'sqrt\(p\)'"):
        item_built(numeric)


def test_an_explain_item_carries_its_model_answer_and_key_ideas_for_scorers(catalogue):
    explain = bank_export(QuestionBank.objects.get(slug="explain-back"))["questions"][0]
    item = item_element(explain)

    declaration = item.find(f"{QTI}responseDeclaration")
    assert declaration.get("baseType") == "string"
    assert declaration.findtext(f"{QTI}correctResponse/{QTI}value") == explain["model_answer"]
    rubric = item.find(f"{QTI}itemBody/{QTI}rubricBlock")
    assert rubric.get("view") == "scorer"
    assert [li.text for li in rubric.iter(f"{QTI}li")] == explain["key_ideas"]
    assert item.find(f"{QTI}itemBody/{QTI}extendedTextInteraction") is not None
