from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from quizsite.accounts import PasswordResetConfirmView
from quizsite.ops import health, metrics

urlpatterns = [
    # Operations (README, "Operations"): probes for load balancers, and Prometheus.
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Django's password reset: a link by e-mail (the console in development), valid for
    # PASSWORD_RESET_SECONDS; our templates under quizsite/templates/registration/.
    path("accounts/password-reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("api/v1/", include("quizsite.api_urls")),
    path("exercises/", include("grader.urls")),
    path("instructor/", include("analytics.urls")),
    path("instructor/courses/<int:course_id>/practice/", include("practice.instructor_urls")),
    path("practice/", include("practice.urls")),
    path("lti/", include("lti.urls")),
    path("", include("assessments.urls")),
]

# A URL that matches no view (e.g. /api/v1/courses/abc/) answers in the API's error shape.
handler404 = "core.api.errors.not_found"
