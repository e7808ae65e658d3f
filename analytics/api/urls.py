from django.urls import path

from analytics.api import views

urlpatterns = [
    path(
        "quizzes/<int:quiz_id>/statistics/",
        views.QuizStatisticsApi.as_view(),
        name="quiz_statistics",
    ),
    path(
        "quizzes/<int:quiz_id>/responses/",
        views.QuizResponsesApi.as_view(),
        name="quiz_responses",
    ),
    path(
        "courses/<int:course_id>/misconceptions/",
        views.CourseMisconceptionsApi.as_view(),
        name="course_misconceptions",
    ),
]
