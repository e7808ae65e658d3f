"""The banks' questions as practice reads them on every answer, cached under the banks'
fingerprint (assessments.bank_fingerprint): an edit anywhere in the banks changes the key,
so no answer is ever scored or chosen on a stale question."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Prefetch

from assessments.bank_fingerprint import banks_fingerprint
from assessments.models import Choice, NumericDistractor, Question
from practice import policy

# A day: the key changes with the banks, so the timeout only frees what no key names any more.
CACHE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class BankItem:
    """A question of the banks as practice's policy sees it, with where it stands."""

    item: policy.Item
    bank_id: int
    bank_slug: str
    form: str
    position: int


def banks_version() -> str:
    """Return the fingerprint of every bank, the version of everything cached here (one
    query); read it once per request and pass it on."""
    return banks_fingerprint(bank_ids=None)


# The process keeps the latest versions' items too: an answer reads them three times, and
# unpickling them from Redis costs more than the query that names the version. Safe to share:
# the key is the banks' content and the items are frozen.
_IN_PROCESS: dict[str, dict[int, BankItem]] = {}
IN_PROCESS_VERSIONS = 4


def bank_items(*, version: str) -> dict[int, BankItem]:
    """Return every question of the banks as practice's item, by id, in id order."""
    found = _IN_PROCESS.get(version)
    if found is not None:
        return found
    key = f"practice:bank-items:{version}"
    found = cache.get(key)
    if found is None:
        found = _bank_items_read()
        cache.set(key, found, CACHE_SECONDS)
    if len(_IN_PROCESS) >= IN_PROCESS_VERSIONS:  # older versions are edits long past
        _IN_PROCESS.clear()
    _IN_PROCESS[version] = found
    return found


def _bank_items_read() -> dict[int, BankItem]:
    """Read the banks' questions, probes and wrong options as plain values (four queries)."""
    rows = Question.objects.order_by("id").values_list(
        "id",
        "bank_id",
        "bank__slug",
        "bank__is_prerequisite",
        "form",
        "position",
        "qtype",
        "key_idea_probes",
    )
    probes: dict[int, set[str]] = {row[0]: set() for row in rows}
    for question_id, code in Question.probes.through.objects.values_list(
        "question_id", "misconception__code"
    ):
        probes[question_id].add(code)
    wrong: dict[int, dict[tuple[str, int], set[str]]] = {question_id: {} for question_id in probes}
    for question_id, choice_id, code in Choice.misconceptions.through.objects.filter(
        choice__is_correct=False
    ).values_list("choice__question_id", "choice_id", "misconception__code"):
        wrong[question_id].setdefault(("choice", choice_id), set()).add(code)
    for (
        question_id,
        distractor_id,
        code,
    ) in NumericDistractor.misconceptions.through.objects.values_list(
        "numericdistractor__question_id", "numericdistractor_id", "misconception__code"
    ):
        wrong[question_id].setdefault(("distractor", distractor_id), set()).add(code)
    return {
        question_id: BankItem(
            item=policy.Item(
                question_id=question_id,
                qtype=qtype,
                probes=frozenset(probes[question_id]),
                wrong_options=tuple(
                    frozenset(codes) for _, codes in sorted(wrong[question_id].items())
                ),
                is_prerequisite=is_prerequisite,
                idea_codes=tuple(tuple(codes) for codes in key_idea_probes or ()),
            ),
            bank_id=bank_id,
            bank_slug=bank_slug,
            form=form,
            position=position,
        )
        for (
            question_id,
            bank_id,
            bank_slug,
            is_prerequisite,
            form,
            position,
            qtype,
            key_idea_probes,
        ) in rows
    }


def question_answerable(*, question_id: int, version: str) -> Question:
    """Return the question with its probes, choices and distractors (each with its
    misconceptions) loaded, as scoring and a new step read it."""
    key = f"practice:question:{question_id}:{version}"
    question: Question | None = cache.get(key)
    if question is None:
        question = Question.objects.prefetch_related(
            "probes",
            Prefetch("choices", queryset=Choice.objects.prefetch_related("misconceptions")),
            Prefetch(
                "distractors",
                queryset=NumericDistractor.objects.prefetch_related("misconceptions"),
            ),
        ).get(id=question_id)
        cache.set(key, question, CACHE_SECONDS)
    return question
