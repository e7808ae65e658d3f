"""Banks as an IMS QTI 2.1 content package: a zip of imsmanifest.xml (IMS Content
Packaging 1.1) and one assessmentItem file per question (assessments/formats/qti_items.py).

QTI 2.1 rather than 3.0: its published XSDs (imsqti_v2p1, imscp_v1p1, imsmd_v1p2,
imsqti_metadata_v2p1) could be checked offline; no package on PyPI or npm ships the QTI
3.0 ones. Each item's resource carries its metadata: IMS Metadata (LOM) with the item's
title and, as a classification (purpose "idea"), the misconception codes it probes under
the taxonomy "dropout-misconceptions" (also as keywords `misconception:DO-X`, the tags of
assessments/formats/tags.py), and QTI's own item metadata. A question QTI cannot carry (a
code question) is left out, with the reason, by "bank/slug".
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from typing import Any, TypedDict

from assessments.bank_transfer import bank_export
from assessments.formats.qti_items import (
    XSI_NS,
    QtiRefused,
    item_element,
    item_identifier,
    item_title,
)
from assessments.formats.tags import MISCONCEPTION_TAG_PREFIX
from assessments.models import QuestionBank

CP_NS = "http://www.imsglobal.org/xsd/imscp_v1p1"
MD_NS = "http://www.imsglobal.org/xsd/imsmd_v1p2"
QTI_MD_NS = "http://www.imsglobal.org/xsd/imsqti_metadata_v2p1"
SCHEMA_LOCATIONS = (
    f"{CP_NS} http://www.imsglobal.org/xsd/imscp_v1p1.xsd "
    f"{MD_NS} http://www.imsglobal.org/xsd/imsmd_v1p2p4.xsd "
    f"{QTI_MD_NS} http://www.imsglobal.org/xsd/qti/qtiv2p1/imsqti_metadata_v2p1.xsd"
)
TAXONOMY = "dropout-misconceptions"
ITEM_RESOURCE = "imsqti_item_xmlv2p1"
_INTERACTIONS = {
    "single": "choiceInteraction",
    "multiple": "choiceInteraction",
    "truefalse": "choiceInteraction",
    "twotier": "choiceInteraction",
    "numeric": "textEntryInteraction",
    "explain": "extendedTextInteraction",
}

# Written with literal prefixes under namespaces declared on the root (ElementTree cannot
# write a default namespace beside unqualified attributes).
_PREFIXES = {CP_NS: "", MD_NS: "imsmd:", QTI_MD_NS: "imsqti:"}


@dataclass
class QtiPackage:
    """The zip's bytes, the path of each item file by question slug, and the questions
    left out with why (by "bank/slug")."""

    content: bytes
    items: dict[str, str] = field(default_factory=dict)
    left_out: dict[str, str] = field(default_factory=dict)


class QtiFile(TypedDict):
    """An exported file as the format registry describes one."""

    content: bytes
    extension: str
    media_type: str
    left_out: dict[str, str]


def qti_export(bank: QuestionBank) -> bytes:
    """Return the bank as a QTI 2.1 content package (zip)."""
    return qti_write([bank_export(bank)]).content


def qti_file(banks: list[QuestionBank]) -> QtiFile:
    """Return the banks as one QTI 2.1 content package, described for the format registry."""
    package = qti_write([bank_export(bank) for bank in banks])
    return {
        "content": package.content,
        "extension": "zip",
        "media_type": "application/zip",
        "left_out": package.left_out,
    }


def qti_write(banks: list[dict[str, Any]]) -> QtiPackage:
    """Return banks in the JSON form as one QTI 2.1 content package."""
    package = QtiPackage(b"")
    manifest = _manifest(banks)
    resources = manifest.find("resources")
    assert resources is not None
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for bank in banks:
            for question in bank["questions"]:
                try:
                    item = item_element(question)
                except QtiRefused as refusal:
                    package.left_out[f"{bank['slug']}/{question['slug']}"] = str(refusal)
                    continue
                href = f"items/{bank['slug']}/{question['slug']}.xml"
                archive.writestr(href, _xml(item))
                resources.append(_resource(question, href))
                package.items[question["slug"]] = href
        archive.writestr("imsmanifest.xml", _xml(manifest))
    package.content = buffer.getvalue()
    return package


def _xml(element: ET.Element) -> bytes:
    ET.indent(element)
    body = ET.tostring(element, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8")


def _sub(parent: ET.Element, namespace: str, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, f"{_PREFIXES[namespace]}{tag}")
    element.text = text
    return element


def _langstring(parent: ET.Element, tag: str, text: str) -> None:
    langstring = _sub(_sub(parent, MD_NS, tag), MD_NS, "langstring", text)
    langstring.set("xml:lang", "en")


def _manifest(banks: list[dict[str, Any]]) -> ET.Element:
    identifier = "-".join(bank["slug"] for bank in banks) or "empty"
    manifest = ET.Element(
        "manifest",
        {
            "xmlns": CP_NS,
            "xmlns:imsmd": MD_NS,
            "xmlns:imsqti": QTI_MD_NS,
            "xmlns:xsi": XSI_NS,
            "identifier": f"MANIFEST-{identifier}",
            "xsi:schemaLocation": SCHEMA_LOCATIONS,
        },
    )
    metadata = _sub(manifest, CP_NS, "metadata")
    _sub(metadata, CP_NS, "schema", "QTIv2.1 Package")
    _sub(metadata, CP_NS, "schemaversion", "1.0.0")
    general = _sub(_sub(metadata, MD_NS, "lom"), MD_NS, "general")
    _langstring(general, "title", " + ".join(bank["title"] for bank in banks))
    for bank in banks:
        if bank.get("description"):
            _langstring(general, "description", bank["description"])
    _sub(manifest, CP_NS, "organizations")
    _sub(manifest, CP_NS, "resources")
    return manifest


def _resource(question: dict[str, Any], href: str) -> ET.Element:
    resource = ET.Element(
        "resource",
        {"identifier": f"ITEM-{item_identifier(question['slug'])}", "type": ITEM_RESOURCE,
         "href": href},
    )  # fmt: skip
    metadata = _sub(resource, CP_NS, "metadata")
    lom = _sub(metadata, MD_NS, "lom")
    general = _sub(lom, MD_NS, "general")
    _sub(general, MD_NS, "identifier", question["slug"])
    _langstring(general, "title", item_title(question["stem"]))
    for code in question["probes"]:
        _langstring(general, "keyword", f"{MISCONCEPTION_TAG_PREFIX}{code}")
    classification = _sub(lom, MD_NS, "classification")
    purpose = _sub(classification, MD_NS, "purpose")
    _langstring(purpose, "source", "LOMv1.0")
    _langstring(purpose, "value", "idea")
    path = _sub(classification, MD_NS, "taxonpath")
    _langstring(path, "source", TAXONOMY)
    for code in question["probes"]:
        _sub(_sub(path, MD_NS, "taxon"), MD_NS, "id", code)
    qti = _sub(metadata, QTI_MD_NS, "qtiMetadata")
    _sub(qti, QTI_MD_NS, "itemTemplate", "true" if _is_template(question) else "false")
    _sub(qti, QTI_MD_NS, "timeDependent", "false")
    _sub(qti, QTI_MD_NS, "composite", "true" if question["type"] == "twotier" else "false")
    _sub(qti, QTI_MD_NS, "interactionType", _INTERACTIONS[question["type"]])
    _sub(qti, QTI_MD_NS, "feedbackType", "nonadaptive")
    _sub(qti, QTI_MD_NS, "solutionAvailable", "true")
    ET.SubElement(resource, "file", {"href": href})
    return resource


def _is_template(question: dict[str, Any]) -> bool:
    return bool(question.get("numeric", {}).get("parameters"))
