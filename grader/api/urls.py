from django.urls import path

from grader.api import views

urlpatterns = [
    path("exercises/", views.ExerciseListApi.as_view(), name="exercise_list"),
    path("exercises/<slug:slug>/", views.ExerciseDetailApi.as_view(), name="exercise_detail"),
    path(
        "submissions/<int:submission_id>/",
        views.SubmissionDetailApi.as_view(),
        name="submission_detail",
    ),
]
