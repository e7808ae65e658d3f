"""The reading against the hand-labelled explanations: the corpus, kappa, and the command."""

from __future__ import annotations

import json
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from assessments.bank_transfer import bank_import
from assessments.catalog import FIXTURES_DIR, misconceptions_load
from assessments.explanation_agreement import CorpusError, cohen_kappa, corpus_parse

CORPUS = FIXTURES_DIR / "explanations_labelled.json"
BANKS = [
    FIXTURES_DIR / "banks" / "explain-back.json",
    FIXTURES_DIR / "banks" / "prerequisites.json",
]
# Measured on the held-out third (never looked at while the criteria were written): agreement
# 0.975 (117 of 120 cells) and kappa 0.949. The floors sit just under, so losing one held-out
# cell fails the test.
AGREEMENT_FLOOR = 0.97
KAPPA_FLOOR = 0.94


def _corpus():
    return corpus_parse(json.loads(CORPUS.read_text(encoding="utf-8")))


def test_the_corpus_covers_every_item_with_right_and_wrong_explanations():
    corpus = _corpus()
    assert len(corpus) >= 60
    per_item = Counter(entry.item for entry in corpus)
    assert len(per_item) == 7 and min(per_item.values()) >= 10
    held_out = [entry for entry in corpus if entry.split == "held_out"]
    assert 0.25 <= len(held_out) / len(corpus) <= 0.4
    verdicts = Counter(verdict for entry in corpus for verdict, _ in entry.labels)
    assert min(verdicts.values()) >= 30  # found, missing and contradicts all well represented
    judged = Counter(entry.is_right for entry in corpus)
    assert judged[True] >= 20 and judged[False] >= 20


def test_kappa_is_agreement_corrected_for_chance():
    # 8 of 10 agree; both raters say found 5, missing 4, contradicts 1 times:
    # chance .25 + .16 + .01 = .42, kappa (.8 - .42) / (1 - .42) = .655172
    pairs = (
        [("found", "found")] * 4
        + [("missing", "missing")] * 3
        + [("contradicts", "contradicts"), ("found", "missing"), ("missing", "found")]
    )
    assert cohen_kappa(pairs) == pytest.approx(0.655172, abs=1e-6)
    assert cohen_kappa([("found", "found")] * 3) is None  # one class only: undefined
    assert cohen_kappa([]) is None


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (["found", "maybe"], "unknown verdict 'maybe'"),
        (["found", "contradicts"], "names codes"),
        (["found:DO-SPEED"], "names codes"),
    ],
)
def test_a_malformed_label_is_named(labels, message):
    entry = {"id": "x-1", "item": "i", "split": "tune", "text": "t", "labels": labels}
    with pytest.raises(CorpusError, match=message):
        corpus_parse({"explanations": [entry]})


@pytest.mark.django_db
def test_the_command_prints_the_table_and_holds_the_agreement_floor():
    # given: the shipped catalogue and explain items in the database
    misconceptions_load(json.loads((FIXTURES_DIR / "misconceptions.json").read_text()))
    for path in BANKS:
        bank_import(json.loads(path.read_text(encoding="utf-8")))
    out = StringIO()
    # when
    call_command("explanation_agreement", "--disagreements", stdout=out)
    # then: a table per item, overall and held out, and a final JSON line
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["texts", "cells", "agree", "kappa", "codes", "judged", "alike"]
    assert any(line.startswith("  held out (not tuned on)") for line in lines)
    assert any(line.startswith("  explain-neuron") for line in lines)
    report = json.loads(lines[-1])
    assert report["all"]["cells"] == sum(len(e.labels) for e in _corpus())
    held_out = report["held_out"]
    assert held_out["agreement"] >= AGREEMENT_FLOOR, held_out
    assert held_out["kappa"] >= KAPPA_FLOOR, held_out
    assert held_out["codes_matching"] == held_out["codes_compared"]
    # and the same figures come from the bank files, without the database
    from_files = StringIO()
    call_command("explanation_agreement", *[f"--bank={path}" for path in BANKS], stdout=from_files)
    assert json.loads(from_files.getvalue().splitlines()[-1]) == report


@pytest.mark.django_db
def test_the_command_refuses_a_corpus_it_cannot_measure(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"explanations": []}')
    with pytest.raises(CommandError, match="non-empty 'explanations' list"):
        call_command("explanation_agreement", f"--file={bad}", stdout=StringIO())
    # items not in the database (nothing loaded): it says how to load them
    with pytest.raises(CommandError, match="load the banks"):
        call_command("explanation_agreement", stdout=StringIO())
