from django.urls import path

from lti import views

app_name = "lti"

urlpatterns = [
    path("jwks/", views.jwks, name="jwks"),
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
]
