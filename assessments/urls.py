from django.urls import path

from assessments import views

app_name = "assessments"

urlpatterns = [
    path("", views.my_quizzes, name="my_quizzes"),
    path("quizzes/<slug:slug>/start/", views.quiz_start, name="quiz_start"),
    path("attempts/<int:attempt_id>/questions/<int:slot>/", views.question, name="question"),
    path("attempts/<int:attempt_id>/review/", views.review, name="review"),
    path("attempts/<int:attempt_id>/submit/", views.submit, name="submit"),
    path("attempts/<int:attempt_id>/results/", views.results, name="results"),
    path("attempts/<int:attempt_id>/explanation/", views.explanation, name="explanation"),
    path(
        "attempts/<int:attempt_id>/questions/<int:slot>/self-assessment/",
        views.self_assessment,
        name="self_assessment",
    ),
]
