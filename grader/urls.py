from django.urls import path

from grader import views

app_name = "grader"

urlpatterns = [
    path("", views.exercise_list, name="exercise_list"),
    path("<slug:slug>/", views.exercise_detail, name="exercise_detail"),
]
