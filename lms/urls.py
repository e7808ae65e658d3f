from django.urls import path

from lms import api, webhook_api

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
    path("webhooks/", webhook_api.WebhookListApi.as_view(), name="lms_webhooks"),
    path(
        "webhooks/<int:webhook_id>/",
        webhook_api.WebhookDetailApi.as_view(),
        name="lms_webhook",
    ),
    path(
        "webhooks/<int:webhook_id>/deliveries/",
        webhook_api.WebhookDeliveryListApi.as_view(),
        name="lms_webhook_deliveries",
    ),
    path(
        "webhooks/<int:webhook_id>/test/",
        webhook_api.WebhookTestApi.as_view(),
        name="lms_webhook_test",
    ),
]
