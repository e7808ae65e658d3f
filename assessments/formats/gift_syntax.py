"""GIFT, Moodle's plain-text question format, read as written: blocks, comments, titles,
answer blocks and their answers, each with the line it starts on.

The grammar follows Moodle's documentation and its importer (question/format/gift):
questions are separated by blank lines; a line starting with // is a comment, and Moodle
reads `[id:...]` and `[tag:...]` annotations from a question's comments; `$CATEGORY:`
switches category; `::title::` names a question; its answers stand between the first {
and the first }, with `####` before the general feedback; a text may start with its format
([html], [moodle], [plain], [markdown]); a backslash escapes : # = { } ~ and \\n is a
newline. Which kind of question a block is (essay, numeric, multiple choice, matching,
true/false, short answer) is decided in Moodle's order. What the answers mean is
assessments/formats/gift.py's business.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from assessments.formats.rich_text import MARKUPS, MOODLE, text_plain
from core.errors import ApplicationError

# Escaped characters are hidden behind private-use characters while the text is split,
# one character each, so that offsets still count lines.
_HIDDEN = {
    "\\": "\ue000",
    ":": "\ue001",
    "#": "\ue002",
    "=": "\ue003",
    "{": "\ue004",
    "}": "\ue005",
    "~": "\ue006",
    "n": "\ue007",
}
_SHOWN = {hidden: ("\n" if char == "n" else char) for char, hidden in _HIDDEN.items()}
_ESCAPE = re.compile(r"\\([\\:#={}~n])")
_WEIGHT = re.compile(r"%(-?\d+(?:\.\d+)?)%")
TRUE_FALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False}


def gift_error(line: int, message: str) -> ApplicationError:
    """Return the error for a malformed question, naming the line."""
    return ApplicationError(
        f"line {line}: {message}", code="invalid_gift", fields={"line": str(line)}
    )


@dataclass
class Block:
    """The lines of one question or category between blank lines; comments set apart."""

    first_line: int
    text: str  # comment lines left empty, so that the text's lines are the file's
    comments: list[str] = field(default_factory=list)

    def annotations(self, name: str) -> list[str]:
        """Return the values of the `[name:...]` annotations in the comments (\\] escapes ])."""
        pattern = re.compile(r"\[" + re.escape(name) + r":((?:\\\]|[^\]<>\x00-\x1f\x7f])+)\]")
        return [
            match.group(1).replace("\\]", "]").strip()
            for comment in self.comments
            for match in pattern.finditer(comment)
        ]


@dataclass
class Piece:
    """A part of a question (its text, an answer, a feedback) with its format and line."""

    raw: str  # escapes still hidden
    line: int

    def read(self, default: str = MOODLE) -> tuple[str, str]:
        """Return the piece as plain text and the format it was read in: the [format] it
        starts with, or else `default`."""
        raw, markup = self.raw.strip(), default
        name = raw[1 : raw.find("]")] if raw.startswith("[") and "]" in raw else ""
        if name in MARKUPS:
            markup, raw = name, raw[len(name) + 2 :]
        try:
            return text_plain(shown(raw), markup=markup), markup
        except ApplicationError as error:
            raise gift_error(self.line, error.message) from error


@dataclass
class Answer:
    """One answer of an answer block as written: its marker, weight (percent), text and
    feedback, in file order."""

    marker: str  # "=" or "~"
    weight: Decimal | None  # the %n% written, if any
    text: Piece
    feedback: Piece | None
    line: int


@dataclass
class Question:
    """A question block split into its parts; `answers` is None for a description."""

    line: int
    title: str | None
    stem: Piece
    answers: Piece | None
    general_feedback: Piece | None
    after_answers: str  # text after the answer block: Moodle's missing-word form

    @property
    def kind(self) -> str:
        """Return the Moodle question type the answer block makes, in Moodle's order."""
        if self.answers is None:
            return "description"
        body = self.answers.raw.strip()
        if not body:
            return "essay"
        if body.startswith("#"):
            return "numerical"
        if "~" in body:
            return "multichoice"
        if "=" in body and "->" in body:
            return "match"
        if body.split("#", 1)[0].strip() in TRUE_FALSE:
            return "truefalse"
        return "shortanswer"


def hidden(text: str) -> str:
    """Return `text` with its escaped characters hidden."""
    return _ESCAPE.sub(lambda match: _HIDDEN[match.group(1)], text)


def shown(text: str) -> str:
    """Return `text` with its hidden escaped characters shown as themselves."""
    return "".join(_SHOWN.get(char, char) for char in text)


def gift_blocks(text: str) -> list[Block]:
    """Return the blocks of a GIFT file; blocks of comments alone are left out."""
    blocks: list[Block] = []
    lines: list[str] = []
    comments: list[str] = []
    first = 0
    for number, line in enumerate([*text.removeprefix("\ufeff").splitlines(), ""], start=1):
        stripped = line.strip()
        if not stripped:
            if any(lines):
                blocks.append(Block(first, "\n".join(lines), comments))
            lines, comments = [], []
            continue
        if not lines:
            first = number
        if stripped.startswith("//"):
            comments.append(stripped)
            lines.append("")
        else:
            lines.append(stripped)
    return blocks


def line_at(block: Block, text: str, offset: int) -> int:
    """Return the file line of an offset into a block's text."""
    return block.first_line + text.count("\n", 0, offset)


def category_path(block: Block) -> str | None:
    """Return the path a `$CATEGORY:` block switches to, or None for a question."""
    text = hidden(block.text).strip()
    if not text.startswith("$CATEGORY:"):
        return None
    return shown(text[len("$CATEGORY:") :]).strip()


def question_split(block: Block) -> Question:
    """Return a question block split into title, text, answers and general feedback."""
    text = hidden(block.text)
    start = len(text) - len(text.lstrip())
    title = None
    if text.startswith("::", start):
        end = text.find("::", start + 2)
        if end < 0:
            raise gift_error(
                line_at(block, text, start),
                "The title opened with '::' is not closed with '::' (write a colon in a "
                "title as \\:).",
            )
        title = shown(text[start + 2 : end]).strip()
        start = end + 2
    opening, closing = text.find("{", start), text.find("}", start)
    if opening < 0 and closing < 0:
        stem = Piece(text[start:], line_at(block, text, start))
        return Question(stem.line, title, stem, None, None, "")
    if closing < 0:
        raise gift_error(
            line_at(block, text, opening),
            "The answer block opened with '{' is not closed with '}' (write a literal brace "
            "as \\{).",
        )
    if opening < 0 or closing < opening:
        raise gift_error(
            line_at(block, text, closing),
            "This '}' closes no answer block (write a literal brace as \\}).",
        )
    nested = text.find("{", opening + 1, closing)
    if nested >= 0:
        raise gift_error(
            line_at(block, text, nested),
            "A '{' inside an answer block (write a literal brace as \\{).",
        )
    after = text[closing + 1 :]
    extra = re.search(r"[{}]", after)
    if extra:
        raise gift_error(
            line_at(block, text, closing + 1 + extra.start()),
            "A question has one answer block; this brace starts another (write a literal "
            "brace as \\{ or \\}).",
        )
    body = text[opening + 1 : closing]
    general = body.rfind("####")
    feedback = None
    if general >= 0:
        feedback = Piece(body[general + 4 :], line_at(block, text, opening + 1 + general))
        body = body[:general]
    stem = Piece(text[start:opening], line_at(block, text, start))
    answers = Piece(body, line_at(block, text, opening))
    return Question(stem.line, title, stem, answers, feedback, shown(after).strip())


def _parts(piece: Piece, separators: str) -> list[tuple[str, str, int]]:
    """Return (marker, content, line) for each part of an answer block that starts with one
    of `separators`; text before the first is an error."""
    raw = piece.raw
    cuts = [index for index, char in enumerate(raw) if char in separators]
    lead = raw[: cuts[0]] if cuts else raw
    if lead.strip():
        raise gift_error(
            piece.line + raw.count("\n", 0, len(lead) - len(lead.lstrip())),
            f"{shown(lead).strip()!r} stands before the first answer: start each answer "
            f"with {' or '.join(separators)}.",
        )
    parts = []
    for index, cut in enumerate(cuts):
        end = cuts[index + 1] if index + 1 < len(cuts) else len(raw)
        parts.append((raw[cut], raw[cut + 1 : end], piece.line + raw.count("\n", 0, cut)))
    return parts


def _weight(content: str, line: int) -> tuple[Decimal | None, str]:
    """Return the %n% weight at the start of an answer, if any, and the rest."""
    if not content.lstrip().startswith("%"):
        return None, content
    match = _WEIGHT.match(content.lstrip())
    if match is None:
        raise gift_error(line, "A weight is written as a percentage between % signs, e.g. %50%.")
    return Decimal(match.group(1)), content.lstrip()[match.end() :]


def _feedback_split(content: str, line: int) -> tuple[Piece, Piece | None]:
    text, hash_, feedback = content.partition("#")
    return Piece(text, line), (Piece(feedback, line) if hash_ else None)


def choices_parse(piece: Piece) -> list[Answer]:
    """Return the answers of a multiple-choice block ({=right ~wrong ~%50%partly right})."""
    answers = []
    for marker, content, line in _parts(piece, "=~"):
        weight, rest = _weight(content, line)
        if marker == "=" and weight is not None:
            raise gift_error(
                line,
                "'=' already marks an answer right; write a weighted answer as ~%50%answer.",
            )
        text, feedback = _feedback_split(rest, line)
        if not shown(text.raw).strip():
            raise gift_error(line, "An empty answer.")
        answers.append(Answer(marker, weight, text, feedback, line))
    return answers


@dataclass
class NumericAnswer:
    """One answer of a numeric block: its weight (percent), value and tolerance."""

    weight: Decimal
    value: Decimal
    tolerance: Decimal | None  # None when none is written
    feedback: Piece | None
    line: int


def _number(text: str, line: int) -> Decimal:
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        raise gift_error(line, f"{text.strip()!r} is not a number.")
    return number


_ANY_NUMBER = (
    "has no equivalent here: a wrong number names a misconception only when a 0% answer "
    "predicts it (=%0%value:tolerance#feedback); write what every learner should read in "
    "the general feedback (####)."
)


def numeric_parse(piece: Piece) -> list[NumericAnswer]:
    """Return the answers of a numeric block ({#2.5:0.1}, {#1..2}, {#=2.5:0.1 =%50%2:1})."""
    raw = piece.raw.strip()[1:]  # after the leading #
    if "~" in raw:
        raise gift_error(
            piece.line + piece.raw.count("\n", 0, piece.raw.find("~")),
            f"Feedback for any other number (~#...) {_ANY_NUMBER}",
        )
    body = Piece(raw if raw.lstrip().startswith("=") else "=" + raw, piece.line)
    answers = []
    for _, content, line in _parts(body, "="):
        weight, rest = _weight(content, line)
        value_text, feedback = _feedback_split(rest, line)
        value = shown(value_text.raw).strip()
        tolerance: Decimal | None = None
        if value.find("..") > 0:
            low_text, _, high_text = value.partition("..")
            low, high = _number(low_text, line), _number(high_text, line)
            if high < low:
                raise gift_error(line, f"The range {value} ends below its start.")
            answer, tolerance = (low + high) / 2, (high - low) / 2
        elif ":" in value:
            value_part, _, tolerance_text = value.partition(":")
            answer, tolerance = _number(value_part, line), _number(tolerance_text, line)
            if tolerance < 0:
                raise gift_error(line, f"The tolerance {tolerance_text.strip()} is negative.")
        elif value == "*":
            raise gift_error(line, f"'*' (any other number) {_ANY_NUMBER}")
        else:
            answer = _number(value, line)
        answers.append(
            NumericAnswer(
                Decimal(100) if weight is None else weight, answer, tolerance, feedback, line
            )
        )
    if not answers:
        raise gift_error(piece.line, "A numeric question needs a number after '#'.")
    return answers


def true_false_parse(piece: Piece) -> tuple[bool, Piece | None, Piece | None]:
    """Return a true/false block's answer, its feedback for a wrong answer and for a right
    one ({T#wrong#right})."""
    word, *feedback = piece.raw.strip().split("#", 2)
    wrong = Piece(feedback[0], piece.line) if feedback else None
    right = Piece(feedback[1], piece.line) if len(feedback) > 1 else None
    return TRUE_FALSE[word.strip()], wrong, right
