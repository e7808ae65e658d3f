"""Assignment and Grade Services beyond scores: the tool's line items and their results.

An instructor lists the line items the platform keeps for the tool in their course,
changes one (label, maximum, dates, tag, resource id) or deletes it, and reads a line
item's results. Every call goes to a URL the platform gave: the context's line items
container, or a line item it listed there (our bearer token never goes anywhere else).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import requests

from core.errors import ApplicationError
from lti import claims
from lti.models import Context
from lti.platform_client import PlatformError, service_request

LINEITEM_CONTAINER_MEDIA_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
LINEITEM_MEDIA_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
RESULT_CONTAINER_MEDIA_TYPE = "application/vnd.ims.lis.v2.resultcontainer+json"
MAX_PAGES = 100
# Fields a platform keeps on a line item that we may change; the rest is sent back as read.
EDITABLE = ("label", "scoreMaximum", "tag", "resourceId", "startDateTime", "endDateTime")


def _scopes(context: Context, *, write: bool) -> list[str]:
    granted = set(context.ags_scopes)
    if claims.SCOPE_LINEITEM in granted:
        return [claims.SCOPE_LINEITEM]
    if not write and claims.SCOPE_LINEITEM_READONLY in granted:
        return [claims.SCOPE_LINEITEM_READONLY]
    need = "lineitem" if write else "lineitem or lineitem.readonly"
    raise PlatformError(
        f"The platform did not grant the AGS `{need}` scope for this course.", retry=False
    )


def _pages(context: Context, scopes: list[str], url: str, accept: str) -> list[dict[str, Any]]:
    """Every item on every page of a container, following its `rel="next"` links."""
    platform = context.deployment.platform
    found: list[dict[str, Any]] = []
    next_url: str | None = url
    for _ in range(MAX_PAGES):
        if not next_url:
            return found
        response: requests.Response = service_request(
            platform, scopes, "GET", next_url, accept=accept
        )
        try:
            body = response.json()
        except ValueError as error:
            raise PlatformError(f"The platform's answer to {next_url} is not JSON.") from error
        if not isinstance(body, list):
            raise PlatformError(f"The platform's answer to {next_url} is not a JSON array.")
        found.extend(item for item in body if isinstance(item, dict))
        next_url = response.links.get("next", {}).get("url")
    raise PlatformError(f"The list has more than {MAX_PAGES} pages.", retry=False)


def line_items_list(*, context: Context) -> list[dict[str, Any]]:
    """Return the line items the platform keeps for the tool in this course."""
    if not context.lineitems_url:
        raise PlatformError("The platform gave this course no line items service.", retry=False)
    scopes = _scopes(context, write=False)
    return _pages(context, scopes, context.lineitems_url, LINEITEM_CONTAINER_MEDIA_TYPE)


def _listed(context: Context, lineitem_url: str) -> dict[str, Any]:
    """The line item at `lineitem_url` as the platform lists it for this course, or a 404."""
    for item in line_items_list(context=context):
        if item.get("id") == lineitem_url:
            return item
    raise ApplicationError(
        "The course has no such line item on its platform.",
        code="lineitem_unknown",
        fields={"lineitem": "Choose a line item listed for this course."},
        status=404,
    )


def _timestamp(value: str, field: str) -> str:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ApplicationError(
            f"{field} must be an ISO 8601 date and time with its offset.",
            code="invalid",
            fields={field: "Give a date and time with its offset, e.g. 2026-12-01T09:00:00+00:00."},
        )
    return moment.isoformat()


def line_item_changes(raw: dict[str, str]) -> dict[str, Any]:
    """Return the checked changes to a line item (empty text clears an optional field)."""
    changes: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in EDITABLE:
        if name not in raw:
            continue
        value = raw[name].strip()
        if name == "label":
            if not value:
                errors[name] = "A line item needs a label."
            changes[name] = value[:255]
        elif name == "scoreMaximum":
            try:
                maximum = Decimal(value)
            except InvalidOperation:
                maximum = Decimal(0)
            if not maximum.is_finite() or maximum <= 0:
                errors[name] = "The maximum must be a number above 0."
            else:
                changes[name] = float(maximum)
        elif name in ("startDateTime", "endDateTime"):
            try:
                changes[name] = _timestamp(value, name) if value else None
            except ApplicationError as error:
                errors.update(error.fields)
        else:
            changes[name] = value[:255] or None
    start, end = changes.get("startDateTime"), changes.get("endDateTime")
    if start and end and datetime.fromisoformat(end) < datetime.fromisoformat(start):
        errors["endDateTime"] = "The end comes before the start."
    if errors:
        raise ApplicationError(
            "The line item was not changed. "
            + " ".join(f"{name}: {message}" for name, message in errors.items()),
            code="invalid",
            fields=errors,
        )
    return changes


def line_item_update(
    *, context: Context, lineitem_url: str, changes: dict[str, Any]
) -> dict[str, Any]:
    """Change a listed line item of the course; return it as the platform now has it."""
    current = _listed(context, lineitem_url)
    body = {**current, **changes}
    body = {name: value for name, value in body.items() if value is not None}
    response = service_request(
        context.deployment.platform,
        _scopes(context, write=True),
        "PUT",
        lineitem_url,
        accept=LINEITEM_MEDIA_TYPE,
        content_type=LINEITEM_MEDIA_TYPE,
        json_body=body,
    )
    try:
        updated = response.json()
    except ValueError:
        updated = body
    return updated if isinstance(updated, dict) else body


def line_item_delete(*, context: Context, lineitem_url: str) -> None:
    """Delete a listed line item of the course (the platform drops its scores with it)."""
    _listed(context, lineitem_url)
    service_request(
        context.deployment.platform, _scopes(context, write=True), "DELETE", lineitem_url
    )
    context.links.filter(lineitem_url=lineitem_url).update(lineitem_url="")


def lineitem_service_url(lineitem_url: str, service: str) -> str:
    """Return a line item's `scores` or `results` URL (its query string kept, as AGS says)."""
    path, _, query = lineitem_url.partition("?")
    return path.rstrip("/") + "/" + service + ("?" + query if query else "")


def results_read(*, context: Context, lineitem_url: str) -> list[dict[str, Any]]:
    """Return the results the platform holds for one listed line item of the course."""
    if claims.SCOPE_RESULT_READONLY not in context.ags_scopes:
        raise PlatformError(
            "The platform did not grant the AGS `result.readonly` scope for this course.",
            retry=False,
        )
    _listed(context, lineitem_url)
    return _pages(
        context,
        [claims.SCOPE_RESULT_READONLY],
        lineitem_service_url(lineitem_url, "results"),
        RESULT_CONTAINER_MEDIA_TYPE,
    )
