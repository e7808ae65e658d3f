"""One question (in the JSON bank form) as an IMS QTI 2.1 assessmentItem.

- single, multiple, true/false: a choiceInteraction; a multiple-response item scores by a
  mapping that is our rule (each right choice mark/R, each wrong one -mark/W, never below
  0, assessments/scoring.py).
- two-tier: two choiceInteractions (RESPONSE for the answer, REASON for the reason), right
  only when both are.
- numeric: a textEntryInteraction of base type float, right when `equal` (absolute, or
  relative in percent, tolerance) holds; per-attempt parameters are template variables
  drawn from their values, printed in the stem, and the answer is a QTI expression.
- explain: an extendedTextInteraction with no marks; the model answer is its correct
  response and the key ideas a rubric for scorers.
- code is refused: its grader runs the learner's function in our sandbox.

Misconception codes: what an answer reveals is the outcome MISCONCEPTIONS (multiple
identifiers), set by the response processing exactly as our scoring reveals them (the
wrong choices chosen, the reason before the answer, the distractors matched); the item's
probes go in the manifest's metadata (assessments/formats/qti.py).
"""

from __future__ import annotations

import ast
import re
import string
import xml.etree.ElementTree as ET
from decimal import Decimal
from typing import Any

from assessments.numeric import expression_evaluate

QTI_NS = "http://www.imsglobal.org/xsd/imsqti_v2p1"
QTI_XSD = "http://www.imsglobal.org/xsd/qti/qtiv2p1/imsqti_v2p1.xsd"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
_NCNAME = re.compile(r"[A-Za-z_][-A-Za-z0-9_.]*")
_RESERVED = {"RESPONSE", "REASON", "SCORE", "MAXSCORE", "FEEDBACK", "MISCONCEPTIONS"}


class QtiRefused(Exception):
    """A question QTI 2.1 cannot carry as our service means it, with the reason."""


def _q(tag: str) -> str:
    # Names stay unprefixed under the root's default namespace (xmlns): ElementTree cannot
    # write a default namespace beside unqualified attributes.
    return tag


def _add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, _q(tag), attributes)
    if text is not None:
        element.text = text
    return element


def _number(value: float | Decimal) -> str:
    return format(Decimal(str(value)).normalize(), "f")


def item_identifier(slug: str) -> str:
    """Return a QTI identifier for a question slug (an NCName)."""
    return slug if _NCNAME.fullmatch(slug) else f"q-{slug}"


def item_element(question: dict[str, Any]) -> ET.Element:
    """Return the assessmentItem of a question, or raise QtiRefused saying why not."""
    qtype = question["type"]
    if qtype == "code":
        raise QtiRefused(
            "A code question is graded by running the learner's function against our "
            "grader's checks in a sandbox; QTI has no interaction that does that."
        )
    item = ET.Element(
        _q("assessmentItem"),
        {
            "xmlns": QTI_NS,
            "xmlns:xsi": XSI_NS,
            "xsi:schemaLocation": f"{QTI_NS} {QTI_XSD}",
            "identifier": item_identifier(question["slug"]),
            "title": item_title(question["stem"]),
            "adaptive": "false",
            "timeDependent": "false",
        },
    )
    if qtype == "numeric":
        _numeric(item, question)
    elif qtype == "explain":
        _explain(item, question)
    else:
        _choices(item, question)
    return item


def item_title(stem: str) -> str:
    """Return an item's title: the start of its stem, on one line."""
    line = " ".join(stem.split())
    return line if len(line) <= 80 else line[:79] + "…"


def _outcomes(item: ET.Element, question: dict[str, Any], *, scored: bool = True) -> None:
    if scored:
        for identifier, default in (("SCORE", 0.0), ("MAXSCORE", float(question["mark"]))):
            outcome = _add(
                item, "outcomeDeclaration", identifier=identifier, cardinality="single",
                baseType="float",
            )  # fmt: skip
            _add(_add(outcome, "defaultValue"), "value", _number(default))
    for identifier in ("FEEDBACK", "MISCONCEPTIONS") if scored else ("FEEDBACK",):
        _add(
            item, "outcomeDeclaration", identifier=identifier, cardinality="multiple",
            baseType="identifier",
        )  # fmt: skip


def _paragraphs(parent: ET.Element, text: str, parameters: set[str] | None = None) -> None:
    """Write plain text as paragraphs (blank lines) and line breaks; {name} of a
    parameter becomes a printedVariable."""
    for block in [b for b in re.split(r"\n\s*\n", text.strip()) if b.strip()] or [""]:
        paragraph = _add(parent, "p")
        last: ET.Element | None = None
        for index, line in enumerate(block.split("\n")):
            if index:
                last = _add(paragraph, "br")
            pieces = string.Formatter().parse(line) if parameters else [(line, None, None, None)]
            for literal, name, _, _ in pieces:
                if last is None:
                    paragraph.text = (paragraph.text or "") + literal
                else:
                    last.tail = (last.tail or "") + literal
                if name:
                    last = _add(paragraph, "printedVariable", identifier=name)


def _modal(item: ET.Element, identifier: str, text: str) -> None:
    if text.strip():
        feedback = _add(
            item, "modalFeedback", outcomeIdentifier="FEEDBACK", showHide="show",
            identifier=identifier,
        )  # fmt: skip
        _paragraphs(feedback, text)


def _set(parent: ET.Element, identifier: str) -> ET.Element:
    return _add(parent, "setOutcomeValue", identifier=identifier)


def _value(parent: ET.Element, base_type: str, value: str) -> ET.Element:
    return _add(parent, "baseValue", value, baseType=base_type)


def _append(parent: ET.Element, outcome: str, values: list[tuple[str, str]]) -> None:
    """Add to a multiple outcome: outcome = multiple(outcome, values...)."""
    combined = _add(_set(parent, outcome), "multiple")
    _add(combined, "variable", identifier=outcome)
    for tag, value in values:
        if tag == "variable":
            _add(combined, "variable", identifier=value)
        else:
            _value(combined, "identifier", value)


def _reveal(parent: ET.Element, conditions: dict[str, list[ET.Element]]) -> None:
    """For each code, add it to MISCONCEPTIONS when any of its conditions holds."""
    for code, tests in conditions.items():
        branch = _add(_add(parent, "responseCondition"), "responseIf")
        either = _add(branch, "or")
        either.extend(tests)
        _append(branch, "MISCONCEPTIONS", [("value", code)])


def _chosen(choice_id: str, response: str, *, multiple: bool) -> ET.Element:
    test = ET.Element(_q("member" if multiple else "match"))
    _value(test, "identifier", choice_id)
    _add(test, "variable", identifier=response)
    return test


def _choices(item: ET.Element, question: dict[str, Any]) -> None:
    qtype, mark = question["type"], float(question["mark"])
    multiple = qtype == "multiple"
    tiers = [("RESPONSE", "C", 1)] + ([("REASON", "R", 2)] if qtype == "twotier" else [])
    ids: dict[tuple[int, int], str] = {}
    for response, prefix, tier in tiers:
        choices = [c for c in question["choices"] if c.get("tier", 1) == tier]
        declaration = _add(
            item, "responseDeclaration", identifier=response,
            cardinality="multiple" if multiple else "single", baseType="identifier",
        )  # fmt: skip
        correct = _add(declaration, "correctResponse")
        for index, choice in enumerate(choices, start=1):
            ids[(tier, index)] = f"{prefix}{index}"
            if choice["correct"]:
                _add(correct, "value", f"{prefix}{index}")
        if multiple:
            right = sum(1 for c in choices if c["correct"])
            wrong = len(choices) - right
            mapping = _add(
                declaration, "mapping", lowerBound="0", upperBound=_number(mark),
                defaultValue="0",
            )  # fmt: skip
            for index, choice in enumerate(choices, start=1):
                share = mark / right if choice["correct"] else -mark / wrong
                _add(mapping, "mapEntry", mapKey=f"{prefix}{index}", mappedValue=repr(share))
    _outcomes(item, question)
    body = _add(item, "itemBody")
    _paragraphs(body, question["stem"])
    for response, prefix, tier in tiers:
        interaction = _add(
            body, "choiceInteraction", responseIdentifier=response,
            shuffle="false" if qtype == "truefalse" else "true",
            maxChoices="0" if multiple else "1",
        )  # fmt: skip
        if tier == 2:
            _add(interaction, "prompt", question["reason_prompt"])
        for index, choice in enumerate(
            [c for c in question["choices"] if c.get("tier", 1) == tier], start=1
        ):
            _add(interaction, "simpleChoice", choice["text"], identifier=f"{prefix}{index}")
    processing = _add(item, "responseProcessing")
    _choice_score(processing, [response for response, _, _ in tiers], multiple=multiple, mark=mark)
    _set_feedback(processing, [response for response, _, _ in tiers])
    reveals: list[dict[str, list[ET.Element]]] = [{}, {}]
    for tier_index, (response, _, tier) in enumerate(tiers):
        tier_choices = [c for c in question["choices"] if c.get("tier", 1) == tier]
        for index, choice in enumerate(tier_choices, start=1):
            if not choice["correct"]:
                for code in choice["misconceptions"]:
                    test = _chosen(ids[(tier, index)], response, multiple=multiple)
                    reveals[tier_index].setdefault(code, []).append(test)
    if qtype == "twotier":
        # A wrong reason names the belief whatever the answer; the answer's codes count
        # only when the reason named none (assessments/scoring.py).
        _reveal(processing, reveals[1])
        branch = _add(_add(processing, "responseCondition"), "responseIf")
        _add(_add(branch, "isNull"), "variable", identifier="MISCONCEPTIONS")
        _reveal(branch, reveals[0])
    else:
        _reveal(processing, reveals[0])
    _modal(item, "GENERAL", question["feedback"])
    for tier in (1, 2):
        tier_choices = [c for c in question["choices"] if c.get("tier", 1) == tier]
        for index, choice in enumerate(tier_choices, start=1):
            _modal(item, ids[(tier, index)], choice["feedback"])


def _choice_score(
    processing: ET.Element, responses: list[str], *, multiple: bool, mark: float
) -> None:
    condition = _add(processing, "responseCondition")
    branch = _add(condition, "responseIf")
    if multiple:
        _add(_add(branch, "isNull"), "variable", identifier="RESPONSE")
        _value(_set(branch, "SCORE"), "float", "0")
        _add(_set(_add(condition, "responseElse"), "SCORE"), "mapResponse", identifier="RESPONSE")
        return
    both = _add(branch, "and")
    for response in responses:
        match = _add(both, "match")
        _add(match, "variable", identifier=response)
        _add(match, "correct", identifier=response)
    _value(_set(branch, "SCORE"), "float", _number(mark))
    _value(_set(_add(condition, "responseElse"), "SCORE"), "float", "0")


def _set_feedback(processing: ET.Element, responses: list[str]) -> None:
    """FEEDBACK shows the general feedback and that of each choice chosen."""
    feedback = _add(_set(processing, "FEEDBACK"), "multiple")
    _value(feedback, "identifier", "GENERAL")
    for response in responses:
        branch = _add(_add(processing, "responseCondition"), "responseIf")
        _add(_add(_add(branch, "not"), "isNull"), "variable", identifier=response)
        _append(branch, "FEEDBACK", [("variable", response)])


def _expression(parent: ET.Element, expression: str, parameters: set[str]) -> None:
    """Write an answer expression (arithmetic in the parameters) as a QTI expression."""
    try:
        tree = ast.parse(expression, mode="eval").body
    except SyntaxError as error:
        raise QtiRefused(f"{expression!r} is not an arithmetic expression.") from error
    _node(parent, tree, expression, parameters)


_OPERATORS = {ast.Add: "sum", ast.Sub: "subtract", ast.Mult: "product", ast.Div: "divide",
              ast.Pow: "power"}  # fmt: skip


def _node(parent: ET.Element, node: ast.expr, expression: str, parameters: set[str]) -> None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        _value(parent, "float", _number(node.value))
    elif isinstance(node, ast.Name) and node.id in parameters:
        _add(parent, "variable", identifier=node.id)
    elif isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        operator = _add(parent, _OPERATORS[type(node.op)])
        _node(operator, node.left, expression, parameters)
        _node(operator, node.right, expression, parameters)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        if isinstance(node.op, ast.UAdd):
            _node(parent, node.operand, expression, parameters)
            return
        negated = _add(parent, "product")
        _value(negated, "float", "-1")
        _node(negated, node.operand, expression, parameters)
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("min", "max")
        and node.args
        and not node.keywords
    ):
        operator = _add(parent, node.func.id)
        for argument in node.args:
            _node(operator, argument, expression, parameters)
    else:
        raise QtiRefused(
            f"The expression {expression!r} uses {ast.unparse(node)!r}, which this export "
            "does not write as a QTI expression (it writes numbers, parameters, + - * / **, "
            "min and max)."
        )


def _tolerance(numeric: dict[str, Any]) -> dict[str, str]:
    """Return `equal`'s tolerance attributes: QTI's relative tolerance is in percent."""
    if numeric["relative"]:
        percent = Decimal(str(numeric["tolerance"])) * 100
        return {"toleranceMode": "relative", "tolerance": _number(percent)}
    return {"toleranceMode": "absolute", "tolerance": _number(numeric["tolerance"])}


def _equal(numeric: dict[str, Any], expression: str, parameters: set[str]) -> ET.Element:
    test = ET.Element(_q("equal"), _tolerance(numeric))
    _add(test, "variable", identifier="RESPONSE")
    _expression(test, expression, parameters)
    return test


def _numeric(item: ET.Element, question: dict[str, Any]) -> None:
    numeric, mark = question["numeric"], float(question["mark"])
    parameters = set(numeric["parameters"])
    clash = sorted(name for name in parameters if name in _RESERVED or not _NCNAME.fullmatch(name))
    if clash:
        raise QtiRefused(f"The parameter names {clash} cannot be QTI template identifiers.")
    declaration = _add(
        item, "responseDeclaration", identifier="RESPONSE", cardinality="single",
        baseType="float",
    )  # fmt: skip
    if not parameters:
        value = expression_evaluate(numeric["answer"], {})
        _add(_add(declaration, "correctResponse"), "value", _number(value))
    _outcomes(item, question)
    for name in sorted(parameters):
        _add(
            item, "templateDeclaration", identifier=name, cardinality="single",
            baseType="float", paramVariable="true", mathVariable="true",
        )  # fmt: skip
    if parameters:
        # Each attempt draws every parameter from its values, as our attempts do.
        processing = _add(item, "templateProcessing")
        for name, values in sorted(numeric["parameters"].items()):
            choices = _add(
                _add(_add(processing, "setTemplateValue", identifier=name), "random"), "multiple"
            )
            for value in values:
                _value(choices, "float", _number(value))
        _expression(
            _add(processing, "setCorrectResponse", identifier="RESPONSE"),
            numeric["answer"],
            parameters,
        )
    body = _add(item, "itemBody")
    _paragraphs(body, question["stem"], parameters)
    entry = _add(body, "p")
    _add(entry, "textEntryInteraction", responseIdentifier="RESPONSE", expectedLength="12")
    if numeric["unit"]:
        entry[-1].tail = f" {numeric['unit']}"
    processing = _add(item, "responseProcessing")
    _value(_add(_set(processing, "FEEDBACK"), "multiple"), "identifier", "GENERAL")
    condition = _add(processing, "responseCondition")
    unanswered = _add(condition, "responseIf")
    _add(_add(unanswered, "isNull"), "variable", identifier="RESPONSE")
    _value(_set(unanswered, "SCORE"), "float", "0")
    right = _add(condition, "responseElseIf")
    right.append(_equal(numeric, numeric["answer"], parameters))
    _value(_set(right, "SCORE"), "float", _number(mark))
    wrong = _add(condition, "responseElse")
    _value(_set(wrong, "SCORE"), "float", "0")
    # A wrong number reveals the codes of every distractor it matches (assessments/scoring.py).
    reveals: dict[str, list[ET.Element]] = {}
    for index, distractor in enumerate(numeric["distractors"], start=1):
        branch = _add(_add(wrong, "responseCondition"), "responseIf")
        branch.append(_equal(numeric, distractor["answer"], parameters))
        _append(branch, "FEEDBACK", [("value", f"D{index}")])
        for code in distractor["misconceptions"]:
            reveals.setdefault(code, []).append(_equal(numeric, distractor["answer"], parameters))
    _reveal(wrong, reveals)
    _modal(item, "GENERAL", question["feedback"])
    for index, distractor in enumerate(numeric["distractors"], start=1):
        _modal(item, f"D{index}", distractor["feedback"])


def _explain(item: ET.Element, question: dict[str, Any]) -> None:
    declaration = _add(
        item, "responseDeclaration", identifier="RESPONSE", cardinality="single",
        baseType="string",
    )  # fmt: skip
    _add(_add(declaration, "correctResponse"), "value", question["model_answer"])
    _outcomes(item, question, scored=False)
    body = _add(item, "itemBody")
    rubric = _add(body, "rubricBlock", view="scorer")
    _add(rubric, "p", "Key ideas a good explanation states:")
    ideas = _add(rubric, "ul")
    for idea in question["key_ideas"]:
        _add(ideas, "li", idea)
    _paragraphs(body, question["stem"])
    _add(body, "extendedTextInteraction", responseIdentifier="RESPONSE", expectedLines="8")
    processing = _add(item, "responseProcessing")
    _value(_add(_set(processing, "FEEDBACK"), "multiple"), "identifier", "GENERAL")
    _modal(item, "GENERAL", question["feedback"])
