"""LTI 1.3: our keys, the platforms (LMSs) registered with us, and what launches leave.

A platform is one (issuer, client_id) registration; its deployments must be registered
too (a launch from an unknown deployment is refused, never auto-created). A launch's
`state` lives here, server-side and single-use, so a launch works even when the browser
keeps no cookies in the LMS's iframe. An LMS course (context) maps to one of our
Courses; a resource link to one Quiz; a learner's score goes back as a `Passback`, kept
until the platform has taken it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ToolKey(models.Model):
    """An RSA key pair of ours; the newest unretired key signs, all unretired are published."""

    kid = models.CharField(max_length=64, unique=True)
    private_key_pem = models.TextField(editable=False)
    public_jwk = models.JSONField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.kid


class Platform(models.Model):
    """An LMS registration: the values its administrator gave us."""

    name = models.CharField(max_length=200, blank=True)
    issuer = models.URLField(max_length=255)
    client_id = models.CharField(max_length=255)
    auth_login_url = models.URLField(max_length=500, help_text="OIDC authorization endpoint.")
    auth_token_url = models.URLField(max_length=500, help_text="OAuth 2 token endpoint.")
    auth_token_audience = models.CharField(
        max_length=500,
        blank=True,
        help_text="`aud` of our client assertions; empty: the token URL.",
    )
    keyset_url = models.URLField(max_length=500, help_text="The platform's JWKS.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["issuer", "client_id"]
        constraints = [
            models.UniqueConstraint(fields=["issuer", "client_id"], name="lti_platform_once"),
        ]

    def __str__(self) -> str:
        return self.name or f"{self.issuer} ({self.client_id})"

    @property
    def token_audience(self) -> str:
        return self.auth_token_audience or self.auth_token_url


class Deployment(models.Model):
    """A deployment of our tool on a platform (an LMS may have several)."""

    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="deployments")
    deployment_id = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "deployment_id"], name="lti_deployment_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.deployment_id} on {self.platform}"


class LaunchState(models.Model):
    """One login initiation: the `state` and `nonce` we sent, used at most once."""

    state = models.CharField(max_length=64, unique=True)
    nonce = models.CharField(max_length=64)
    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="+")
    target_link_uri = models.URLField(max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    # When the browser kept no cookie (third-party cookies blocked), the launch ends with a
    # link that continues in a top-level window; it carries this one-time token (hashed).
    handoff_hash = models.CharField(max_length=64, blank=True, db_index=True)
    handoff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    handoff_next = models.CharField(max_length=500, blank=True)
    handoff_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.state[:8]


class Context(models.Model):
    """An LMS course (context) of a deployment, and the Course it is here."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="contexts")
    context_id = models.CharField(max_length=255)
    course = models.OneToOneField(
        "courses.Course", on_delete=models.CASCADE, related_name="lti_context"
    )
    title = models.CharField(max_length=255, blank=True)
    label = models.CharField(max_length=255, blank=True)
    lineitems_url = models.URLField(max_length=1000, blank=True)
    ags_scopes = models.JSONField(default=list, blank=True)
    memberships_url = models.URLField(max_length=1000, blank=True)
    # NRPS's `rel="differences"` link from the last full or partial sync: the next sync
    # reads only what changed since then.
    memberships_differences_url = models.URLField(max_length=2000, blank=True)
    roster_synced_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["deployment", "context_id"], name="lti_context_once"),
        ]

    def __str__(self) -> str:
        return self.title or self.context_id


class ResourceLink(models.Model):
    """A placement of ours in an LMS course; it opens one quiz and has one line item."""

    context = models.ForeignKey(Context, on_delete=models.CASCADE, related_name="links")
    resource_link_id = models.CharField(max_length=255)
    quiz = models.ForeignKey(
        "assessments.Quiz", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    title = models.CharField(max_length=255, blank=True)
    lineitem_url = models.URLField(max_length=1000, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["context", "resource_link_id"], name="lti_resource_link_once"
            ),
        ]

    def __str__(self) -> str:
        return self.title or self.resource_link_id


class LinkLearner(models.Model):
    """A learner who launched a link: where their scores go, under their platform `sub`."""

    link = models.ForeignKey(ResourceLink, on_delete=models.CASCADE, related_name="learners")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sub = models.CharField(max_length=255)
    last_launch_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["link", "user"], name="lti_link_learner_once"),
        ]

    def __str__(self) -> str:
        return f"{self.sub} on {self.link}"


class Passback(models.Model):
    """A score owed to a platform's gradebook; kept until the platform has taken it."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    link_learner = models.ForeignKey(
        LinkLearner, on_delete=models.CASCADE, related_name="passbacks"
    )
    attempt = models.ForeignKey(
        "assessments.Attempt", on_delete=models.CASCADE, related_name="passbacks"
    )
    score_given = models.DecimalField(max_digits=9, decimal_places=4)
    score_maximum = models.DecimalField(max_digits=9, decimal_places=4)
    grading_progress = models.CharField(max_length=16)
    scored_at = models.DateTimeField()
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    tries = models.PositiveIntegerField(default=0)
    next_try_at = models.DateTimeField()
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["link_learner", "attempt"], name="lti_passback_once"),
        ]
        indexes = [models.Index(fields=["state", "next_try_at"], name="lti_passback_due")]

    def __str__(self) -> str:
        return f"{self.score_given}/{self.score_maximum} for attempt {self.attempt_id}"


class DeepLinkRequest(models.Model):
    """An instructor's open deep-linking request: where to send the chosen quiz back."""

    token_hash = models.CharField(max_length=64, unique=True)
    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="+")
    context = models.ForeignKey(Context, on_delete=models.CASCADE, related_name="+")
    return_url = models.URLField(max_length=1000)
    data = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"deep link for {self.context}"


class QuizCopy(models.Model):
    """A catalogue quiz's copy in a course, made when deep linking first linked it there."""

    source = models.ForeignKey("assessments.Quiz", on_delete=models.CASCADE, related_name="+")
    course = models.ForeignKey("courses.Course", on_delete=models.CASCADE, related_name="+")
    copy = models.OneToOneField("assessments.Quiz", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "course"], name="lti_quiz_copy_once"),
        ]

    def __str__(self) -> str:
        return f"{self.copy_id} copies {self.source_id} in {self.course_id}"
