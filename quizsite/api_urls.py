"""The API's root, /api/v1/: every app's endpoints share its prefix and the `api`
namespace; the OpenAPI schema and its docs describe them all."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

app_name = "api"

urlpatterns = [
    path("", include("assessments.api.urls")),
    path("", include("grader.api.urls")),
    path("", include("analytics.api.urls")),
    path("", include("practice.api.urls")),
    path("", include("lms.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
]
