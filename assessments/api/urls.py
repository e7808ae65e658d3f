"""The learner's quiz API, under /api/v1/ (quizsite/api_urls.py holds the root)."""

from django.urls import path

from assessments.api import views

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
    # The grader's (grader.api.urls has the rest): it may answer a quiz's code slot.
    path("submissions/", views.SubmissionCreateApi.as_view(), name="submission_create"),
]
