"""How far the automatic reading of explain-backs agrees with an instructor's hand labels.

A labelled corpus (JSON) lists explanations of explain items, each labelled per key idea
`found`, `missing` or `contradicts:<code>` (`+` joins codes). Agreement is measured per
(explanation, key idea) cell: the share of cells where the reading's verdict is the label's,
and Cohen's kappa over the three verdicts (agreement corrected for chance). Beside them:
the contradicted cells whose codes match, and the explanations whose overall judgement
(right, or wrong as evidence: `Reading.is_right`) is the same both ways. Pure: the caller
reads the corpus and the items' criteria.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assessments.explanation_reading import IdeaCriteria, Reading, Verdict, explanation_read

VERDICTS = (Verdict.FOUND.value, Verdict.MISSING.value, Verdict.CONTRADICTS.value)
SPLITS = ("tune", "held_out")


class CorpusError(ValueError):
    """The labelled corpus is not well formed (the message names the entry)."""


@dataclass(frozen=True)
class Labelled:
    """One hand-labelled explanation."""

    id: str
    item: str
    split: str
    text: str
    labels: tuple[tuple[str, frozenset[str]], ...]  # (verdict, codes) per key idea

    @property
    def is_right(self) -> bool:
        """Return the overall judgement the labels imply, by the reading's own rule."""
        found = sum(1 for verdict, _ in self.labels if verdict == Verdict.FOUND)
        contradicted = any(verdict == Verdict.CONTRADICTS for verdict, _ in self.labels)
        return not contradicted and 2 * found >= len(self.labels)


def _label(raw: Any, where: str) -> tuple[str, frozenset[str]]:
    if not isinstance(raw, str):
        raise CorpusError(f"{where}: a label is a string, not {raw!r}.")
    verdict, _, codes = raw.partition(":")
    if verdict not in VERDICTS:
        raise CorpusError(f"{where}: unknown verdict {verdict!r}; use {', '.join(VERDICTS)}.")
    named = frozenset(code for code in codes.split("+") if code)
    if (verdict == Verdict.CONTRADICTS) != bool(named):
        raise CorpusError(f"{where}: 'contradicts' and only it names codes, as contradicts:DO-X.")
    return verdict, named


def corpus_parse(data: Any) -> list[Labelled]:
    """Return the corpus's explanations, or raise CorpusError naming the bad entry."""
    entries = data.get("explanations") if isinstance(data, Mapping) else None
    if not isinstance(entries, list) or not entries:
        raise CorpusError("The corpus is an object with a non-empty 'explanations' list.")
    parsed: list[Labelled] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"explanations[{index}]"
        if not isinstance(entry, Mapping):
            raise CorpusError(f"{where}: expected an object.")
        missing = [k for k in ("id", "item", "split", "text", "labels") if k not in entry]
        if missing:
            raise CorpusError(f"{where}: missing {', '.join(missing)}.")
        if entry["id"] in seen:
            raise CorpusError(f"{where}: id {entry['id']!r} is used twice.")
        seen.add(entry["id"])
        if entry["split"] not in SPLITS:
            raise CorpusError(f"{where}: split is one of {', '.join(SPLITS)}.")
        if not isinstance(entry["labels"], list):
            raise CorpusError(f"{where}: labels is a list, one per key idea.")
        parsed.append(
            Labelled(
                id=str(entry["id"]),
                item=str(entry["item"]),
                split=str(entry["split"]),
                text=str(entry["text"]),
                labels=tuple(
                    _label(raw, f"{where} ({entry['id']}) labels[{i}]")
                    for i, raw in enumerate(entry["labels"])
                ),
            )
        )
    return parsed


@dataclass(frozen=True)
class Cell:
    """One (explanation, key idea): the label beside the reading."""

    explanation: str
    item: str
    split: str
    idea: int
    label: str
    label_codes: frozenset[str]
    read: str
    read_codes: frozenset[str]
    quote: str


@dataclass(frozen=True)
class Judged:
    """One explanation: its cells and both overall judgements."""

    labelled: Labelled
    reading: Reading
    cells: tuple[Cell, ...]


def corpus_read(
    corpus: Sequence[Labelled], criteria: Mapping[str, Sequence[IdeaCriteria]]
) -> list[Judged]:
    """Read every explanation against its item's criteria."""
    judged = []
    for entry in corpus:
        ideas = criteria.get(entry.item)
        if not ideas:
            raise CorpusError(f"{entry.id}: item {entry.item!r} has no criteria to read against.")
        if len(ideas) != len(entry.labels):
            raise CorpusError(
                f"{entry.id}: {len(entry.labels)} labels for {len(ideas)} key ideas of "
                f"{entry.item!r}."
            )
        reading = explanation_read(entry.text, ideas)
        cells = tuple(
            Cell(
                explanation=entry.id,
                item=entry.item,
                split=entry.split,
                idea=index,
                label=label,
                label_codes=codes,
                read=idea.verdict.value,
                read_codes=frozenset(idea.codes),
                quote=idea.quote,
            )
            for index, ((label, codes), idea) in enumerate(
                zip(entry.labels, reading.ideas, strict=True)
            )
        )
        judged.append(Judged(labelled=entry, reading=reading, cells=cells))
    return judged


def cohen_kappa(pairs: Iterable[tuple[str, str]]) -> float | None:
    """Return Cohen's kappa of (label, reading) pairs over the three verdicts; None when
    chance agreement is total (every pair in one class), where kappa is undefined."""
    pairs = list(pairs)
    if not pairs:
        return None
    total = len(pairs)
    observed = sum(1 for a, b in pairs if a == b) / total
    first = Counter(a for a, _ in pairs)
    second = Counter(b for _, b in pairs)
    expected = sum(first[v] * second[v] for v in VERDICTS) / (total * total)
    if expected >= 1:
        return None
    return (observed - expected) / (1 - expected)


def agreement_of(judged: Sequence[Judged]) -> dict[str, Any]:
    """Return the agreement figures of some judged explanations."""
    cells = [cell for entry in judged for cell in entry.cells]
    pairs = [(cell.label, cell.read) for cell in cells]
    both = [c for c in cells if c.label == c.read == Verdict.CONTRADICTS]
    kappa = cohen_kappa(pairs)
    return {
        "explanations": len(judged),
        "cells": len(cells),
        "agreement": round(sum(1 for a, b in pairs if a == b) / len(pairs), 4) if pairs else None,
        "kappa": None if kappa is None else round(kappa, 4),
        "codes_matching": sum(1 for c in both if c.label_codes == c.read_codes),
        "codes_compared": len(both),
        "judged_alike": sum(
            1 for entry in judged if entry.labelled.is_right == entry.reading.is_right
        ),
        "confusion": {
            label: {read: sum(1 for a, b in pairs if (a, b) == (label, read)) for read in VERDICTS}
            for label in VERDICTS
        },
    }


def agreement_report(judged: Sequence[Judged]) -> dict[str, Any]:
    """Return the figures overall, per split and per item."""
    items = sorted({entry.labelled.item for entry in judged})
    return {
        "all": agreement_of(judged),
        "held_out": agreement_of([e for e in judged if e.labelled.split == "held_out"]),
        "tune": agreement_of([e for e in judged if e.labelled.split == "tune"]),
        "items": {
            item: agreement_of([e for e in judged if e.labelled.item == item]) for item in items
        },
        "items_held_out": {
            item: agreement_of(
                [e for e in judged if e.labelled.item == item and e.labelled.split == "held_out"]
            )
            for item in items
        },
    }
