from django.urls import path

from analytics import views

app_name = "analytics"

urlpatterns = [
    path("", views.course_list, name="course_list"),
    path("courses/<int:course_id>/", views.course_dashboard, name="course_dashboard"),
    path("courses/<int:course_id>/<slug:table>.csv", views.course_csv, name="course_csv"),
    path(
        "courses/<int:course_id>/learners/<int:learner_id>/",
        views.learner_profile_page,
        name="learner_profile",
    ),
    path(
        "courses/<int:course_id>/learners/<int:learner_id>/profile.csv",
        views.learner_profile_csv,
        name="learner_profile_csv",
    ),
    path("quizzes/<int:quiz_id>/statistics/", views.quiz_statistics_page, name="quiz_statistics"),
    path(
        "quizzes/<int:quiz_id>/statistics/<slug:table>.csv",
        views.quiz_statistics_csv,
        name="quiz_statistics_csv",
    ),
]
