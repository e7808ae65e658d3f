"""Instructor pages of guided practice: the review queue of learners' explain-backs and the
course's practice settings (confused pairs, the order and choice of items, the post-test's
items).

Access as on the analytics pages: the course's instructors and superusers; anyone else gets a
404, as does an id of another course's object. Every write goes through
practice.instructor_services (reviews: practice.services); a refused form is shown again
with its errors (the service's status, 400 for bad input) and changes nothing; a saved one
redirects with a message.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from core.errors import ApplicationError, NotFoundError
from core.http import AuthenticatedRequest
from core.inputs import MAX_ID, int_field, int_fields, text_field
from courses.models import Course
from courses.selectors import course_for_instructor
from practice import instructor_services, services
from practice.selectors.course_report import (
    EXPLANATION_STATES,
    explanation_row,
    explanation_steps,
    practice_settings_summary,
)
from practice.selectors.items import (
    BUILT_IN_PAIRS,
    confused_pair_linked,
    confused_pairs_linked,
    items_enabled,
    misconceptions_catalogue,
    post_test_questions,
    practice_questions,
)

EXPLANATIONS_PER_PAGE = 20
STATE_LABELS = {"": "All", "awaiting": "Awaiting review", "reviewed": "Reviewed"}
POSITION_MESSAGE = "Enter a number, e.g. 3 (2.5 puts it between 2 and 3)."


def _not_found(error: NotFoundError) -> HttpResponse:
    return HttpResponse(error.message, status=404, content_type="text/plain")


def _form_errors(error: ApplicationError, default_field: str) -> dict[str, str]:
    """The error's per-field messages, or its message under `default_field`."""
    return dict(error.fields) or {default_field: error.message}


# --- Review queue --------------------------------------------------------------------------


def _state(raw: str) -> str:
    """Return the queue's filter, or refuse one it does not know (naming `state`)."""
    if raw not in STATE_LABELS:
        choices = ", ".join(EXPLANATION_STATES)
        raise ApplicationError(
            f"There is no filter {raw[:40]!r}.",
            fields={"state": f"Choose {choices}, or nothing for all."},
        )
    return raw


def _page_number(raw: str | None) -> int:
    """The queue's page (1 when not given); past the last shows the last."""
    return 1 if not raw else int_field(raw, field="page", minimum=1)


def _queue_query(state: str, page: int | None = None) -> str:
    kept = {name: value for name, value in (("state", state), ("page", page)) if value}
    return "?" + urlencode(kept) if kept else ""


def _queue_context(
    course: Course,
    state: str,
    page_number: int,
    submitted: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The queue page; `submitted` is a refused review form to show again with its errors."""
    steps = explanation_steps(course=course, state=state or None)
    page = Paginator(steps, EXPLANATIONS_PER_PAGE).get_page(page_number)
    rows = [explanation_row(step) for step in page.object_list]
    for row in rows:
        form = {
            "errors": {},
            "ideas": set(row["review_ideas"] or []),
            "comment": row["review_comment"],
        }
        if submitted is not None and submitted["step"] == row["id"]:
            form = submitted
        row["form_errors"], row["form_ideas"] = form["errors"], form["ideas"]
        row["form_comment"] = form["comment"]
    return {
        "course": course,
        "state": state,
        "states": STATE_LABELS,
        "page": page,
        "explanations": rows,
        "previous_query": _queue_query(state, page.number - 1) if page.has_previous() else "",
        "next_query": _queue_query(state, page.number + 1) if page.has_next() else "",
        "error": None,
    }


@login_required
@require_GET
def explanation_queue(request: AuthenticatedRequest, course_id: int) -> HttpResponse:
    """The learners' explain-backs, awaiting review first, each with a review form."""
    try:
        course = course_for_instructor(user=request.user, course_id=course_id)
    except NotFoundError as error:
        return _not_found(error)
    try:
        state = _state(request.GET.get("state", ""))
        page_number = _page_number(request.GET.get("page"))
    except ApplicationError as error:
        context = _queue_context(course, "", 1)
        context["error"] = error
        return render(request, "practice/instructor/explanations.html", context, status=400)
    context = _queue_context(course, state, page_number)
    return render(request, "practice/instructor/explanations.html", context)


def _ideas(post: QueryDict) -> tuple[list[int], dict[str, str]]:
    try:
        return int_fields(post.getlist("ideas"), field="ideas", message="Not a key idea."), {}
    except ApplicationError as error:
        return [], error.fields


@login_required
@require_POST
def explanation_review_submit(
    request: AuthenticatedRequest, course_id: int, step_id: int
) -> HttpResponse:
    """Record the key ideas the reviewer found in one explain-back, and a comment."""
    try:
        course = course_for_instructor(user=request.user, course_id=course_id)
    except NotFoundError as error:
        return _not_found(error)
    state = request.POST.get("state", "")
    state = state if state in STATE_LABELS else ""
    if step_id > MAX_ID:
        return _not_found(NotFoundError("No such explanation."))
    ideas, errors = _ideas(request.POST)
    comment = request.POST.get("comment", "")
    page_number = 1
    try:
        page_number = _page_number(request.POST.get("page"))
        text_field(comment, field="comment")
    except ApplicationError as error:
        errors.update(error.fields)
    status = 400
    if not errors:
        try:
            step = services.explanation_review(
                step_id=step_id, course=course, reviewer=request.user, ideas=ideas, comment=comment
            )
        except NotFoundError as error:
            return _not_found(error)
        except ApplicationError as error:
            errors, status = _form_errors(error, "review"), error.status
        else:
            messages.success(
                request, f"Review saved for {step.session.learner.username}'s explanation."
            )
            url = reverse("practice_instructor:explanations", args=[course.id])
            page = page_number if page_number > 1 else None
            return HttpResponseRedirect(url + _queue_query(state, page))
    submitted = {"step": step_id, "ideas": set(ideas), "comment": comment, "errors": errors}
    context = _queue_context(course, state, page_number, submitted)
    context["error"] = ApplicationError("The review was not saved.", fields=errors)
    return render(request, "practice/instructor/explanations.html", context, status=status)


# --- Settings ------------------------------------------------------------------------------


def _settings_context(course: Course) -> dict[str, Any]:
    catalogue = list(misconceptions_catalogue())
    titles = {m.code: m.title for m in catalogue}
    built_in = {tuple(sorted(pair)) for pair in BUILT_IN_PAIRS}
    questions = practice_questions(course=course, include_disabled=True)
    enabled = items_enabled(course=course)
    reserved = post_test_questions(course_ids=[course.id])[course.id]
    post_test = practice_settings_summary(course=course)
    return {
        "course": course,
        "misconceptions": catalogue,
        "built_in_pairs": [
            {
                "first": a,
                "second": b,
                "first_title": titles.get(a, ""),
                "second_title": titles.get(b, ""),
            }
            for a, b in sorted(built_in)
        ],
        "pairs": confused_pairs_linked(course=course),
        "items": [
            {
                "question": question,
                "probes": sorted(m.code for m in question.probes.all()),
                "position": str(index),
                "enabled": enabled.get(question.id, True),
                "held": question.id in reserved and not post_test["use_post_test_items"],
                "on_post_test": question.id in reserved,
                "error": "",
            }
            for index, question in enumerate(questions, 1)
        ],
        "post_test": post_test,
        "pair_errors": {},
        "pair_submitted": {},
        "item_errors": {},
        "error": None,
    }


def _render_settings(
    request: HttpRequest, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    return render(request, "practice/instructor/settings.html", context, status=status)


def _settings_url(course: Course) -> str:
    return reverse("practice_instructor:settings", args=[course.id])


@login_required
@require_GET
def practice_settings(request: AuthenticatedRequest, course_id: int) -> HttpResponse:
    """Confused pairs, and which practice items come in which order."""
    try:
        course = course_for_instructor(user=request.user, course_id=course_id)
    except NotFoundError as error:
        return _not_found(error)
    return _render_settings(request, _settings_context(course))


@login_required
@require_POST
def confused_pair_create(request: AuthenticatedRequest, course_id: int) -> HttpResponse:
    """Link two misconceptions the course's learners mix up."""
    try:
        course = course_for_instructor(user=request.user, course_id=course_id)
    except NotFoundError as error:
        return _not_found(error)
    first = request.POST.get("first", "").strip()
    second = request.POST.get("second", "").strip()
    errors = {
        name: "Choose a misconception."
        for name, value in (("first", first), ("second", second))
        if not value
    }
    for name, value in (("first", first), ("second", second)):
        try:
            text_field(value, field=name)
        except ApplicationError as error:
            errors.update(error.fields)
    status = 400
    if not errors:
        try:
            pair = instructor_services.confused_pair_add(
                course=course, first=first, second=second, by=request.user
            )
        except ApplicationError as error:
            errors, status = _form_errors(error, "pair"), error.status
        else:
            messages.success(
                request,
                f"Linked {pair.first.code} and {pair.second.code}: practice will help learners "
                "tell them apart.",
            )
            return HttpResponseRedirect(_settings_url(course))
    context = _settings_context(course)
    context["pair_errors"] = errors
    context["pair_submitted"] = {"first": first, "second": second}
    context["error"] = ApplicationError("The pair was not linked.", fields=errors)
    return _render_settings(request, context, status)


@login_required
@require_POST
def confused_pair_delete(
    request: AuthenticatedRequest, course_id: int, pair_id: int
) -> HttpResponse:
    """Unlink a pair the course's instructors linked."""
    try:
        course = course_for_instructor(user=request.user, course_id=course_id)
    except NotFoundError as error:
        return _not_found(error)
    pair = confused_pair_linked(course=course, pair_id=pair_id)
    try:
        if pair is None:
            raise NotFoundError("No such pair.")
        instructor_services.confused_pair_remove(course=course, pair_id=pair.id)
    except NotFoundError as error:
        return _not_found(error)
    messages.success(request, f"Unlinked {pair.first.code} and {pair.second.code}.")
    return HttpResponseRedirect(_settings_url(course))


@login_required
@require_POST
def post_test_items_save(request: AuthenticatedRequest, course_id: int) -> HttpResponse:
    """Hold the post-test's items back from practice (the default), or use them."""
    try:
        course = course_for_instructor(user=request.user, course_id=course_id)
    except NotFoundError as error:
        return _not_found(error)
    use = request.POST.get("use_post_test_items") == "on"
    instructor_services.practice_settings_update(
        course=course, use_post_test_items=use, by=request.user
    )
    count = practice_settings_summary(course=course)["post_test_items"]
    if not count:
        text = "Saved. The course has no post-test items yet, so practice holds nothing back."
    elif use:
        text = f"Practice now uses the post-test's {count} items."
    else:
        text = f"Practice now holds back the post-test's {count} items and their answers."
    messages.success(request, text)
    return HttpResponseRedirect(_settings_url(course))


def _items_order(post: QueryDict) -> tuple[list[tuple[int, bool]], dict[str, str]]:
    """The submitted table as (question id, enabled) in the new order, and its errors.

    Rows are ordered by their position number; equal numbers keep the table's order."""
    errors: dict[str, str] = {}
    rows: list[tuple[float, int, int, bool]] = []
    ids = post.getlist("question")
    if not ids:
        errors["order"] = "No items were sent; reload the page and try again."
    for index, raw in enumerate(ids):
        try:
            question_id = int_field(raw, field="order", message="Reload the page: not a question.")
        except ApplicationError as error:
            errors.update(error.fields)
            continue
        name = f"position-{question_id}"
        typed = post.get(name, "").strip().replace(",", ".")
        try:
            position = float(typed)
        except ValueError:
            position = math.nan
        if not math.isfinite(position):
            errors[name] = POSITION_MESSAGE
            continue
        rows.append((position, index, question_id, f"enabled-{question_id}" in post))
    rows.sort()
    return [(question_id, enabled) for _, _, question_id, enabled in rows], errors


@login_required
@require_POST
def practice_items_save(request: AuthenticatedRequest, course_id: int) -> HttpResponse:
    """Save the order of the course's practice items and which of them are used."""
    try:
        course = course_for_instructor(user=request.user, course_id=course_id)
    except NotFoundError as error:
        return _not_found(error)
    order, errors = _items_order(request.POST)
    status = 400
    if not errors:
        try:
            instructor_services.practice_items_arrange(course=course, order=order)
        except ApplicationError as error:
            errors, status = _form_errors(error, "order"), error.status
        else:
            disabled = sum(1 for _, enabled in order if not enabled)
            messages.success(
                request,
                f"Practice order saved: {len(order) - disabled} items in use, {disabled} left out.",
            )
            return HttpResponseRedirect(_settings_url(course))
    context = _settings_context(course)
    # Show the table as it was sent, so nothing typed is lost.
    sent = set(request.POST.getlist("question"))
    for item in context["items"]:
        question_id = item["question"].id
        if str(question_id) in sent:
            item["position"] = request.POST.get(f"position-{question_id}", "")
            item["enabled"] = f"enabled-{question_id}" in request.POST
        item["error"] = errors.get(f"position-{question_id}", "")
    context["item_errors"] = errors
    context["error"] = ApplicationError("The practice order was not saved.", fields=errors)
    return _render_settings(request, context, status)
