from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from assessments.api import views

app_name = "api"

urlpatterns = [
    path("quizzes/", views.QuizListApi.as_view(), name="quiz_list"),
    path("quizzes/<slug:slug>/attempts/", views.AttemptStartApi.as_view(), name="attempt_start"),
    path("attempts/<int:attempt_id>/", views.AttemptDetailApi.as_view(), name="attempt_detail"),
    path(
        "attempts/<int:attempt_id>/responses/<int:slot>/",
        views.ResponseSaveApi.as_view(),
        name="response_save",
    ),
    path(
        "attempts/<int:attempt_id>/submit/", views.AttemptSubmitApi.as_view(), name="attempt_submit"
    ),
    path(
        "attempts/<int:attempt_id>/result/", views.AttemptResultApi.as_view(), name="attempt_result"
    ),
    # The grader's, the analytics' and practice's endpoints share the /api/v1/ prefix and
    # namespace.
    path("", include("grader.api.urls")),
    path("", include("analytics.api.urls")),
    path("", include("practice.api.urls")),
    path("", include("lms.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
]
