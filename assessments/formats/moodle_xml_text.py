"""Moodle XML's text fields (`<x format="…"><text>…</text></x>`), read as our plain text."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from assessments.formats.rich_text import HTML, MARKDOWN, MOODLE, PLAIN, text_plain
from core.errors import ApplicationError

# Moodle's names for its text formats; wiki_like is long retired and reads as typed. Moodle
# itself takes an unknown name for html, and so do we.
MOODLE_FORMATS = {
    "html": HTML,
    "moodle_auto_format": MOODLE,
    "plain_text": PLAIN,
    "markdown": MARKDOWN,
    "wiki_like": PLAIN,
}


class QuestionRefused(Exception):
    """A question this service cannot import, with the field that says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def element_text(element: ET.Element | None) -> str:
    """Return the text of an element's `<text>` child (or its own text), stripped."""
    if element is None:
        return ""
    child = element.find("text")
    text = element.text if child is None else child.text
    return (text or "").strip()


def rich_text(element: ET.Element | None, *, default_format: str) -> str:
    """Return a text field as plain text, HTML sanitised; refuse one that shows media."""
    if element is None:
        return ""
    markup = MOODLE_FORMATS.get(element.get("format", default_format).strip(), HTML)
    try:
        return text_plain(element_text(element), markup=markup)
    except ApplicationError as error:
        raise QuestionRefused(element.tag, error.message) from error
