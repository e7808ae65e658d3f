"""LTI 1.3 endpoints: JWKS, login initiation, launch, deep-link choice, handoff, quiz."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any, Literal, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assessments import selectors
from assessments.models import Quiz
from core.client_address import client_address
from core.errors import ApplicationError
from core.inputs import int_fields, text_field
from courses.selectors import course_for_instructor
from lti import claims, deep_linking, keys
from lti.launch import destination, handoff_create, handoff_take, launch_apply
from lti.launch_states import WINDOW_SECONDS, login_rate_allows
from lti.middleware import FRAME_SESSION_KEY
from lti.models import Deployment, LaunchState, Platform
from lti.tasks import roster_sync
from lti.validation import LaunchError, launch_validate, return_url_of, state_cookie_name

# What the platform's return URL is given (LTI 1.3 core, launch_presentation.return_url):
# lti_errormsg for the person, lti_errorlog for the platform's log. Kept short: it is a GET.
RETURN_MESSAGE_LENGTH = 500


def _return_with_error(error: LaunchError) -> HttpResponse:
    """Send the person back to the platform's return URL with what went wrong."""
    parts = urlsplit(error.return_url)
    log = f"Launch refused ({error.code}): {error.message}"
    query = [
        *parse_qsl(parts.query, keep_blank_values=True),
        ("lti_errormsg", error.message[:RETURN_MESSAGE_LENGTH]),
        ("lti_errorlog", log[:RETURN_MESSAGE_LENGTH]),
    ]
    response = HttpResponseRedirect(urlunsplit(parts._replace(query=urlencode(query))))
    response.xframe_options_exempt = True
    return response


def _refuse(request: HttpRequest, error: LaunchError) -> HttpResponse:
    """Our error page, or the platform's return URL when a verified launch gave one."""
    if error.return_url:
        return _return_with_error(error)
    response = render(
        request,
        "lti/error.html",
        {"code": error.code, "message": error.message},
        status=error.status,
    )
    response.xframe_options_exempt = True
    return response


def _cookie_samesite() -> Literal["None", "Lax"]:
    return "None" if settings.SESSION_COOKIE_SECURE else "Lax"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


@require_GET
def jwks(request: HttpRequest) -> JsonResponse:
    """Our public keys; the previous key stays here after a rotation until it is retired."""
    response = JsonResponse(keys.jwks())
    response["Cache-Control"] = "public, max-age=300"
    return response


# The hints go back to the platform in the redirect's URL, which Django caps at 16,384
# characters (a longer one is a 400 after the state was stored).
MAX_HINT_LENGTH = 4096


def _params_check(params: Any) -> None:
    """Refuse a parameter with a NUL character, as forms and the API do (core.inputs)."""
    for name in params:
        for value in params.getlist(name):
            try:
                text_field(value, field=name)
            except ApplicationError as error:
                raise LaunchError(400, "invalid_parameter", error.message) from None


def _platform_for_login(params: Any) -> Platform:
    issuer = params.get("iss", "")
    client_id = params.get("client_id", "")
    if not issuer:
        raise LaunchError(400, "missing_iss", "The login request names no platform (`iss`).")
    if not params.get("login_hint"):
        raise LaunchError(400, "missing_login_hint", "The login request has no `login_hint`.")
    platforms = Platform.objects.filter(issuer=issuer, is_active=True)
    if client_id:
        platforms = platforms.filter(client_id=client_id)
    found = list(platforms[:2])
    if not found:
        raise LaunchError(
            400, "unknown_platform", f"No platform {issuer!r} with that client id is registered."
        )
    if len(found) > 1:
        raise LaunchError(
            400, "ambiguous_platform", "Several registrations share this issuer; send `client_id`."
        )
    platform = found[0]
    deployment_id = params.get("lti_deployment_id", "")
    known = Deployment.objects.filter(platform=platform)
    # A platform with no deployment yet names its first in the signed launch that follows.
    if deployment_id and known.exists() and not known.filter(deployment_id=deployment_id).exists():
        raise LaunchError(
            403, "unknown_deployment", f"Deployment {deployment_id!r} is not registered here."
        )
    return platform


@csrf_exempt
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
def login_initiation(request: HttpRequest) -> HttpResponse:
    """OIDC third-party login: remember a fresh state and nonce, send the browser to the
    platform's authorization endpoint."""
    if not login_rate_allows(address=client_address(request)):
        response = _refuse(
            request,
            LaunchError(
                429,
                "too_many_logins",
                "Too many activity launches came from your network in the last minute; "
                "wait a minute and open the activity again.",
            ),
        )
        response["Retry-After"] = str(WINDOW_SECONDS)
        return response
    params = request.POST if request.method == "POST" else request.GET
    try:
        _params_check(params)
        for name in ("login_hint", "lti_message_hint"):
            if len(params.get(name, "")) > MAX_HINT_LENGTH:
                raise LaunchError(
                    400, "hint_too_long", f"`{name}` is longer than {MAX_HINT_LENGTH} characters."
                )
        platform = _platform_for_login(params)
        target = params.get("target_link_uri", "")
        if not target:
            raise LaunchError(400, "missing_target_link_uri", "The login has no `target_link_uri`.")
        if urlsplit(target).netloc != request.get_host():
            raise LaunchError(400, "foreign_target", "The `target_link_uri` is not on this site.")
    except LaunchError as error:
        return _refuse(request, error)
    state = LaunchState.objects.create(
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        platform=platform,
        target_link_uri=target[:1000],
        expires_at=timezone.now() + timedelta(seconds=settings.LTI_STATE_SECONDS),
    )
    query = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": platform.client_id,
        "redirect_uri": request.build_absolute_uri(reverse("lti:launch")),
        "state": state.state,
        "nonce": state.nonce,
        "login_hint": params["login_hint"],
    }
    if params.get("lti_message_hint"):
        query["lti_message_hint"] = params["lti_message_hint"]
    separator = "&" if "?" in platform.auth_login_url else "?"
    response = HttpResponseRedirect(platform.auth_login_url + separator + urlencode(query))
    response.set_cookie(
        state_cookie_name(state.state),
        state.state,
        max_age=settings.LTI_STATE_SECONDS,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite=_cookie_samesite(),
        path=reverse("lti:launch"),
    )
    return response


@csrf_exempt
@xframe_options_exempt
@require_POST
def launch(request: HttpRequest) -> HttpResponse:
    """The platform posts the id_token here; every check passes before anything is made."""
    try:
        _params_check(request.POST)
        valid = launch_validate(request)
    except LaunchError as error:
        return _refuse(request, error)
    try:
        user, context, link = launch_apply(valid)
        token = None
        if valid.message_type == claims.DEEP_LINKING_REQUEST:
            token = deep_linking.deep_link_request_create(valid, context)
    except LaunchError as error:
        error.return_url = return_url_of(valid.claims)
        return _refuse(request, error)
    if token is not None:
        response = _picker(request, token)
    elif valid.cookieless:
        handoff = handoff_create(valid.state, user, destination(valid, context, link))
        response = render(
            request,
            "lti/handoff.html",
            {"url": reverse("lti:handoff", args=[handoff]), "course": context.course},
        )
    else:
        login(request, user, backend="core.cached_users.CachedModelBackend")
        frame = _origin(request.headers.get("Origin", "")) or _origin(
            request.headers.get("Referer", "")
        )
        request.session[FRAME_SESSION_KEY] = [
            o for o in {frame, _origin(valid.platform.auth_login_url)} if o
        ]
        response = redirect(destination(valid, context, link))
    response.delete_cookie(state_cookie_name(valid.state.state), path=reverse("lti:launch"))
    response.xframe_options_exempt = True
    return response


def _picker(request: HttpRequest, token: str, error: str = "", status: int = 200) -> HttpResponse:
    row = deep_linking.deep_link_request(token)
    if row is None:
        return _refuse(
            request,
            LaunchError(400, "deep_link_expired", "This choice expired; add the activity again."),
        )
    quizzes = deep_linking.quizzes_offered(row.context.course).select_related("course")
    response = render(
        request,
        "lti/deep_link_picker.html",
        {
            "token": token,
            "quizzes": quizzes,
            "course": row.context.course,
            "error": error,
            "multiple": deep_linking.deep_link_settings(row).accept_multiple,
        },
        status=status,
    )
    response.xframe_options_exempt = True
    return response


@csrf_exempt  # the one-time token in the URL authenticates the choice; no cookie is needed
@xframe_options_exempt
@require_POST
def deep_link_choose(request: HttpRequest, token: str) -> HttpResponse:
    """Answer the platform with the chosen quizzes, or with none when the instructor cancels."""
    row = deep_linking.deep_link_request(token)
    if row is None:
        return _refuse(
            request,
            LaunchError(400, "deep_link_expired", "This choice expired; add the activity again."),
        )
    quizzes: list[Quiz] = []
    if "cancel" not in request.POST:
        try:
            ids = list(dict.fromkeys(int_fields(request.POST.getlist("quiz"), field="quiz")))
        except ApplicationError:
            ids = []
        offered = deep_linking.quizzes_offered(row.context.course)
        found = offered.in_bulk(ids) if ids else {}
        if not ids or len(found) != len(ids):
            return _picker(request, token, error="Choose one of the quizzes listed.", status=400)
        if len(ids) > 1 and not deep_linking.deep_link_settings(row).accept_multiple:
            return _picker(request, token, error="This course takes one quiz per link.", status=400)
        quizzes = [found[quiz_id] for quiz_id in ids]
    try:
        jwt_value = deep_linking.deep_link_answer(
            row, quizzes, request.build_absolute_uri("/").rstrip("/")
        )
    except LaunchError as error:
        return _refuse(request, error)
    response = render(
        request,
        "lti/deep_link_return.html",
        {"return_url": row.return_url, "jwt": jwt_value, "cancelled": not quizzes},
    )
    response.xframe_options_exempt = True
    return response


@require_GET
def handoff(request: HttpRequest, token: str) -> HttpResponse:
    """Continue a cookieless launch in a top-level window, where cookies are first-party."""
    state = handoff_take(token)
    if state is None or state.handoff_user is None:
        return _refuse(
            request,
            LaunchError(
                400,
                "handoff_expired",
                "This link has expired or was used; open the activity again.",
            ),
        )
    login(request, state.handoff_user, backend="core.cached_users.CachedModelBackend")
    return redirect(state.handoff_next or reverse("assessments:my_quizzes"))


@login_required
@require_GET
def quiz(request: HttpRequest, slug: str) -> HttpResponse:
    """A linked quiz's front page: what it is, and a button to start or resume it."""
    found = get_object_or_404(Quiz, slug=slug, is_published=True)
    cards = selectors.quizzes_for_learner(learner=cast(User, request.user))
    card = next((c for c in cards if c.quiz.id == found.id), None)
    return render(request, "lti/quiz.html", {"quiz": found, "card": card})


@login_required
@require_POST
def roster_sync_request(request: HttpRequest, course_id: int) -> HttpResponse:
    """An instructor asks for the LMS roster now (Names and Role Provisioning)."""
    try:
        course = course_for_instructor(user=request.user, course_id=course_id)
    except ApplicationError:
        raise Http404("No such course.") from None
    context = getattr(course, "lti_context", None)
    if context is None or not context.memberships_url:
        messages.error(request, "This course's LMS does not share its roster with us.")
    else:
        roster_sync.delay(context.id)
        messages.success(request, "The roster is being read from the LMS; reload in a minute.")
    return redirect("analytics:course_dashboard", course_id=course.id)
