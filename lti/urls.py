from django.urls import path

from lti import gradebook_views, registration_views, views

app_name = "lti"

urlpatterns = [
    path("jwks/", views.jwks, name="jwks"),
    path("register/<str:token>/", registration_views.registration, name="registration"),
    path("login/", views.login_initiation, name="login"),
    path("launch/", views.launch, name="launch"),
    path("deep-link/<str:token>/", views.deep_link_choose, name="deep_link_choose"),
    path("continue/<str:token>/", views.handoff, name="handoff"),
    path("quizzes/<slug:slug>/", views.quiz, name="quiz"),
    path(
        "courses/<int:course_id>/roster-sync/",
        views.roster_sync_request,
        name="roster_sync",
    ),
    path("courses/<int:course_id>/gradebook/", gradebook_views.gradebook, name="gradebook"),
    path(
        "courses/<int:course_id>/gradebook/update/",
        gradebook_views.gradebook_item_update,
        name="gradebook_item_update",
    ),
    path(
        "courses/<int:course_id>/gradebook/delete/",
        gradebook_views.gradebook_item_delete,
        name="gradebook_item_delete",
    ),
]
