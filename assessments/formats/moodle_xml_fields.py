"""What Moodle XML has no field for, and how it travels in fields Moodle keeps.

- An explain item's model answer, key ideas and reading criteria go in the essay's
  information for graders (graderinfo, never shown to learners), as labelled sections:
  "Model answer:", "Key ideas:" (one "- " line each) and "Reading criteria (JSON…):".
- A numeric item's answer expressions become calculated formulas: a parameter `p` is the
  wildcard `{p}`, the text otherwise unchanged, so an expression comes back as written.
- A bank's prerequisite flag is a last line of the category's description.
"""

from __future__ import annotations

import ast
import io
import json
import re
import tokenize
from typing import Any

from core.errors import ApplicationError

MODEL_ANSWER = "Model answer:"
KEY_IDEAS = "Key ideas:"
CRITERIA = "Reading criteria (JSON, read by the dropout service; keep it as it is):"
PREREQUISITE_MARK = "(Dropout service: a prerequisite bank.)"
GRADER_INFO_HINT = (
    "An essay becomes an explain-it-back item: write its model answer and key ideas in the "
    "information for graders, as a line 'Model answer:' followed by the answer, then a line "
    "'Key ideas:' followed by one '- ' line per idea."
)

# Moodle's calculated formulas allow these functions (and more); our expressions know these.
_FUNCTIONS = frozenset({"round", "min", "max", "sqrt", "abs"})
_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.USub, ast.UAdd)
_WILDCARD = re.compile(r"\{([^{}]*)\}")


def grader_info_write(*, model_answer: str, key_ideas: list[str], criteria: list[Any]) -> str:
    """Return the information for graders that carries an explain item's answer and ideas."""
    parts = [MODEL_ANSWER, model_answer, "", KEY_IDEAS, *(f"- {idea}" for idea in key_ideas)]
    if criteria:
        parts += ["", CRITERIA, json.dumps(criteria, ensure_ascii=False)]
    return "\n".join(parts)


def grader_info_read(text: str) -> tuple[str, list[str], list[Any]]:
    """Return the model answer, key ideas and reading criteria the information for graders holds."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        stripped = line.strip()
        for header in (MODEL_ANSWER, KEY_IDEAS, CRITERIA):
            if stripped.lower().startswith(header.lower()):
                current = sections.setdefault(header, [])
                rest = stripped[len(header) :].strip()
                if rest:
                    current.append(rest)
                break
        else:
            if current is not None:
                current.append(line)
    model_answer = "\n".join(sections.get(MODEL_ANSWER, [])).strip()
    ideas = [
        re.sub(r"^([-*•]|\d+[.)])\s*", "", line.strip())
        for line in sections.get(KEY_IDEAS, [])
        if line.strip()
    ]
    if not model_answer or not ideas:
        raise ApplicationError(GRADER_INFO_HINT, fields={"graderinfo": GRADER_INFO_HINT})
    criteria: list[Any] = []
    criteria_text = "\n".join(sections.get(CRITERIA, [])).strip()
    if criteria_text:
        try:
            criteria = json.loads(criteria_text)
        except json.JSONDecodeError as error:
            message = f"The reading criteria are not valid JSON ({error}); remove the section."
            raise ApplicationError(message, fields={"graderinfo": message}) from error
        if not isinstance(criteria, list):
            message = "The reading criteria are a JSON list, one entry per key idea."
            raise ApplicationError(message, fields={"graderinfo": message})
    return model_answer, ideas, criteria


def formula_to_moodle(expression: str, *, names: set[str]) -> str:
    """Return the expression as a calculated formula, or raise ValueError saying why not."""
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as error:
        raise ValueError(f"{expression!r} is not an arithmetic expression") from error
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS:
                raise ValueError(f"{expression!r} calls a function Moodle's formulas lack")
        elif isinstance(node, ast.BinOp | ast.UnaryOp):
            if not isinstance(node.op, _OPERATORS):
                raise ValueError(f"{expression!r} uses an operator Moodle's formulas lack")
        elif isinstance(node, ast.Name) and node.id not in names | _FUNCTIONS:
            raise ValueError(f"{expression!r} names {node.id!r}, which is not a parameter")
        elif not isinstance(node, (ast.Expression, ast.Constant, ast.Name, ast.Load, *_OPERATORS)):
            raise ValueError(f"{expression!r} uses syntax Moodle's formulas lack")
    # Token by token, so the text keeps its spacing and parentheses exactly.
    tokens = tokenize.generate_tokens(io.StringIO(expression).readline)
    pieces: list[str] = []
    last = (1, 0)
    for token in tokens:
        if token.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
            break
        pieces.append(expression[last[1] : token.start[1]])
        pieces.append(f"{{{token.string}}}" if token.string in names else token.string)
        last = token.end
    return "".join(pieces)


def formula_from_moodle(formula: str) -> tuple[str, set[str]]:
    """Return a calculated formula as our expression and the wildcards it uses."""
    names = set(_WILDCARD.findall(formula))
    for name in names:
        if not name.isidentifier():
            raise ValueError(f"wildcard {{{name}}} is not a name our expressions accept")
    expression = _WILDCARD.sub(lambda match: match.group(1), formula).strip()
    if "{" in expression or "}" in expression:
        raise ValueError(f"formula {formula!r} has unbalanced braces")
    return expression, names


def description_write(*, description: str, is_prerequisite: bool) -> str:
    """Return a category's description, marked when its bank is a prerequisite bank."""
    if not is_prerequisite:
        return description
    return f"{description}\n\n{PREREQUISITE_MARK}".strip()


def description_read(text: str) -> tuple[str, bool]:
    """Return a category's description without the mark, and whether it was marked."""
    stripped = text.strip()
    if stripped.endswith(PREREQUISITE_MARK):
        return stripped[: -len(PREREQUISITE_MARK)].strip(), True
    return stripped, False
