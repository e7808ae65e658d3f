"""What a format reader returns: banks in the JSON bank form, and what it left out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Conversion:
    """Banks read from a file (each a dict in the JSON bank format, assessments/bank_format.py)
    with the questions the reader skipped (a note each: nothing to import, e.g. a Moodle
    description) and refused (no equivalent here, or malformed), keyed by where they are
    in the file, e.g. "question 3 'Dropout at test time' (line 12)"."""

    banks: list[dict[str, Any]] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    # Where each question came from, by slug (e.g. "question 3 'Dropout at test time'"), so
    # that validation's problems name the question as the file does, not only by slug.
    origins: dict[str, str] = field(default_factory=dict)
