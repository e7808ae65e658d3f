from django.urls import path

from analytics.views import courses, learner_profile, quiz_statistics

app_name = "analytics"

urlpatterns = [
    path("", courses.course_list, name="course_list"),
    path("courses/<int:course_id>/", courses.course_dashboard, name="course_dashboard"),
    path("courses/<int:course_id>/<slug:table>.csv", courses.course_csv, name="course_csv"),
    path(
        "courses/<int:course_id>/learners/<int:learner_id>/",
        learner_profile.learner_profile_page,
        name="learner_profile",
    ),
    path(
        "courses/<int:course_id>/learners/<int:learner_id>/profile.csv",
        learner_profile.learner_profile_csv,
        name="learner_profile_csv",
    ),
    path(
        "quizzes/<int:quiz_id>/statistics/",
        quiz_statistics.quiz_statistics_page,
        name="quiz_statistics",
    ),
    path(
        "quizzes/<int:quiz_id>/statistics/<slug:table>.csv",
        quiz_statistics.quiz_statistics_csv,
        name="quiz_statistics_csv",
    ),
]
