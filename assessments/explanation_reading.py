"""The first automatic reading of an explain-back: per key idea, found, missing or contradicted.

Each key idea of an explain item carries criteria (the bank's `key_idea_criteria`, one entry
per key idea, in order):

    {"must_say": [["pattern", "pattern"], ["pattern"]],
     "must_not_claim": [{"pattern": "pattern", "code": "DO-X"}]}

`must_say` lists groups of alternative phrasings: every group is needed, any pattern of a
group will do. `must_not_claim` lists wrong claims, each naming the misconception it
reveals. A pattern is a Python regular expression, matched case-insensitively one sentence
at a time against the learner's text once normalised (`text_normalise`: lower case, accents
and typographic signs made plain, contractions expanded, words of the criteria that are
misspelt by one letter corrected). Two shorthands: `{gap}` stands for up to four words
in between (`{gap:N}` for up to N, at most 12) and `{neg}` for a negation word
(not, no, never, cannot, without, nothing, none, neither, nor). Quantifiers other than `?`
apply to single characters or classes, and back-references are refused, so no pattern can
take exponential time (`pattern_problem`).

A match counts only where the learner asserts it: not in a question, not in the scope of a
negation before it in its clause ("not", "no", "never", "without", "rather than",
"unlike"...), not in a belief the text gives to others ("some people think..."), and not
when a disclaimer follows ("..., which is wrong"). So "dropout does not speed up training"
is not the claim that it does; a pattern for an idea that is itself negative ("it adds no
new data") writes its negation in (`{neg}`), since the match then starts at the negation.

An idea's verdict: `contradicts` when any of its wrong claims is asserted anywhere in the
text (naming the codes), else `found` when every must-say group matches within one
sentence or two consecutive ones, else `missing`.

Pure: no database and nothing fetched. The work is bounded whatever the input: the text is
cut at MAX_READ_CHARS, words at MAX_WORD_CHARS, sentences at MAX_SENTENCE_CHARS and their
number at MAX_SENTENCES.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any

# --- Limits -------------------------------------------------------------------------------

MAX_READ_CHARS = 5000
MAX_WORD_CHARS = 40
MAX_SENTENCE_CHARS = 400
MAX_SENTENCES = 120
MAX_PATTERN_CHARS = 500
MAX_GROUPS = 12
MAX_PATTERNS_PER_GROUP = 40
MAX_CLAIMS = 40
MAX_GAP_WORDS = 12
DEFAULT_GAP_WORDS = 4
# Broad repeats ('.', '\W', '\S', negated classes) must be bounded by this, one per pattern.
MAX_BROAD_REPEAT = 40
QUOTE_CHARS = 160
READING_VERSION = 1


class Verdict(StrEnum):
    FOUND = "found"
    MISSING = "missing"
    CONTRADICTS = "contradicts"


_VERDICTS = frozenset(v.value for v in Verdict)


# --- Criteria -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """A wrong claim: a pattern and the misconception code it reveals."""

    pattern: str
    code: str


@dataclass(frozen=True)
class IdeaCriteria:
    """One key idea and what an explanation must say, and must not claim, about it."""

    idea: str
    must_say: tuple[tuple[str, ...], ...]
    must_not_claim: tuple[Claim, ...] = ()

    @classmethod
    def from_json(cls, idea: str, data: Mapping[str, Any]) -> IdeaCriteria:
        """Return the criteria of one key idea from its bank JSON (assumed validated)."""
        return cls(
            idea=idea,
            must_say=tuple(tuple(str(p) for p in group) for group in data.get("must_say", [])),
            must_not_claim=tuple(
                Claim(pattern=str(c["pattern"]), code=str(c["code"]))
                for c in data.get("must_not_claim", [])
            ),
        )


def criteria_of(key_ideas: Sequence[str], criteria: Sequence[Any]) -> tuple[IdeaCriteria, ...]:
    """Return an item's criteria, or () when it has none (or not one per key idea)."""
    if not criteria or len(criteria) != len(key_ideas):
        return ()
    if not all(isinstance(entry, Mapping) for entry in criteria):
        return ()
    return tuple(
        IdeaCriteria.from_json(idea, entry) for idea, entry in zip(key_ideas, criteria, strict=True)
    )


# --- The reading --------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimRead:
    """A wrong claim the reading found: its code and the learner's words."""

    code: str
    quote: str


@dataclass(frozen=True)
class IdeaReading:
    """The reading's verdict on one key idea, with the learner's words behind it."""

    verdict: Verdict
    quote: str = ""
    claims: tuple[ClaimRead, ...] = ()

    @property
    def codes(self) -> tuple[str, ...]:
        """Return the misconception codes of the claims that contradict the idea."""
        return tuple(claim.code for claim in self.claims)


@dataclass(frozen=True)
class Reading:
    """The reading of one explanation: a verdict per key idea, in the order of the ideas."""

    ideas: tuple[IdeaReading, ...]
    truncated: bool = False

    @property
    def found(self) -> int:
        """Return how many key ideas were found."""
        return sum(1 for idea in self.ideas if idea.verdict == Verdict.FOUND)

    @property
    def contradicted_codes(self) -> tuple[str, ...]:
        """Return the codes of every contradiction, once each, in the order of the ideas."""
        return tuple(dict.fromkeys(code for idea in self.ideas for code in idea.codes))

    @property
    def is_right(self) -> bool:
        """Return whether the explanation counts as right: nothing contradicted and at least
        half of the key ideas found."""
        return not self.contradicted_codes and 2 * self.found >= len(self.ideas)

    def as_json(self) -> dict[str, Any]:
        """Return the reading as plain data, to store."""
        return {
            "version": READING_VERSION,
            "truncated": self.truncated,
            "ideas": [
                {
                    "verdict": idea.verdict.value,
                    "quote": idea.quote,
                    "claims": [{"code": c.code, "quote": c.quote} for c in idea.claims],
                }
                for idea in self.ideas
            ],
        }

    @classmethod
    def from_json(cls, data: Any) -> Reading | None:
        """Return a stored reading, or None when there is none (or it is not one)."""
        if not isinstance(data, Mapping) or not isinstance(data.get("ideas"), list):
            return None
        ideas = []
        for entry in data["ideas"]:
            if not isinstance(entry, Mapping) or entry.get("verdict") not in _VERDICTS:
                return None
            ideas.append(
                IdeaReading(
                    verdict=Verdict(entry["verdict"]),
                    quote=str(entry.get("quote", "")),
                    claims=tuple(
                        ClaimRead(code=str(c.get("code", "")), quote=str(c.get("quote", "")))
                        for c in entry.get("claims", [])
                        if isinstance(c, Mapping)
                    ),
                )
            )
        return cls(ideas=tuple(ideas), truncated=bool(data.get("truncated", False)))


# --- Patterns -----------------------------------------------------------------------------

_GAP = re.compile(r"\s*\{gap(?::(\d{1,2}))?\}\s*")
_NEG_WORDS = r"(?:not|no|never|cannot|without|nothing|none|neither|nor)"
_BROAD = {"ANY", "NOT_LITERAL"}


def _expand(pattern: str) -> str:
    """Replace the shorthands {gap}, {gap:N} and {neg} by the regular expressions they mean."""

    def gap(match: re.Match[str]) -> str:
        words = DEFAULT_GAP_WORDS if match.group(1) is None else int(match.group(1))
        return rf"(?:\W+\w+){{0,{min(words, MAX_GAP_WORDS)}}}?\W+"

    return _GAP.sub(gap, pattern).replace("{neg}", _NEG_WORDS)


def _is_broad(item: tuple[Any, Any]) -> bool:
    """Return whether one parsed regex item matches (nearly) any character."""
    op, arg = item
    if str(op) in _BROAD:
        return True
    if str(op) == "IN":
        kinds = [(str(o), a) for o, a in arg]
        if any(o == "NEGATE" for o, _ in kinds):
            return True
        return any(
            o == "CATEGORY" and str(a) in ("CATEGORY_NOT_WORD", "CATEGORY_NOT_SPACE")
            for o, a in kinds
        )
    return False


def _tree_problem(items: Iterable[tuple[Any, Any]]) -> str | None:
    """Return what makes a parsed pattern unsafe to run on learners' text, or None."""
    broad = 0
    for op, arg in items:
        name = str(op)
        if name in ("GROUPREF", "GROUPREF_EXISTS"):
            return "Back-references are not allowed."
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            _, high, body = arg
            body = list(body)
            single = len(body) == 1 and str(body[0][0]) in (
                "LITERAL",
                "NOT_LITERAL",
                "IN",
                "ANY",
                "CATEGORY",
            )
            if high > 1 and not single:
                return (
                    "Only '?' may follow a group or a run of characters; '*', '+' and "
                    "'{m,n}' apply to one character or class (use {gap} for words between)."
                )
            if single and _is_broad(body[0]) and high > 1:
                if high > MAX_BROAD_REPEAT:
                    return (
                        f"Bound a repeat of '.' or a negated class, e.g. .{{0,{MAX_BROAD_REPEAT}}} "
                        "(or use {gap})."
                    )
                broad += 1
            problem = _tree_problem(body)
            if problem:
                return problem
            continue
        if name == "SUBPATTERN":
            problem = _tree_problem(arg[-1])
        elif name == "BRANCH":
            problem = next((p for branch in arg[1] if (p := _tree_problem(branch))), None)
        elif name in ("ASSERT", "ASSERT_NOT"):
            problem = _tree_problem(arg[1])
        elif name == "ATOMIC_GROUP":
            problem = _tree_problem(arg)
        else:
            problem = None
        if problem:
            return problem
    if broad > 1:
        return "Use at most one repeat of '.' or of a negated class per pattern."
    return None


@lru_cache(maxsize=4096)
def pattern_problem(pattern: str) -> str | None:
    """Return why `pattern` cannot be used (empty, too long, not a regular expression, or one
    that could take exponential time or match empty text), or None when it is fine."""
    if not pattern.strip():
        return "The pattern is empty."
    if len(pattern) > MAX_PATTERN_CHARS:
        return f"Keep a pattern under {MAX_PATTERN_CHARS} characters."
    for match in _GAP.finditer(pattern):
        if match.group(1) is not None and int(match.group(1)) > MAX_GAP_WORDS:
            return f"{{gap:N}} takes at most {MAX_GAP_WORDS} words."
    try:
        compiled = re.compile(_expand(pattern), re.IGNORECASE)
        # The shorthands are generated safe: check the author's own part.
        plain = _GAP.sub(" ", pattern).replace("{neg}", "no")
        parsed = re.compile(plain, re.IGNORECASE)
        tree = _parse(parsed.pattern)
    except re.error as error:
        return f"Not a valid regular expression: {error}."
    problem = _tree_problem(tree)
    if problem:
        return problem
    if compiled.search("") is not None:
        return "The pattern matches empty text, so it would match anything."
    return None


def _parse(pattern: str) -> list[tuple[Any, Any]]:
    from re import _parser  # type: ignore[attr-defined,unused-ignore]

    return list(_parser.parse(pattern, re.IGNORECASE))


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    """Return the compiled pattern, or None for one `pattern_problem` refuses."""
    if pattern_problem(pattern) is not None:
        return None
    return re.compile(_expand(pattern), re.IGNORECASE)


# --- Normalising the text -----------------------------------------------------------------

_CHAR_MAP = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201b": "'",
    "\u2032": "'",
    "`": "'",
    "\u00b4": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2033": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2212": "-",
    "\ufe63": "-",
    "\uff0d": "-",
    "\u2014": " - ",
    "\u2015": " - ",
    "\u00d7": "*",
    "\u22c5": "*",
    "\u00b7": "*",
    "\u2219": "*",
    "\u2022": " ",
    "\u00f7": "/",
    "\u2044": "/",
    "\u2215": "/",
    "\u2026": "...",
    "\u2211": " sum ",
    "\u03a3": " sum ",
    "\u2248": "~",
    "\u2192": " -> ",
    "\u21d2": " -> ",
    "&": " and ",
    # Cyrillic and Greek letters that look Latin (a common way to dodge a filter).
    "\u0430": "a",
    "\u0435": "e",
    "\u043e": "o",
    "\u0440": "p",
    "\u0441": "c",
    "\u0445": "x",
    "\u0443": "y",
    "\u0456": "i",
    "\u0455": "s",
    "\u03bf": "o",
}


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_CONTRACTIONS = {
    "can't": "can not",
    "cant": "can not",
    "won't": "will not",
    "wont": "will not",
    "shan't": "shall not",
    "ain't": "is not",
    "aint": "is not",
    "it's": "it is",
    "that's": "that is",
    "there's": "there is",
    "what's": "what is",
    "here's": "here is",
    "he's": "he is",
    "she's": "she is",
    "who's": "who is",
    "where's": "where is",
    "let's": "let us",
    "i'm": "i am",
    "thru": "through",
}
_NOT_BASES = _words(
    "do does did is are was were has have had could would should must need might dare"
)
_CONTRACTIONS.update({f"{base}nt": f"{base} not" for base in _NOT_BASES})
_SUFFIXES = {"'re": " are", "'ll": " will", "'ve": " have", "'d": " would"}

# Words explanations of dropout use, so a misspelling of them can be recognised.
DOMAIN_WORDS = _words(
    """
    dropout dropped dropping drops neuron neurons unit units activation activations output
    outputs input inputs weight weights weighted bias biases layer layers hidden network
    networks model models train training trained inference testing evaluation deploy deployed
    deployment prediction predictions predict random randomly probability probabilities chance
    mask masks masking zero zeroed zeroes zeroing multiply multiplied multiplies divide divided
    divides dividing scale scaled scaling rescale rescaled rescaling expected expectation
    average averaging averaged mean consistent consistency regularise regularize regulariser
    regularizer regularises regularizes regularisation regularization overfit overfitting
    overfits underfit underfitting underfits adaptation rely relying depend depending
    independent independently every each pass passes forward backward backpropagation backprop
    gradient gradients update updates updated step steps iteration iterations epoch epochs
    batch example examples sample samples sampling data dataset augmentation faster slower
    speed longer converge convergence converges computed computation compute calculated skipped
    ensemble ensembles bagging separate subnetwork subnetworks thinned exponentially shared
    share sharing deterministic stochastic uncertainty uncertain spread variance monte carlo
    permanently permanent temporary temporarily removed removes pruning pruned strongest
    weakest important validation hyperparameter typical typically increase increases
    increasing decrease decreases raise raising noise noisy signal keep kept keeping retain
    retained retention rate classic inverted identity nothing function nonlinear linear
    nonlinearity sigmoid relu tanh learned learns learning parameters parameter adjusted
    optimiser optimizer settings recomputed because different particular other others another
    whether therefore instead identical during between without through against version
    versions active inactive switched silenced remains stays error errors perform performance
    representation features feature robust redundant coadaptation adapt sum summed sums
    multiplied multiplies multiplying added adding coefficient coefficients offset trainable
    gradient descent nonlinearity underfits underfitting overfitted augmented augmentation
    """
)
# Ordinary words a one-letter correction must never turn into a domain word.
COMMON_WORDS = _words(
    """
    about above after again against along already also always among around asked away
    based became become before began being below better between beyond bigger both bring
    built cause certain change changed changes clear close comes could doing done down
    during early either enough even every exact exactly fewer first found four given gives
    going great group happen happens having here however itself known large later least
    leave less level light lines little longer lower makes many maybe means might model
    modes more most much must never newer next none nothing often order other others
    people place point quite rather really right same seems sense several shall should
    shows since small smaller some something sometimes still such taken takes tells than
    that their them then there these they thing things think those though three times
    today together total under until upper using very want ways well were what when where
    whether which while whole will with within without words work works world would years
    your
    """
)


@dataclass
class _Mapped:
    """Normalised text with, per character, the span of the original it came from."""

    text: str
    starts: list[int]
    ends: list[int]

    def sub(self, pattern: re.Pattern[str], replace: Any) -> _Mapped:
        """Return the text with each match of `pattern` replaced by replace(match)."""
        text: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        last = 0
        for match in pattern.finditer(self.text):
            begin, end = match.span()
            if begin == end:
                continue
            new = replace(match)
            text.append(self.text[last:begin])
            starts.extend(self.starts[last:begin])
            ends.extend(self.ends[last:begin])
            if new == match.group(0):
                text.append(new)
                starts.extend(self.starts[begin:end])
                ends.extend(self.ends[begin:end])
            else:
                text.append(new)
                starts.extend([self.starts[begin]] * len(new))
                ends.extend([self.ends[end - 1]] * len(new))
            last = end
        text.append(self.text[last:])
        starts.extend(self.starts[last:])
        ends.extend(self.ends[last:])
        return _Mapped("".join(text), starts, ends)


def _char_normalise(text: str) -> _Mapped:
    """Map each character to plain lower-case ASCII where it has a plain form."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for index, char in enumerate(text):
        mapped = _CHAR_MAP.get(char)
        if mapped is None:
            if char in "\n\r\u2028\u2029":
                mapped = "\n"
            elif char.isspace():
                mapped = " "
            else:
                category = unicodedata.category(char)
                if category == "Cf":
                    mapped = ""
                elif category.startswith("C"):
                    mapped = " "
                else:
                    decomposed = unicodedata.normalize("NFKD", char)
                    mapped = "".join(
                        c for c in decomposed if not unicodedata.combining(c)
                    ).casefold()
        out.append(mapped)
        starts.extend([index] * len(mapped))
        ends.extend([index + 1] * len(mapped))
    return _Mapped("".join(out), starts, ends)


_SPACES = re.compile(r"[ \t]*\n[\s]*|[ \t]{2,}")
_LONG_WORD = re.compile(rf"[a-z0-9]{{{MAX_WORD_CHARS + 1},}}")
_LONG_PUNCT = re.compile(r"([^\w\s])\1{3,}|[^\w\s]{8,}")
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_SHORTHAND = re.compile(r"\bw/(?=\s)|\bb/c\b")
# Spaces around an operator between numbers, variables and brackets: "1 - p" -> "1-p".
_MATH = re.compile(r"(?<=[\w)\]]) ?([-+*/=]) ?(?=[\w(\[])")
_BRACKET_SPACE = re.compile(r"[(\[] (?=[\w(\[])|(?<=[\w)\]]) [)\]]")
_MATH_OPERAND = re.compile(r"(?:\d|\b[a-z]\b|[)\]])$")


def _split_long_word(match: re.Match[str]) -> str:
    word = match.group(0)
    return " ".join(word[i : i + MAX_WORD_CHARS] for i in range(0, len(word), MAX_WORD_CHARS))


def _math_join(mapped: _Mapped) -> _Mapped:
    def join(match: re.Match[str]) -> str:
        before = mapped.text[max(0, match.start() - 3) : match.start()]
        after = mapped.text[match.end() : match.end() + 3]
        left = bool(_MATH_OPERAND.search(before))
        right = bool(re.match(r"(?:\d|[a-z]\b|[(\[])", after))
        return match.group(1) if left and right else match.group(0)

    return mapped.sub(_MATH, join)


@lru_cache(maxsize=64)
def _deletion_index(vocabulary: frozenset[str]) -> dict[str, tuple[str, ...]]:
    index: dict[str, set[str]] = {}
    for word in vocabulary:
        if len(word) < 4:
            continue
        for i in range(len(word)):
            index.setdefault(word[:i] + word[i + 1 :], set()).add(word)
    return {key: tuple(sorted(words)) for key, words in index.items()}


def _one_edit(a: str, b: str) -> bool:
    """Return whether a and b differ by one insertion, deletion, substitution or swap."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def _correction(word: str, vocabulary: frozenset[str]) -> str | None:
    """Return the vocabulary word `word` misspells by one letter, if exactly one fits."""
    if len(word) < 5 or "'" in word or word in vocabulary or word in COMMON_WORDS:
        return None
    if any(word[:k] in vocabulary for k in range(4, len(word))):
        return None  # an inflection of a known word ("trains", "dropped")
    index = _deletion_index(vocabulary)
    candidates: set[str] = set(index.get(word, ()))
    for i in range(len(word)):
        shorter = word[:i] + word[i + 1 :]
        if shorter in vocabulary:
            candidates.add(shorter)
        candidates.update(index.get(shorter, ()))
    fitting = sorted(w for w in candidates if _one_edit(word, w))
    # A substitution in a short word is too often another real word ("later", "layer").
    fitting = [w for w in fitting if len(word) >= 6 or len(w) != len(word) or _swapped(word, w)]
    return fitting[0] if len(fitting) == 1 else None


def _swapped(a: str, b: str) -> bool:
    return sorted(a) == sorted(b)


def text_normalise(text: str, vocabulary: frozenset[str] = DOMAIN_WORDS) -> str:
    """Return the text as the patterns see it (see the module's docstring)."""
    return _normalised(text, vocabulary)[0].text


def _normalised(text: str, vocabulary: frozenset[str]) -> tuple[_Mapped, bool]:
    truncated = len(text) > MAX_READ_CHARS
    mapped = _char_normalise(text[:MAX_READ_CHARS])
    mapped = mapped.sub(_LONG_WORD, _split_long_word)
    mapped = mapped.sub(_LONG_PUNCT, lambda m: m.group(0)[:3])
    mapped = mapped.sub(_SHORTHAND, lambda m: "with" if m.group(0) == "w/" else "because")

    def word(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in _CONTRACTIONS:
            return _CONTRACTIONS[token]
        if token.endswith("n't"):
            return token[:-3] + " not"
        if token.endswith("'s"):
            return (_correction(token[:-2], vocabulary) or token[:-2]) + "'s"
        for suffix, full in _SUFFIXES.items():
            if token.endswith(suffix):
                return token[: -len(suffix)] + full
        corrected = _correction(token, vocabulary)
        return corrected or token

    mapped = mapped.sub(_WORD, word)
    mapped = _math_join(mapped)
    mapped = mapped.sub(_BRACKET_SPACE, lambda m: m.group(0).strip())
    mapped = mapped.sub(_SPACES, lambda m: "\n" if "\n" in m.group(0) else " ")
    return mapped, truncated


# --- Sentences and what they assert -------------------------------------------------------

_ABBREVIATIONS = ("e.g", "i.e", "et al", "vs", "cf", "fig", "eq", "approx", "resp", "prob", "etc")
_SENTENCE_END = re.compile(r"[.!?;]+(?=\s|$)|\n")
_NEGATION = re.compile(
    r"\b(?:not(?! only\b| just\b| merely\b| simply\b)|no(?! matter\b| doubt\b)|never|neither"
    r"|nor|without|cannot|none|nothing|nobody|hardly|barely|instead of|rather than|unlike"
    r"|lack of|fails? to|far from|regardless of|irrespective of|independent(?:ly)? of)\b"
)
_ATTRIBUTION = re.compile(
    r"\b(?:(?:some|many|most|other|a lot of)\s+)?(?:people|students|learners|others|beginners"
    r"|folks|newcomers)\s+(?:\w+\s+)?(?:think|thinks|believe|believes|assume|assumes|say"
    r"|says|claim|claims|imagine|expect|expects)\b"
    r"|\b(?:you|one|we)\s+(?:might|may|could|would)\s+(?:think|believe|assume|expect)\b"
    r"|\b(?:myth|misconception|mistake|misunderstanding|fallacy|misbelief)\s+(?:is\s+)?"
    r"(?:that|to\s+think|to\s+believe|to\s+say)\b"
    r"|\bit\s+is\s+(?:not\s+true|false|wrong|a\s+myth|untrue|incorrect|not\s+the\s+case)"
    r"\s+(?:that|to)\b"
    r"|\bcontrary\s+to\b|\b(?:the|a)\s+(?:idea|belief|claim|notion|assumption)\s+that\b"
    r"|\bas\s+if\b|\bwrongly\b|\bmistakenly\b"
)
_CLAUSE_END = re.compile(
    r"[,;:()\[\]\"]| - |\b(?:but|however|yet|although|though|whereas|while|instead|so"
    r"|because|since|which|and|then)\b"
)
_ATTRIBUTION_END = re.compile(
    r"\b(?:but|however|yet|actually|although|though|whereas|instead|really|in fact|in reality)"
    r"\b|:| - "
)
_DISCLAIMER = re.compile(
    r"^\W*(?:wrong|false|untrue|incorrect|not true|not correct|nope)\b"
    r"|\b(?:which|that|this|it)\s+(?:is|was)\s+(?:wrong|false|untrue|incorrect|a myth"
    r"|a misconception|not true|not correct|not the case|a bug|a mistake)\b"
)
_DISCLAIMER_SENTENCE = re.compile(
    r"^\W*(?:(?:that|this|it)\s+is\s+)?(?:wrong|false|untrue|incorrect|a myth|not true|nope)\b"
)
# A pattern that writes a negation in means it: a negation inside its match is its own.
_OWN_NEGATION = re.compile(
    r"\{neg\}|\b(?:not|no|never|cannot|without|nothing|none|nobody|neither|nor|hardly|barely"
    r"|unlike|instead|rather)\b"
)
_NEGATION_WORDS = 8
_ATTRIBUTION_WORDS = 25
_DISCLAIMER_WORDS = 10


@dataclass(frozen=True)
class _Sentence:
    start: int  # offset in the normalised text
    text: str
    # (where a negation or attribution begins, where its scope begins, where it ends)
    scopes: tuple[tuple[int, int, int], ...]
    is_question: bool

    def asserts(
        self, begin: int, end: int, next_sentence: _Sentence | None, own_negation: bool
    ) -> bool:
        """Return whether the sentence asserts what a pattern matched at [begin, end)."""
        if self.is_question:
            return False
        for cue, scope, high in self.scopes:
            if scope <= begin < high:
                return False
            if not own_negation and begin <= cue < end:
                return False
        after = " ".join(self.text[end:].split()[:_DISCLAIMER_WORDS])
        if _DISCLAIMER.search(after):
            return False
        return not (
            next_sentence is not None
            and len(next_sentence.text.split()) <= 6
            and _DISCLAIMER_SENTENCE.match(next_sentence.text)
        )


def _scope_end(text: str, begin: int, ends: re.Pattern[str], words: int) -> int:
    boundary = ends.search(text, begin)
    stop = boundary.start() if boundary else len(text)
    for count, match in enumerate(re.finditer(r"\S+", text[begin:stop]), start=1):
        if count >= words:
            return begin + match.end()
    return stop


def _scopes(text: str) -> tuple[tuple[int, int, int], ...]:
    spans = [
        (m.start(), m.end(), _scope_end(text, m.end(), _CLAUSE_END, _NEGATION_WORDS))
        for m in _NEGATION.finditer(text)
    ]
    spans += [
        (m.start(), m.end(), _scope_end(text, m.end(), _ATTRIBUTION_END, _ATTRIBUTION_WORDS))
        for m in _ATTRIBUTION.finditer(text)
    ]
    return tuple(spans)


def _sentences(text: str) -> tuple[list[_Sentence], bool]:
    pieces: list[tuple[int, str, bool]] = []
    begin = 0
    for match in _SENTENCE_END.finditer(text):
        before = text[max(0, match.start() - 7) : match.start()]
        if match.group(0).startswith(".") and any(
            re.search(rf"(?:^|\W){re.escape(a)}$", before) for a in _ABBREVIATIONS
        ):
            continue
        pieces.append((begin, text[begin : match.end()], "?" in match.group(0)))
        begin = match.end()
    if begin < len(text):
        pieces.append((begin, text[begin:], False))
    sentences: list[_Sentence] = []
    for start, piece, question in pieces:
        offset = 0
        while offset < len(piece):
            chunk = piece[offset : offset + MAX_SENTENCE_CHARS]
            if offset + MAX_SENTENCE_CHARS < len(piece) and " " in chunk:
                chunk = chunk[: chunk.rindex(" ") + 1]
            if chunk.strip():
                sentences.append(_Sentence(start + offset, chunk, _scopes(chunk), question))
            offset += len(chunk)
    return sentences[:MAX_SENTENCES], len(sentences) > MAX_SENTENCES


# --- Reading ------------------------------------------------------------------------------


@dataclass
class _Text:
    original: str
    mapped: _Mapped
    sentences: list[_Sentence]
    truncated: bool
    _hits: dict[str, list[tuple[int, int, int]]] = field(default_factory=dict)

    def hits(self, pattern: str) -> list[tuple[int, int, int]]:
        """Return (sentence index, start, end) of each asserted match, at most one a sentence."""
        if pattern not in self._hits:
            compiled = _compiled(pattern)
            own_negation = bool(_OWN_NEGATION.search(pattern.casefold()))
            found: list[tuple[int, int, int]] = []
            if compiled is not None:
                for index, sentence in enumerate(self.sentences):
                    following = (
                        self.sentences[index + 1] if index + 1 < len(self.sentences) else None
                    )
                    for match in compiled.finditer(sentence.text):
                        if match.end() > match.start() and sentence.asserts(
                            match.start(), match.end(), following, own_negation
                        ):
                            found.append(
                                (
                                    index,
                                    sentence.start + match.start(),
                                    sentence.start + match.end(),
                                )
                            )
                            break
            self._hits[pattern] = found
        return self._hits[pattern]

    def quote(self, spans: Sequence[tuple[int, int]]) -> str:
        """Return the learner's own words behind normalised spans, joined by ' … '."""
        pieces = []
        for begin, end in sorted(spans):
            low, high = self.mapped.starts[begin], self.mapped.ends[end - 1]
            while low > 0 and self.original[low - 1].isalnum():
                low -= 1
            while high < len(self.original) and self.original[high].isalnum():
                high += 1
            pieces.append((low, high))
        merged: list[list[int]] = []
        for low, high in pieces:
            if (
                merged
                and low - merged[-1][1] <= QUOTE_CHARS // 2
                and high - merged[-1][0] <= QUOTE_CHARS
            ):
                merged[-1][1] = max(merged[-1][1], high)
            else:
                merged.append([low, high])
        text = " … ".join(" ".join(self.original[a:b].split()) for a, b in merged)
        return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1].rstrip() + "…"


@lru_cache(maxsize=64)
def _vocabulary(ideas: tuple[IdeaCriteria, ...]) -> frozenset[str]:
    words = set(DOMAIN_WORDS)
    for idea in ideas:
        words.update(re.findall(r"[a-z]{4,}", idea.idea.casefold()))
        patterns = [p for group in idea.must_say for p in group]
        patterns += [claim.pattern for claim in idea.must_not_claim]
        for pattern in patterns:
            plain = re.sub(r"\\.|\{[^}]*\}|\[[^\]]*\]", " ", pattern.casefold())
            words.update(w for w in re.findall(r"[a-z]+", plain) if len(w) >= 5)
    return frozenset(words)


def _read_idea(text: _Text, idea: IdeaCriteria) -> IdeaReading:
    claims: dict[str, tuple[int, int]] = {}
    for claim in idea.must_not_claim:
        hits = text.hits(claim.pattern)
        if hits and claim.code not in claims:
            claims[claim.code] = hits[0][1:]
    if claims:
        ordered = sorted(claims.items(), key=lambda item: item[1])
        return IdeaReading(
            verdict=Verdict.CONTRADICTS,
            quote=text.quote([ordered[0][1]]),
            claims=tuple(ClaimRead(code, text.quote([span])) for code, span in ordered),
        )
    if not idea.must_say:
        return IdeaReading(verdict=Verdict.MISSING)
    by_group: list[dict[int, tuple[int, int]]] = []
    for group in idea.must_say:
        sentences: dict[int, tuple[int, int]] = {}
        for pattern in group:
            for index, begin, end in text.hits(pattern):
                if index not in sentences or begin < sentences[index][0]:
                    sentences[index] = (begin, end)
        if not sentences:
            return IdeaReading(verdict=Verdict.MISSING)
        by_group.append(sentences)
    candidates = sorted(set().union(*(set(s) for s in by_group)))
    for first in candidates:
        spans = []
        for sentences in by_group:
            span = sentences.get(first) or sentences.get(first + 1)
            if span is None:
                break
            spans.append(span)
        else:
            return IdeaReading(verdict=Verdict.FOUND, quote=text.quote(spans))
    return IdeaReading(verdict=Verdict.MISSING)


def explanation_read(text: str, ideas: Sequence[IdeaCriteria]) -> Reading:
    """Return the reading of `text` against the key ideas' criteria, one verdict per idea."""
    vocabulary = _vocabulary(tuple(ideas))
    mapped, truncated = _normalised(text, vocabulary)
    sentences, cut = _sentences(mapped.text)
    prepared = _Text(text[:MAX_READ_CHARS], mapped, sentences, truncated or cut)
    return Reading(
        ideas=tuple(_read_idea(prepared, idea) for idea in ideas), truncated=prepared.truncated
    )
