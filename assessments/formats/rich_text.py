"""Text written in Moodle's text formats, turned into the plain text our pages show.

Our stems, choices and feedback are plain text: pages escape them and keep their line
breaks. Imported HTML is therefore never trusted nor shown as markup: nh3 (a maintained
sanitiser) parses it and keeps only its text, script and style contents dropped, and the
line breaks it meant (paragraphs, <br>, list items) become newlines. Media cannot be shown
as text, so a text that holds an image is refused rather than silently emptied.
"""

from __future__ import annotations

import html
import re

import nh3

from core.errors import ApplicationError

# Moodle's four text formats, as GIFT writes them ([html], [moodle], [plain], [markdown]).
HTML = "html"
MOODLE = "moodle"  # Moodle auto-format: HTML allowed, a newline is a line break
PLAIN = "plain"
MARKDOWN = "markdown"
MARKUPS = frozenset({HTML, MOODLE, PLAIN, MARKDOWN})

_MEDIA = re.compile(r"<\s*(img|image|audio|video|picture|iframe|object|embed)\b", re.IGNORECASE)
_LINE_BREAK = re.compile(r"<\s*br\s*/?\s*>", re.IGNORECASE)
_BLOCK_END = re.compile(
    r"<\s*/\s*(p|div|h[1-6]|tr|blockquote|pre|ul|ol|table|dd|dt)\s*>", re.IGNORECASE
)
_LIST_ITEM = re.compile(r"<\s*li\b[^>]*>", re.IGNORECASE)


def text_plain(text: str, *, markup: str) -> str:
    """Return `text`, written in one of Moodle's text formats, as plain text.

    Raise ApplicationError when it shows an image or other media.
    """
    if markup not in MARKUPS:
        raise ValueError(f"Unknown text format {markup!r}.")
    if markup in (PLAIN, MARKDOWN):
        # Markdown stays as written: it is meant to be read as typed, and pages escape it.
        return text.strip()
    media = _MEDIA.search(text)
    if media:
        raise ApplicationError(
            f"The text shows media (<{media.group(1).lower()}>), which cannot be imported "
            "here: our questions are plain text. Describe it in words or remove it.",
            code="invalid_bank",
            fields={"text": "Holds an image or other media."},
        )
    if markup == HTML:
        text = re.sub(r"\s+", " ", text)  # in HTML a newline is only a space
    text = _LINE_BREAK.sub("\n", text)
    text = _LIST_ITEM.sub("\n- ", text)
    text = _BLOCK_END.sub("\n\n", text)
    cleaned = nh3.clean(text, tags=set(), clean_content_tags={"script", "style"})
    lines = [
        re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in html.unescape(cleaned).split("\n")
    ]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
