from django.urls import path

from lms.api import views, webhook_views

urlpatterns = [
    path("courses/", views.CourseListApi.as_view(), name="lms_course_list"),
    path("courses/<int:course_id>/roster/", views.RosterApi.as_view(), name="lms_roster"),
    path("courses/<int:course_id>/grades/", views.GradeListApi.as_view(), name="lms_grades"),
    path("courses/<int:course_id>/quizzes/", views.QuizListApi.as_view(), name="lms_quizzes"),
    path(
        "courses/<int:course_id>/submissions/",
        views.SubmissionListApi.as_view(),
        name="lms_submissions",
    ),
    path("webhooks/", webhook_views.WebhookListApi.as_view(), name="lms_webhooks"),
    path(
        "webhooks/<int:webhook_id>/",
        webhook_views.WebhookDetailApi.as_view(),
        name="lms_webhook",
    ),
    path(
        "webhooks/<int:webhook_id>/deliveries/",
        webhook_views.WebhookDeliveryListApi.as_view(),
        name="lms_webhook_deliveries",
    ),
    path(
        "webhooks/<int:webhook_id>/test/",
        webhook_views.WebhookTestApi.as_view(),
        name="lms_webhook_test",
    ),
]
