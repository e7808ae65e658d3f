"""How the instructor pages show numbers, and the CRI quadrants' labels."""

from __future__ import annotations

from dataclasses import dataclass

from assessments.diagnosis import CRI_THRESHOLD, Quadrant

GAIN_BOUNDS = (0.3, 0.7)
QUADRANTS = [
    {
        "value": q.value,
        "label": q.label,
        "letter": {"misconception": "M", "gap": "G", "lucky_guess": "L", "knowledge": "K"}[q],
        "meaning": {
            "misconception": f"wrong and sure (confidence > {CRI_THRESHOLD})",
            "gap": f"wrong and unsure (confidence ≤ {CRI_THRESHOLD})",
            "lucky_guess": f"right but unsure (confidence ≤ {CRI_THRESHOLD})",
            "knowledge": f"right and sure (confidence > {CRI_THRESHOLD})",
        }[q],
    }
    for q in Quadrant
]
QUADRANT_BY_VALUE = {q["value"]: q for q in QUADRANTS}


@dataclass(frozen=True)
class Shown:
    """A number as the page shows it; `why` is set (and `text` is "—") when it is missing."""

    text: str
    why: str = ""
    value: float | None = None


def number_shown(value: float | None, why: str, *, digits: int = 1, suffix: str = "") -> Shown:
    if value is None:
        return Shown("—", why or "Not defined for these attempts.")
    return Shown(f"{value:.{digits}f}{suffix}", value=value)


def gain_shown(gain: float | None, why: str) -> Shown:
    """g with 2 decimals, or more when rounding would lift it onto a band's bound (0.2996
    is "0.2996", low, not "0.30")."""
    digits = 2
    while gain is not None and digits < 6:
        shown = round(gain, digits)
        if not any(shown >= bound > gain for bound in GAIN_BOUNDS):
            break
        digits += 1
    return number_shown(gain, why, digits=digits)
