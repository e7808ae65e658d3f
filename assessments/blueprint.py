"""Blueprints: what every attempt at a quiz carries, and draws that honour them (no database).

A quiz's sections say how many questions each pool (a bank, or one form of it) gives an
attempt; its blueprint adds rules such as "at least 2 items that probe DO-GRADIENT", "at
least 1 two-tier item", or both at once. An item counts for a code when the code is among
its probes. A draw takes exactly `draw_count` distinct questions from each section's pool
so that every rule holds. From the attempt's `random.Random`:

1. Plain draws, up to UNIFORM_TRIES: each section samples its pool, sections in order,
   exactly as before blueprints existed; the first draw that honours the blueprint is kept.
   This is rejection sampling: when the blueprint is loose, every draw that honours it is
   equally likely, and a quiz without a blueprint draws as it always did.
2. Randomized constructions, up to CONSTRUCTIVE_TRIES: the unmet rule with the least room
   to spare (random tie-break) gets the candidate that serves the most unmet rules (random
   tie-break); once every rule holds, the sections' remaining slots are filled uniformly
   from what is left, and each section's draws are shuffled. Items that probe many codes
   come up more often than under plain draws: the price of a tight blueprint.
3. An exhaustive search (depth first, most constrained rule first, candidates in random
   order, each tried candidate excluded from its later siblings), bounded by SEARCH_STEPS.
4. Otherwise no draw exists: `BlueprintUnmet` says which rule cannot be met.

`blueprint_problem` answers the same question for instructors without drawing: a per-rule
count of the items the pools hold and the sections can take (a necessary condition, with
the clearest message), then the exhaustive search for the rules taken together.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

UNIFORM_TRIES = 10
CONSTRUCTIVE_TRIES = 30
SEARCH_STEPS = 20_000


@dataclass(frozen=True)
class Item:
    """A question as the draw sees it: its id, type and the codes it probes."""

    id: int
    qtype: str
    codes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Rule:
    """Every attempt carries at least `minimum` items that probe `code` and are of `qtype`
    ("" for either: any code, any type)."""

    code: str = ""
    qtype: str = ""
    minimum: int = 1

    def counts(self, item: Item) -> bool:
        """Return whether `item` counts towards the rule."""
        return (not self.code or self.code in item.codes) and (
            not self.qtype or item.qtype == self.qtype
        )

    @property
    def name(self) -> str:
        """Return the rule as messages name it: "DO-GRADIENT", "twotier", "DO-TEST (twotier)"."""
        if self.code and self.qtype:
            return f"{self.code} ({self.qtype})"
        return self.code or self.qtype

    @property
    def which(self) -> str:
        """Return what an item needs to count: "that probe it", "of type twotier"."""
        kind = f"of type {self.qtype}" if self.qtype else ""
        probe = "that probe it" if self.code else ""
        return " ".join(part for part in (kind, probe) if part)


@dataclass(frozen=True)
class Section:
    """A section of the quiz: how many it draws, and the ids of the items it draws from."""

    draw_count: int
    pool: tuple[int, ...]
    bank: str = ""
    form: str = ""


class BlueprintUnmet(Exception):
    """No draw from the sections honours the blueprint; the message names the rule."""


class _OutOfSteps(Exception):
    pass


Picks = list[list[int]]  # per section, item positions in draw order


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


class _Problem:
    """The sections and rules, with items numbered 0..n-1 and the relations precomputed."""

    def __init__(
        self, items: Sequence[Item], sections: Sequence[Section], rules: Sequence[Rule]
    ) -> None:
        self.items = sorted({item.id: item for item in items}.values(), key=lambda i: i.id)
        position = {item.id: k for k, item in enumerate(self.items)}
        self.sections = list(sections)
        self.rules = list(rules)
        self.caps = [section.draw_count for section in self.sections]
        self.pools = [
            sorted({position[i] for i in section.pool if i in position})
            for section in self.sections
        ]
        self.homes: list[list[int]] = [[] for _ in self.items]
        for s, pool in enumerate(self.pools):
            for k in pool:
                self.homes[k].append(s)
        self.matching = [
            [k for k, item in enumerate(self.items) if self.homes[k] and rule.counts(item)]
            for rule in self.rules
        ]
        self.serves: list[list[int]] = [[] for _ in self.items]
        for r, matching in enumerate(self.matching):
            for k in matching:
                self.serves[k].append(r)
        self.steps = 0
        self.dead_ends: Counter[int] = Counter()

    # ------------------------------------------------------------------ checks

    def honours(self, picks: Picks) -> bool:
        counts = [0] * len(self.rules)
        for drawn in picks:
            for k in drawn:
                for r in self.serves[k]:
                    counts[r] += 1
        return all(count >= rule.minimum for count, rule in zip(counts, self.rules, strict=True))

    def room(self, r: int, placed: dict[int, int], caps: list[int], banned: set[int]) -> int:
        """How many more items of rule r the open slots can still take."""
        per_section = [0] * len(caps)
        available = 0
        for k in self.matching[r]:
            if k in placed or k in banned:
                continue
            homes = [s for s in self.homes[k] if caps[s] > 0]
            if homes:
                available += 1
                for s in homes:
                    per_section[s] += 1
        return min(available, sum(min(cap, n) for cap, n in zip(caps, per_section, strict=True)))

    # ------------------------------------------------------------------ draws

    def uniform(self, rng: random.Random) -> Picks | None:
        taken: set[int] = set()
        picks: Picks = []
        for pool, cap in zip(self.pools, self.caps, strict=True):
            free = [k for k in pool if k not in taken]
            if len(free) < cap:
                return None
            drawn = rng.sample(free, cap)
            taken.update(drawn)
            picks.append(drawn)
        return picks if self.honours(picks) else None

    def construct(self, rng: random.Random) -> Picks | None:
        caps = list(self.caps)
        deficit = [rule.minimum for rule in self.rules]
        placed: dict[int, int] = {}
        none: set[int] = set()
        while True:
            unmet = [r for r, short in enumerate(deficit) if short > 0]
            if not unmet:
                return self.fill(placed, caps, rng)
            slack = {r: self.room(r, placed, caps, none) - deficit[r] for r in unmet}
            least = min(slack.values())
            if least < 0:
                return None
            rule = rng.choice([r for r in unmet if slack[r] == least])
            candidates = [
                k
                for k in self.matching[rule]
                if k not in placed and any(caps[s] > 0 for s in self.homes[k])
            ]
            gain = {k: sum(1 for q in self.serves[k] if deficit[q] > 0) for k in candidates}
            best = max(gain.values())
            k = rng.choice([k for k in candidates if gain[k] == best])
            section = rng.choice([s for s in self.homes[k] if caps[s] > 0])
            placed[k] = section
            caps[section] -= 1
            for q in self.serves[k]:
                deficit[q] -= 1

    def fill(self, placed: dict[int, int], caps: list[int], rng: random.Random) -> Picks | None:
        """Fill the open slots with distinct unplaced items at random (a bipartite matching,
        so pools that share questions fill whenever they can); shuffle each section."""
        orders = []
        for pool in self.pools:
            free = [k for k in pool if k not in placed]
            rng.shuffle(free)
            orders.append(free)
        slots = [s for s, cap in enumerate(caps) for _ in range(cap)]
        owner: dict[int, int] = {}

        def augment(slot: int, seen: set[int]) -> bool:
            for k in orders[slots[slot]]:
                if k in seen:
                    continue
                seen.add(k)
                if k not in owner or augment(owner[k], seen):
                    owner[k] = slot
                    return True
            return False

        for slot, s in enumerate(slots):
            unowned = next((k for k in orders[s] if k not in owner), None)
            if unowned is not None:
                owner[unowned] = slot
            elif not augment(slot, set()):
                return None
        picks: Picks = [[] for _ in self.pools]
        for k, s in placed.items():
            picks[s].append(k)
        for k, slot in sorted(owner.items(), key=lambda pair: pair[1]):
            picks[slots[slot]].append(k)
        for drawn in picks:
            rng.shuffle(drawn)
        return picks

    def search(self, rng: random.Random, budget: int) -> Picks | None:
        """Return a draw that honours every rule, or None when there is none; raise
        _OutOfSteps past `budget` steps."""
        caps = list(self.caps)
        deficit = [rule.minimum for rule in self.rules]
        placed: dict[int, int] = {}
        banned: set[int] = set()
        self.steps = 0

        def visit() -> Picks | None:
            self.steps += 1
            if self.steps > budget:
                raise _OutOfSteps
            unmet = [r for r, short in enumerate(deficit) if short > 0]
            if not unmet:
                return self.fill(placed, caps, rng)
            slack = {r: self.room(r, placed, caps, banned) - deficit[r] for r in unmet}
            tightest = min(unmet, key=lambda r: (slack[r], r))
            if slack[tightest] < 0:
                self.dead_ends[tightest] += 1
                return None
            open_items = [
                k
                for k in range(len(self.items))
                if k not in placed and k not in banned and any(caps[s] > 0 for s in self.homes[k])
            ]
            reach = max(sum(1 for q in self.serves[k] if deficit[q] > 0) for k in open_items)
            if sum(deficit[r] for r in unmet) > sum(caps) * reach:
                self.dead_ends[tightest] += 1
                return None
            candidates = [
                k
                for k in self.matching[tightest]
                if k not in placed and k not in banned and any(caps[s] > 0 for s in self.homes[k])
            ]
            rng.shuffle(candidates)
            candidates.sort(key=lambda k: -sum(1 for q in self.serves[k] if deficit[q] > 0))
            tried: list[int] = []
            for k in candidates:
                for s in self.homes[k]:
                    if caps[s] == 0:
                        continue
                    placed[k] = s
                    caps[s] -= 1
                    for q in self.serves[k]:
                        deficit[q] -= 1
                    found = visit()
                    for q in self.serves[k]:
                        deficit[q] += 1
                    caps[s] += 1
                    del placed[k]
                    if found is not None:
                        return found
                banned.add(k)
                tried.append(k)
            banned.difference_update(tried)
            return None

        return visit()

    # ------------------------------------------------------------------ diagnosis

    def sections_problem(self) -> str | None:
        for section, pool in zip(self.sections, self.pools, strict=True):
            if len(pool) < section.draw_count:
                form = f" form-{section.form}" if section.form else ""
                return (
                    f"bank '{section.bank}' has {len(pool)}{form} questions and the quiz draws "
                    f"{section.draw_count}."
                )
        if self.fill({}, list(self.caps), random.Random(0)) is None:  # noqa: S311
            distinct = len({k for pool in self.pools for k in pool})
            return (
                f"the sections draw {sum(self.caps)} questions in all, but their pools share "
                f"questions and cannot give every section distinct ones ({distinct} in all)."
            )
        return None

    def count_problem(self) -> str | None:
        """The necessary check, rule by rule: enough items in the pools, and room for them."""
        for r, rule in enumerate(self.rules):
            held = len(self.matching[r])
            asks = f"{rule.name}: the blueprint asks for {_plural(rule.minimum, 'item')}"
            if held < rule.minimum:
                only = f"only {held}" if held else "none"
                return f"{asks} but the sections' pools hold {only} {rule.which}."
            room = self.room(r, {}, list(self.caps), set())
            if room < rule.minimum:
                return (
                    f"{asks} but the sections can draw at most {room} of the {held} {rule.which}."
                )
        return None

    def joint_problem(self, budget: int, *, diagnose: bool = True) -> str | None:
        """The exact check: search for a draw; when there is none, name a rule to blame: the
        first (most frequent dead end first) without which the others can be met, and the
        rules it competes with. Without `diagnose`, the most frequent dead end (no more
        searches: a refused attempt stays cheap)."""
        too_intricate = (
            f"the blueprint's {len(self.rules)} rules are too intricate to verify in {budget} "
            "steps; simplify it."
        )
        try:
            if self.search(random.Random(0), budget) is not None:  # noqa: S311
                return None
        except _OutOfSteps:
            return too_intricate
        order = sorted(range(len(self.rules)), key=lambda r: (-self.dead_ends[r], r))
        blamed, rivals = order[0], []
        if diagnose:
            blamed = next((r for r in order if self._met_without(r, budget // 10)), order[0])
            rivals = [
                self.rules[r].name
                for r in order
                if r != blamed and self._met_without(r, budget // 10)
            ][:3]
        rule = self.rules[blamed]
        rivalry = f" (it competes with {', '.join(rivals)} for the same slots)" if rivals else ""
        return (
            f"{rule.name}: the blueprint asks for {_plural(rule.minimum, 'item')} and the "
            f"sections' pools hold {len(self.matching[blamed])} {rule.which}, but no draw of "
            f"the sections' {sum(self.caps)} questions carries them together with the rest of "
            f"the blueprint{rivalry}."
        )

    def _met_without(self, dropped: int, budget: int) -> bool:
        """Whether the other rules can be met without rule `dropped` (within `budget` steps)."""
        rules = [rule for r, rule in enumerate(self.rules) if r != dropped]
        try:
            found = _Problem(self.items, self.sections, rules).search(
                random.Random(0),  # noqa: S311
                budget,
            )
        except _OutOfSteps:
            return False
        return found is not None


def blueprint_problem(
    *, items: Sequence[Item], sections: Sequence[Section], rules: Sequence[Rule]
) -> str | None:
    """Return why no draw from `sections` honours `rules`, naming the rule, or None."""
    problem = _Problem(items, sections, rules)
    return (
        problem.sections_problem()
        or problem.count_problem()
        or (problem.joint_problem(SEARCH_STEPS) if problem.rules else None)
    )


def blueprint_draw(
    *, items: Sequence[Item], sections: Sequence[Section], rules: Sequence[Rule], rng: random.Random
) -> list[list[int]]:
    """Return, per section, the ids of the items drawn (in draw order) so that every rule
    holds; raise BlueprintUnmet, naming the rule, when no draw can."""
    problem = _Problem(items, sections, rules)
    for _ in range(UNIFORM_TRIES):
        picks = problem.uniform(rng)
        if picks is not None:
            return _ids(problem, picks)
    unmet = problem.sections_problem() or problem.count_problem()
    if unmet is not None:
        raise BlueprintUnmet(unmet)
    for _ in range(CONSTRUCTIVE_TRIES):
        picks = problem.construct(rng)
        if picks is not None:
            return _ids(problem, picks)
    try:
        picks = problem.search(rng, SEARCH_STEPS)
    except _OutOfSteps:
        picks = None
    if picks is not None:
        return _ids(problem, picks)
    unmet = problem.joint_problem(SEARCH_STEPS, diagnose=False)
    raise BlueprintUnmet(unmet or "no draw honours the blueprint.")


def _ids(problem: _Problem, picks: Picks) -> list[list[int]]:
    return [[problem.items[k].id for k in drawn] for drawn in picks]
