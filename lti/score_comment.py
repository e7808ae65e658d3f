"""The comment a score carries to the gradebook: one line on what the attempt revealed.

It is the results page's diagnosis in brief: the misconceptions the learner held (wrong
and sure) and the gaps in knowledge (wrong and unsure), by name with their codes, so an
instructor reading the gradebook sees what to teach, not only a number.
"""

from __future__ import annotations

from assessments.diagnosis import Quadrant, diagnose
from assessments.models import Attempt, Misconception
from assessments.results import response_evidence

# Gradebooks show a comment in a cell or a tooltip; the results page has the whole story.
COMMENT_LIMIT = 1000


def _named(codes: list[str], titles: dict[str, str]) -> str:
    return "; ".join(f"{titles.get(code, code)} ({code})" for code in codes)


def attempt_comment(*, attempt: Attempt) -> str:
    """Return the one-line summary of the misconceptions and gaps the attempt revealed."""
    responses = attempt.responses.select_related("question").prefetch_related(
        "misconceptions", "question__probes"
    )
    verdicts = diagnose(e for response in responses for e in response_evidence(response))
    held = [v.code for v in verdicts if v.quadrant == Quadrant.MISCONCEPTION]
    gaps = [v.code for v in verdicts if v.quadrant == Quadrant.GAP]
    if not held and not gaps:
        return "No misconception or gap in knowledge showed in this attempt."
    titles = dict(Misconception.objects.filter(code__in=held + gaps).values_list("code", "title"))
    parts = []
    if held:
        parts.append("Misconceptions held: " + _named(held, titles) + ".")
    if gaps:
        parts.append("Gaps in knowledge: " + _named(gaps, titles) + ".")
    line = " ".join(parts)
    return line if len(line) <= COMMENT_LIMIT else line[: COMMENT_LIMIT - 1] + "…"
