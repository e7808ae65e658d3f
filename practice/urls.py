"""Learner pages of guided practice, under /practice/."""

from django.urls import path

from practice import views

app_name = "practice"

urlpatterns = [
    path("", views.course_list, name="courses"),
    path("courses/<int:course_id>/", views.course_practice, name="course"),
    path("courses/<int:course_id>/start/", views.course_start, name="course_start"),
    path("steps/<int:step_id>/answer/", views.step_answer, name="step_answer"),
    path("steps/<int:step_id>/code/", views.step_code, name="step_code"),
    path("steps/<int:step_id>/status/", views.step_status, name="step_status"),
    path("steps/<int:step_id>/self-check/", views.step_self_check, name="step_self_check"),
    path("steps/<int:step_id>/feedback/", views.step_feedback, name="step_feedback"),
    path("sessions/<int:session_id>/stop/", views.session_stop, name="session_stop"),
]
