from django.urls import path

from lms import api

urlpatterns = [
    path("courses/", api.CourseListApi.as_view(), name="lms_course_list"),
    path("courses/<int:course_id>/roster/", api.RosterApi.as_view(), name="lms_roster"),
    path("courses/<int:course_id>/grades/", api.GradeListApi.as_view(), name="lms_grades"),
    path("courses/<int:course_id>/quizzes/", api.QuizListApi.as_view(), name="lms_quizzes"),
    path(
        "courses/<int:course_id>/submissions/",
        api.SubmissionListApi.as_view(),
        name="lms_submissions",
    ),
]
