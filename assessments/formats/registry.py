"""The bank formats the commands and the admin offer, by name: a reader turns a file into a
Conversion, an exporter turns banks into a file. Another format is one line in a dict."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from assessments.bank_transfer import bank_export
from assessments.formats.conversion import Conversion
from assessments.formats.gift import gift_read
from assessments.formats.moodle_xml_read import file_refuse_if_too_large, moodle_xml_read
from assessments.formats.moodle_xml_write import moodle_xml_write
from assessments.formats.qti import qti_file
from assessments.models import QuestionBank
from core.errors import ApplicationError
from core.inputs import JSONTooDeep, json_loads


@dataclass
class BankFile:
    """An exported file: its bytes, file extension, media type, and the questions it left
    out with why (by "bank/slug")."""

    content: bytes
    extension: str
    media_type: str
    left_out: dict[str, str] = field(default_factory=dict)


# A reader takes the file's bytes and a name for a bank the file does not name (the file's).
Reader = Callable[[bytes, str], Conversion]
# An exporter takes the banks to write, in order.
Exporter = Callable[[list[QuestionBank]], BankFile]


def json_read(data: bytes, default_bank: str) -> Conversion:
    """Return the bank (or list of banks) of a file in our JSON format."""
    file_refuse_if_too_large(size=len(data))
    try:
        value = json_loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, JSONTooDeep) as error:
        message = f"Not a JSON file: {error}"
        raise ApplicationError(message, code="invalid_file", fields={"file": message}) from error
    banks = value if isinstance(value, list) else [value]
    if not all(isinstance(bank, dict) for bank in banks):
        message = "A bank file holds a bank (a JSON object) or a list of them."
        raise ApplicationError(message, code="invalid_file", fields={"file": message})
    return Conversion(banks=banks)


def json_export(banks: list[QuestionBank]) -> BankFile:
    """Return one bank in our JSON format."""
    if len(banks) != 1:
        raise ApplicationError("A JSON bank file holds one bank: choose one.", code="invalid")
    content = json.dumps(bank_export(banks[0]), indent=2, ensure_ascii=False)
    return BankFile(content.encode("utf-8"), "json", "application/json")


def moodle_xml_export(banks: list[QuestionBank]) -> BankFile:
    """Return the banks as one Moodle XML file, a category each."""
    written = moodle_xml_write([bank_export(bank) for bank in banks])
    return BankFile(written.xml, "xml", "application/xml", written.left_out)


def gift_file_read(data: bytes, default_bank: str) -> Conversion:
    """Return the banks of a GIFT file (UTF-8 text)."""
    file_refuse_if_too_large(size=len(data))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        message = f"A GIFT file is UTF-8 text: {error}"
        raise ApplicationError(message, code="invalid_file", fields={"file": message}) from error
    return gift_read(text, default_bank=default_bank)


READERS: dict[str, Reader] = {
    "json": json_read,
    "moodle-xml": lambda data, name: moodle_xml_read(data, default_bank=name),
    "gift": gift_file_read,
}
EXPORTERS: dict[str, Exporter] = {
    "json": json_export,
    "moodle-xml": moodle_xml_export,
    "qti": lambda banks: BankFile(**qti_file(banks)),
}
