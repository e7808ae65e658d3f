from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/", include("assessments.api.urls")),
    path("exercises/", include("grader.urls")),
    path("instructor/", include("analytics.urls")),
    path("instructor/courses/<int:course_id>/practice/", include("practice.instructor_urls")),
    path("practice/", include("practice.urls")),
    path("lti/", include("lti.urls")),
    path("", include("assessments.urls")),
]

# A URL that matches no view (e.g. /api/v1/courses/abc/) answers in the API's error shape.
handler404 = "assessments.api.errors.not_found"
