"""The course's gradebook columns on its LMS, for its instructors: the tool's line items
(change, delete) and, when asked, one line item's results.

Each page reads the platform while the instructor waits (with the platform client's
timeout): a list of line items or results is short, and a copy kept here would go stale
as soon as someone edits the gradebook in the LMS.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from core.errors import ApplicationError
from courses.models import Course
from courses.selectors import course_for_instructor
from lms.models import LmsIdentity
from lti.line_items import (
    EDITABLE,
    line_item_changes,
    line_item_delete,
    line_item_update,
    line_items_list,
    results_read,
)
from lti.models import Context
from lti.platform_client import PlatformError

NO_LMS = "This course was not launched from an LMS, so it has no gradebook columns there."


def _course_context(request: HttpRequest, course_id: int) -> tuple[Course, Context | None]:
    try:
        course = course_for_instructor(user=request.user, course_id=course_id)
    except ApplicationError:
        raise Http404("No such course.") from None
    context = Context.objects.select_related("deployment__platform").filter(course=course).first()
    return course, context


def _results_named(context: Context, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each result with the name we know its LMS user by, if any."""
    ids = [r.get("userId") for r in results if isinstance(r.get("userId"), str)]
    names = {
        identity.lms_user_id: identity.user.get_full_name() or identity.user.username
        for identity in LmsIdentity.objects.select_related("user").filter(
            issuer=context.deployment.platform.issuer, lms_user_id__in=ids
        )
    }
    return [{**result, "name": names.get(result.get("userId", ""), "")} for result in results]


@login_required
@require_GET
def gradebook(request: HttpRequest, course_id: int) -> HttpResponse:
    """List the course's line items; with `?results=<line item>`, that item's results too."""
    course, context = _course_context(request, course_id)
    page: dict[str, Any] = {"course": course, "items": [], "error": ""}
    if context is None:
        page["error"] = NO_LMS
        return render(request, "lti/gradebook.html", page)
    try:
        page["items"] = line_items_list(context=context)
        chosen = request.GET.get("results", "")
        if chosen:
            page["results_for"] = next(
                (item for item in page["items"] if item.get("id") == chosen), None
            )
            page["results"] = _results_named(
                context, results_read(context=context, lineitem_url=chosen)
            )
    except (PlatformError, ApplicationError) as error:
        page["error"] = str(error) if isinstance(error, PlatformError) else error.message
    return render(request, "lti/gradebook.html", page)


@login_required
@require_POST
def gradebook_item_update(request: HttpRequest, course_id: int) -> HttpResponse:
    """Change one line item of the course on its LMS."""
    course, context = _course_context(request, course_id)
    if context is None:
        messages.error(request, NO_LMS)
        return redirect("lti:gradebook", course_id=course.id)
    raw = {name: request.POST[name] for name in EDITABLE if name in request.POST}
    try:
        changes = line_item_changes(raw)
        updated = line_item_update(
            context=context, lineitem_url=request.POST.get("lineitem", ""), changes=changes
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    except PlatformError as error:
        messages.error(request, f"The LMS refused the change: {error}")
    else:
        messages.success(request, f"Saved “{updated.get('label', '')}” on the LMS.")
    return redirect("lti:gradebook", course_id=course.id)


@login_required
@require_POST
def gradebook_item_delete(request: HttpRequest, course_id: int) -> HttpResponse:
    """Delete one line item of the course on its LMS (its scores there go with it)."""
    course, context = _course_context(request, course_id)
    if context is None:
        messages.error(request, NO_LMS)
        return redirect("lti:gradebook", course_id=course.id)
    try:
        line_item_delete(context=context, lineitem_url=request.POST.get("lineitem", ""))
    except ApplicationError as error:
        messages.error(request, error.message)
    except PlatformError as error:
        messages.error(request, f"The LMS refused the deletion: {error}")
    else:
        messages.success(request, "The gradebook column was deleted on the LMS.")
    return redirect("lti:gradebook", course_id=course.id)
