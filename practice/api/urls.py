from django.urls import path

from practice.api import views

urlpatterns = [
    path(
        "courses/<int:course_id>/practice/",
        views.PracticeSummaryApi.as_view(),
        name="practice_summary",
    ),
    path(
        "courses/<int:course_id>/practice/explanations/",
        views.PracticeExplanationsApi.as_view(),
        name="practice_explanations",
    ),
]
