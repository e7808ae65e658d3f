"""Instructor pages of guided practice, under /instructor/courses/<course_id>/practice/."""

from django.urls import path

from practice import instructor_views as views

app_name = "practice_instructor"

urlpatterns = [
    path("explanations/", views.explanation_queue, name="explanations"),
    path(
        "explanations/<int:step_id>/review/",
        views.explanation_review_submit,
        name="explanation_review",
    ),
    path("settings/", views.practice_settings, name="settings"),
    path("settings/pairs/", views.confused_pair_create, name="pair_create"),
    path("settings/pairs/<int:pair_id>/remove/", views.confused_pair_delete, name="pair_delete"),
    path("settings/items/", views.practice_items_save, name="items_save"),
    path("settings/post-test/", views.post_test_items_save, name="post_test_save"),
]
