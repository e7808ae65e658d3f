"""A form fuzzer beside the API's property tests: hostile values in every HTML form.

The learner's quiz pages, guided practice, the instructor's pages and the LTI deep-linking
picker are fetched as the right user in a realistic state (attempts in progress over every
question type and submitted with an explain-back, practice steps of every kind, a course
with an explain-back to review), their links followed, and every <form> parsed with the
standard library's HTML parser (method, action, fields). Each distinct form (method,
action's route, field names) is sent its own values with one field at a time made hostile:
Unicode digits that str.isdigit() accepts (², ٣), a 5,000-digit number, a NUL character,
1 MB of text, the field left out and the field repeated; and once with unknown fields.
Query strings in links are forms too, and so are the LTI login and launch the LMS posts.

Every answer must be below 500: a 4xx, a form shown again with its error, or a redirect.
A refusal (4xx, or a redirect carrying an error message) must change nothing, and no
request may leave a NUL character in the database. Each request runs in a savepoint that
is rolled back, so every variant meets the same state. CI runs this on SQLite and again
on PostgreSQL (`.ci/run`), where a NUL in a query is an error of the database itself.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urldefrag, urljoin, urlsplit

import pytest
from django.apps import apps
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.db import connection, transaction
from django.test import Client
from django.urls import Resolver404, resolve
from django.utils import timezone

from assessments.answers import AnswerInput
from assessments.catalog import catalog_load
from assessments.models import Question, Quiz
from assessments.services import attempt_start, attempt_submit, response_save
from courses.models import Course, Enrollment
from lti.models import Context, DeepLinkRequest, Deployment, Platform
from practice.instructor_services import confused_pair_add, practice_items_arrange
from practice.services import session_open, session_stop
from tests.factories import (
    UserFactory,
    explain,
    multiple,
    numeric,
    quiz_of,
    single,
    true_false,
    two_tier,
)
from tests.practice.scripted import ScriptedLearner

pytestmark = pytest.mark.django_db

HOSTILE = {
    "superscript two": "²",  # str.isdigit() says yes, int() says no
    "Arabic-Indic three": "٣",  # int() reads it as 3
    "5,000 digits": "9" * 5000,  # int() refuses more than 4,300
    "NUL": "1\x00",  # PostgreSQL refuses it in any text
    "1 MB": "x" * 1_000_000,
}
FILLER = "3"  # what an empty box gets: a valid number, confidence, id-free text
UNKNOWN = [("unknown", "²"), ("unknown\x00", "\x00"), ("choice-tier9", "9" * 5000)]
# Where the crawl does not go: the admin, log-out and password pages, the API (the
# property tests cover it), and the LTI endpoints an LMS calls (sent as forms below).
NOT_CRAWLED = ("/admin/", "/accounts/", "/api/", "/static/", "/lti/")
PAGES_AT_MOST = 150
# Content the pages under test only read; left out of the before/after comparison.
CONTENT = {"misconception", "questionbank", "question", "choice", "numericdistractor"}
CONTENT |= {"quizsection", "blueprintrule"}
STATE_APPS = {"auth", "courses", "assessments", "grader", "practice", "lms", "lti"}


# --- Parsing pages -------------------------------------------------------------------------


@dataclass
class Control:
    name: str
    kind: str  # an <input>'s type, or "textarea", "select", "button"
    value: str = ""
    checked: bool = False
    disabled: bool = False
    options: list[tuple[str, bool]] = field(default_factory=list)  # a select's (value, selected)


@dataclass
class Form:
    page: str
    method: str
    action: str
    controls: list[Control] = field(default_factory=list)
    may_change: frozenset[str] = frozenset()  # tables a refusal changes by design

    def baseline(self) -> list[tuple[str, str]]:
        """What a browser sends, with the first radio of a group chosen and empty boxes
        filled, so that each hostile field meets otherwise usable values."""
        data: list[tuple[str, str]] = []
        radios: set[str] = set()
        button = False
        for control in self.controls:
            if control.disabled:
                continue
            if control.kind == "checkbox" and control.checked:
                data.append((control.name, control.value))
            elif control.kind == "radio" and control.name not in radios:
                group = [c for c in self.controls if c.kind == "radio" and c.name == control.name]
                radios.add(control.name)
                data.append((control.name, next((c for c in group if c.checked), group[0]).value))
            elif control.kind in ("button", "submit") and not button:
                button = True
                data.append((control.name, control.value))
            elif control.kind == "select":
                values = [v for v, selected in control.options if selected]
                values += [v for v, _ in control.options if v]
                data.append((control.name, values[0] if values else ""))
            elif control.kind not in ("checkbox", "radio", "button", "submit", "file", "reset"):
                data.append((control.name, control.value or FILLER))
        return data

    def fields(self) -> list[str]:
        """One field of each family (`position-12`, `position-13`: one), in page order;
        not the CSRF token, which the test client does not check."""
        chosen: dict[str, str] = {}
        for control in self.controls:
            if control.name != "csrfmiddlewaretoken":
                chosen.setdefault(re.sub(r"\d+", "#", control.name), control.name)
        return list(chosen.values())

    def signature(self) -> tuple[str, str, frozenset[str]]:
        families = frozenset(re.sub(r"\d+", "#", c.name) for c in self.controls)
        return (self.method, _route(self.action), families)


class PageParser(HTMLParser):
    """Collect a page's forms and the links on it."""

    def __init__(self, url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.url = url
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._form: Form | None = None
        self._textarea: Control | None = None
        self._select: Control | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(urldefrag(urljoin(self.url, a["href"]))[0])
        elif tag == "form":
            self._form = Form(
                page=self.url,
                method=(a.get("method") or "get").lower(),
                action=urljoin(self.url, a.get("action") or self.url),
            )
            self.forms.append(self._form)
        elif self._form is None or not (a.get("name") or tag == "option"):
            return
        elif tag == "input":
            kind = (a.get("type") or "text").lower()
            value = a.get("value", "on" if kind in ("checkbox", "radio") else "")
            control = Control(a["name"], kind, value, "checked" in a, "disabled" in a)
            self._form.controls.append(control)
        elif tag == "button":
            button = Control(a["name"], "button", a.get("value", ""), disabled="disabled" in a)
            self._form.controls.append(button)
        elif tag == "textarea":
            self._textarea = Control(a["name"], "textarea", disabled="disabled" in a)
            self._form.controls.append(self._textarea)
        elif tag == "select":
            self._select = Control(a["name"], "select", disabled="disabled" in a)
            self._form.controls.append(self._select)
        elif tag == "option" and self._select is not None:
            self._select.options.append((a.get("value", ""), "selected" in a))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None


def _route(url: str) -> str:
    try:
        return str(resolve(urlsplit(url).path).route)
    except Resolver404:
        return urlsplit(url).path


def _ours(url: str) -> bool:
    parts = urlsplit(url)
    return parts.netloc in ("", "testserver") and not parts.path.startswith(NOT_CRAWLED)


def _link_form(url: str) -> Form | None:
    """A link with a query string, as the GET form it amounts to."""
    parts = urlsplit(url)
    if not parts.query:
        return None
    form = Form(page=url, method="get", action=parts._replace(query="").geturl())
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        form.controls.append(Control(name, "text", value))
    return form


def crawl(
    client: Client, seeds: list[str], problems: list[str], within: Callable[[str], bool]
) -> list[Form]:
    """Fetch the seeds and the pages they link to whose path `within` accepts; return
    every distinct form found there."""
    queue, seen = list(seeds), set[str]()
    forms: dict[tuple[str, str, frozenset[str]], Form] = {}
    while queue and len(seen) < PAGES_AT_MOST:
        url = queue.pop(0)
        if url in seen or not _ours(url) or not within(urlsplit(url).path):
            continue
        seen.add(url)
        response = client.get(url)
        if response.status_code >= 500:
            problems.append(f"{response.status_code} on GET {url}")
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        parser = PageParser(url)
        parser.feed(response.content.decode())
        found = [f for f in parser.forms if _ours(f.action)]
        found += [form for link in parser.links if _ours(link) and (form := _link_form(link))]
        found = [form for form in found if within(urlsplit(form.action).path)]
        for form in found:
            if form.method == "get":
                # Listing pages read ?page= from pagination links, which a state this small
                # does not render: every GET form is sent a page too.
                form.controls.append(Control("page", "text", "1"))
            forms.setdefault(form.signature(), form)
        queue.extend(link for link in parser.links if link not in seen)
    return list(forms.values())


# --- Sending hostile values ----------------------------------------------------------------


def variants(form: Form, done: set[tuple[str, str]]) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """Yield (what is hostile, the data to send) for each hostile change of the form.

    A field already made hostile in another form to the same view (the confidence of
    each question type's form, say) is not again: the view parses it the same way."""
    base = form.baseline()
    for name in form.fields():
        key = (f"{form.method} {_route(form.action)}", re.sub(r"\d+", "#", name))
        if key in done:
            continue
        done.add(key)
        others = [(k, v) for k, v in base if k != name]
        own = [(k, v) for k, v in base if k == name] or [(name, FILLER)]
        for label, value in HOSTILE.items():
            yield f"{name}={label}", [*others, (name, value)]
        yield f"{name} missing", others
        yield f"{name} repeated", [*base, *own] if name in dict(base) else [*base, *own, *own]
    yield "unknown fields", [*base, *UNKNOWN]


def _as_query(data: list[tuple[str, str]]) -> dict[str, list[str]]:
    sent: dict[str, list[str]] = {}
    for name, value in data:
        sent.setdefault(name, []).append(value)
    return sent


def _state_models() -> list[Any]:
    kept = []
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.app_label not in STATE_APPS or str(meta.model_name).split("_")[0] in CONTENT:
            continue
        if meta.app_label == "auth" and meta.model_name not in ("user", "user_groups"):
            continue
        kept.append(model)
    return kept


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row the pages may write, table by table (one query counts them all; only
    tables with rows are read)."""
    models = _state_models()
    quote = connection.ops.quote_name
    counts = " UNION ALL ".join(  # our own models' table names, quoted
        f"SELECT {i}, COUNT(*) FROM {quote(model._meta.db_table)}"  # noqa: S608
        for i, model in enumerate(models)
    )
    with connection.cursor() as cursor:
        cursor.execute(counts)
        filled = {index for index, count in cursor.fetchall() if count}
    return {
        model._meta.label: list(model._base_manager.order_by("pk").values_list())
        if i in filled
        else []
        for i, model in enumerate(models)
    }


def _refused_by_message(response: Any) -> bool:
    if response.status_code not in (301, 302, 303):
        return False
    return any(m.level >= message_levels.ERROR for m in get_messages(response.wsgi_request))


@dataclass
class Run:
    problems: list[str] = field(default_factory=list)
    requests: int = 0
    forms: int = 0


def fuzz(client: Client, forms: list[Form], run: Run) -> None:
    """Send every variant of every form; record each 5xx, change after a refusal, NUL kept."""
    before = snapshot()
    done: set[tuple[str, str]] = set()
    for form in forms:
        run.forms += 1
        path = urlsplit(form.action).path
        for label, data in variants(form, done):
            client.cookies.pop("messages", None)  # a refusal's message is this request's
            with transaction.atomic():
                send = client.post if form.method == "post" else client.get
                response = send(path, _as_query(data))
                run.requests += 1
                where = f"{form.method.upper()} {_route(form.action)} with {label}"
                if response.status_code >= 500:
                    exc_info = getattr(response, "exc_info", None)  # set by the test client
                    error = exc_info[1] if exc_info else None
                    run.problems.append(f"{response.status_code} on {where}: {error!r:.200}")
                else:
                    refused = response.status_code >= 400 or _refused_by_message(response)
                    nul = any("\x00" in k + v for k, v in data)
                    if refused or nul:
                        after = snapshot()
                        changed = sorted(
                            k for k in after if after[k] != before[k] and k not in form.may_change
                        )
                        if refused and changed:
                            run.problems.append(f"refused but changed {changed} on {where}")
                        if "\\x00" in repr(after):
                            run.problems.append(f"a NUL was stored on {where}")
                transaction.set_rollback(True)


def _report(run: Run, started: float, name: str) -> None:
    seconds = time.monotonic() - started
    print(f"\n{name}: {run.forms} forms, {run.requests} requests, {seconds:.1f} s")
    assert not run.problems, "\n".join(run.problems)


def _client(user: Any) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _routes(forms: list[Form]) -> set[str]:
    return {f"{form.method} {_route(form.action)}" for form in forms}


# --- The learner's quizzes -----------------------------------------------------------------


def _learner_quiz_pages(path: str) -> bool:
    return not path.startswith(("/practice/", "/instructor/"))


def test_quiz_forms_answer_hostile_values_without_a_5xx(learner):
    # given: an attempt in progress over every question type (and the code quiz), and a
    # submitted one whose results ask for an explain-back and a self-assessment
    started = time.monotonic()
    catalog_load()
    course = Course.objects.create(slug="fuzz-quiz", title="Fuzz quiz")
    Enrollment.objects.create(course=course, learner=learner)
    questions = (single(), multiple(), true_false(), two_tier(), numeric(), explain())
    open_quiz = quiz_of(*questions, course=course, slug="fuzz-open")
    attempts = [
        attempt_start(quiz=open_quiz, learner=learner),
        attempt_start(quiz=Quiz.objects.get(slug="dropout-code"), learner=learner),
    ]
    done_quiz = quiz_of(single(), explain(), course=course, slug="fuzz-done")
    done = attempt_start(quiz=done_quiz, learner=learner)
    wrong = done.responses.get(slot=1).question.choices.filter(is_correct=False).first()
    assert wrong is not None
    for slot, answer in (
        (1, AnswerInput(choice_ids=[wrong.id], confidence=5)),
        (2, AnswerInput(text="Dropout drops units at random while training.", confidence=4)),
    ):
        response_save(attempt_id=done.id, learner=learner, slot=slot, answer=answer)
    attempt_submit(attempt_id=done.id, learner=learner)
    seeds = ["/", f"/attempts/{done.id}/results/"]
    for attempt in attempts:
        seeds += [f"/attempts/{attempt.id}/questions/{r.slot}/" for r in attempt.responses.all()]
        seeds.append(f"/attempts/{attempt.id}/review/")
    client, run = _client(learner), Run()
    # when
    forms = crawl(client, seeds, run.problems, within=_learner_quiz_pages)
    fuzz(client, forms, run)
    # then
    assert {
        "post quizzes/<slug:slug>/start/",
        "post attempts/<int:attempt_id>/questions/<int:slot>/",
        "post attempts/<int:attempt_id>/submit/",
        "post attempts/<int:attempt_id>/explanation/",
        "post attempts/<int:attempt_id>/questions/<int:slot>/self-assessment/",
    } <= _routes(forms)
    _report(run, started, "quiz pages")


# --- Guided practice -----------------------------------------------------------------------


def _practice_course(learner: Any, name: str, *slugs: str) -> Course:
    """A course whose practice offers only these questions, in this order."""
    course = Course.objects.create(slug=f"fuzz-{name}", title=f"Fuzz {name}")
    Enrollment.objects.create(course=course, learner=learner)
    ids = dict(Question.objects.values_list("slug", "id"))
    order = [(ids[s], True) for s in slugs] + [(i, False) for s, i in ids.items() if s not in slugs]
    practice_items_arrange(course=course, order=order)
    return course


PROBE_THEN_EXPLAIN = ("speed-epochs-tf-a", "explain-what-why-a")


def test_practice_forms_answer_hostile_values_without_a_5xx(learner):
    # given: one course per kind of pending step, and one whose session is over
    started = time.monotonic()
    catalog_load()
    for name, slug, qtype in (
        ("choice", "speed-epochs-tf-a", "truefalse"),
        ("numeric", "num-active-units-a", "numeric"),
        ("twotier", "noscale-twotier-a", "twotier"),
        ("code", "code-dropout-forward", "code"),
    ):
        session = session_open(course=_practice_course(learner, name, slug), learner=learner)
        assert session.steps.get().prompt.qtype == qtype
    explaining = ScriptedLearner(
        course=_practice_course(learner, "explain", *PROBE_THEN_EXPLAIN), learner=learner
    )
    explaining.right()
    checking = ScriptedLearner(
        course=_practice_course(learner, "check", *PROBE_THEN_EXPLAIN), learner=learner
    )
    checking.right()
    checking.answer(AnswerInput(text="Units are dropped at random in training.", confidence=4))
    assert checking.pending().state == "checking"
    over = ScriptedLearner(
        course=_practice_course(learner, "over", *PROBE_THEN_EXPLAIN), learner=learner
    )
    over.right()
    session_stop(session_id=over.session.id, learner=learner)
    client, run = _client(learner), Run()
    # when
    forms = crawl(client, ["/practice/"], run.problems, within=lambda p: p.startswith("/practice/"))
    fuzz(client, forms, run)
    # then
    assert {
        "post practice/courses/<int:course_id>/start/",
        "post practice/steps/<int:step_id>/answer/",
        "post practice/steps/<int:step_id>/code/",
        "post practice/steps/<int:step_id>/self-check/",
        "post practice/sessions/<int:session_id>/stop/",
    } <= _routes(forms)
    answer_forms = [f for f in forms if _route(f.action).endswith("/answer/")]
    assert len(answer_forms) >= 4  # choice, numeric, two-tier and explain-back fields
    _report(run, started, "practice pages")


# --- The instructor's pages ----------------------------------------------------------------


def test_instructor_forms_answer_hostile_values_without_a_5xx(learner):
    # given: a course with a submitted attempt, an explain-back to review and a linked pair
    started = time.monotonic()
    catalog_load()
    teacher = UserFactory.create(username="teacher")
    course = _practice_course(learner, "taught", *PROBE_THEN_EXPLAIN)
    course.instructors.add(teacher)
    quiz = quiz_of(single(), explain(), course=course, slug="fuzz-taught")
    attempt = attempt_start(quiz=quiz, learner=learner)
    chosen = attempt.responses.get(slot=1).question.choices.first()
    assert chosen is not None
    answer = AnswerInput(choice_ids=[chosen.id], confidence=3)
    response_save(attempt_id=attempt.id, learner=learner, slot=1, answer=answer)
    attempt_submit(attempt_id=attempt.id, learner=learner)
    scripted = ScriptedLearner(course=course, learner=learner)
    scripted.right()
    scripted.explain_fully()
    confused_pair_add(course=course, first="DO-SPEED", second="DO-DATA", by=teacher)
    base = f"/instructor/courses/{course.id}/"
    seeds = ["/instructor/", base, f"/instructor/quizzes/{quiz.id}/statistics/"]
    seeds += [base + "practice/explanations/", base + "practice/settings/"]
    client, run = _client(teacher), Run()
    # when
    forms = crawl(client, seeds, run.problems, within=lambda p: p.startswith("/instructor/"))
    fuzz(client, forms, run)
    # then
    routes = _routes(forms)
    assert "get instructor/courses/<int:course_id>/" in routes
    assert "get instructor/quizzes/<int:quiz_id>/statistics/" in routes
    assert {
        f"{method} instructor/courses/<int:course_id>/practice/{tail}"
        for method, tail in (
            ("get", "explanations/"),
            ("post", "explanations/<int:step_id>/review/"),
            ("post", "settings/pairs/"),
            ("post", "settings/pairs/<int:pair_id>/remove/"),
            ("post", "settings/post-test/"),
            ("post", "settings/items/"),
        )
    } <= routes
    _report(run, started, "instructor pages")


# --- LTI: the deep-linking picker, and the login and launch an LMS sends -------------------


def _lti_forms(client: Client, token: str, platform: Platform, problems: list[str]) -> list[Form]:
    picker = client.post(f"/lti/deep-link/{token}/")  # no choice: the picker, with its error
    assert picker.status_code == 400, picker.content
    parser = PageParser(f"http://testserver/lti/deep-link/{token}/")
    parser.feed(picker.content.decode())
    login = {
        "iss": platform.issuer,
        "client_id": platform.client_id,
        "login_hint": "hint-1",
        "target_link_uri": "http://testserver/lti/launch/",
        "lti_message_hint": "message-hint-1",
        "lti_deployment_id": "deployment-1",
    }
    started = client.post("/lti/login/", login)
    if started.status_code != 302:
        problems.append(f"a valid login initiation was refused: {started.status_code}")
    state = dict(parse_qsl(urlsplit(started.get("Location", "")).query)).get("state", "x")
    made = [
        Form("", "get", "/lti/login/", [Control(k, "text", v) for k, v in login.items()]),
        Form("", "post", "/lti/login/", [Control(k, "text", v) for k, v in login.items()]),
        Form(
            "",
            "post",
            "/lti/launch/",
            [Control("state", "hidden", state), Control("id_token", "hidden", "a.b.c")],
            # A launch uses up its state before any other check, so none is replayed.
            may_change=frozenset({"lti.LaunchState"}),
        ),
    ]
    return parser.forms + made


def test_lti_forms_answer_hostile_values_without_a_5xx(settings):
    # given: a registered platform, a course linked to it with a quiz, and an open
    # deep-linking request (as an instructor's launch leaves it)
    started = time.monotonic()
    settings.LTI_LOGINS_PER_MINUTE = 1_000_000  # this test alone starts ~90 logins
    platform = Platform.objects.create(
        name="LMS",
        issuer="https://lms.example",
        client_id="tool-1",
        auth_login_url="https://lms.example/auth",
        auth_token_url="https://lms.example/token",
        keyset_url="https://lms.example/jwks",
    )
    deployment = Deployment.objects.create(platform=platform, deployment_id="deployment-1")
    course = Course.objects.create(slug="fuzz-lti", title="Fuzz LTI")
    context = Context.objects.create(deployment=deployment, context_id="ctx-1", course=course)
    quiz_of(single(), course=course, slug="fuzz-linked")
    token = secrets.token_urlsafe(32)
    DeepLinkRequest.objects.create(
        token_hash=hashlib.sha256(token.encode()).hexdigest(),
        deployment=deployment,
        context=context,
        return_url="https://lms.example/return",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    client, run = Client(raise_request_exception=False), Run()
    # when
    forms = _lti_forms(client, token, platform, run.problems)
    fuzz(client, forms, run)
    # then
    assert "post lti/deep-link/<str:token>/" in _routes(forms)
    _report(run, started, "LTI")
