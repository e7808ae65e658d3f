"""The browser tests' accessibility audit: axe-core, run on the page as the learner sees it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.browser.conftest import ARTIFACTS

# Vendored by `make editor-bundle` from frontend/package-lock.json, so `make test` needs no node.
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
BLOCKING = ("serious", "critical")
# The WCAG 2.2 A and AA rules plus axe's best practices (landmarks, headings, regions).
RULE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
RUN = """async (tags) => {
  const results = await axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: n.failureSummary })),
  }));
}"""


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Return what axe-core finds wrong with the page as it stands."""
    # Evaluated through the DevTools protocol, which the page's Content-Security-Policy does
    # not govern: the audit sees the page under its real policy, nothing bypassed.
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    violations: list[dict[str, Any]] = page.evaluate(RUN, RULE_TAGS)
    return violations


def heatmap_cells_unspoken(page: Any, table: str) -> list[str]:
    """Return the cells of a heatmap table that say their quadrant by colour alone."""
    cells: list[dict[str, str]] = page.evaluate(
        """(table) => [...document.querySelectorAll(table + " td.cell")].map((td) => ({
          quadrant: [...td.classList].find((c) => c.startsWith("q-")) || "",
          shown: [...td.querySelectorAll("[aria-hidden=true]")].map((e) => e.textContent).join("").trim(),
          spoken: [...td.childNodes].filter((n) => !(n.getAttribute && n.getAttribute("aria-hidden") === "true"))
            .map((n) => n.textContent).join("").trim(),
        }))""",
        table,
    )
    assert cells, f"no heatmap cells in {table}"
    letters: dict[str, set[str]] = {}
    for cell in cells:
        letters.setdefault(cell["quadrant"], set()).add(cell["shown"])
    # One letter per quadrant and no letter shared: the letter says what the colour says.
    shared = len({letter for found in letters.values() for letter in found}) != len(letters)
    return [
        f"{table} {cell['quadrant']}: shown {cell['shown']!r}, spoken {cell['spoken']!r}"
        for cell in cells
        if not cell["shown"] or not cell["spoken"] or len(letters[cell["quadrant"]]) > 1 or shared
    ]


def _luminance(rgb: tuple[int, int, int]) -> float:
    linear = [c / 255 / 12.92 if c <= 10 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first: tuple[int, int, int], second: tuple[int, int, int]) -> float:
    """Return WCAG's contrast ratio of two sRGB colours."""
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def chart_marks_below_contrast(
    page: Any, *, backgrounds: set[str], minimum: float = 3.0
) -> list[str]:
    """Return the data marks of the page's charts (bars, points) fainter than `minimum`:1
    against the white page (WCAG 1.4.11, graphical objects), and any chart without a name."""
    marks: list[dict[str, str]] = page.evaluate(
        """() => [...document.querySelectorAll("svg[role=img]")].flatMap((svg) => {
          const name = (svg.getAttribute("aria-labelledby") || "").split(" ").filter(Boolean)
            .map((id) => (document.getElementById(id) || {}).textContent || "").join(" ").trim()
            || (svg.getAttribute("aria-label") || "").trim();
          return [...svg.querySelectorAll("rect, circle, path")].map((mark) => ({
            chart: svg.id || svg.getAttribute("class"), name, fill: getComputedStyle(mark).fill,
          }));
        })"""
    )
    assert marks, "no chart on the page"
    faint = []
    for mark in marks:
        if not mark["name"]:
            faint.append(f"{mark['chart']}: a chart without an accessible name")
        found = re.fullmatch(r"rgb\((\d+), (\d+), (\d+)\)", mark["fill"])
        if found is None or mark["fill"] in backgrounds:
            continue
        rgb = (int(found[1]), int(found[2]), int(found[3]))
        ratio = contrast_ratio(rgb, (255, 255, 255))
        if ratio < minimum:
            faint.append(f"{mark['chart']}: {mark['fill']} at {ratio:.2f}:1")
    return faint


def assert_accessible(page: Any, name: str) -> None:
    """Fail on any serious or critical axe violation; keep every finding as an artifact."""
    violations = axe_violations(page)
    folder = ARTIFACTS / "axe"
    folder.mkdir(parents=True, exist_ok=True)
    report = {"url": page.url, "violations": violations}
    (folder / f"{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.json").write_text(
        json.dumps(report, indent=2), encoding="utf-8"
    )
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, f"{name} ({page.url}):\n" + "\n".join(
        f"- {v['impact']} {v['id']}: {v['help']}\n"
        + "\n".join(f"    {n['target']}: {n['summary']}" for n in v["nodes"][:5])
        for v in blocking
    )
