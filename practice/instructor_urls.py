"""Instructor pages of guided practice, under /instructor/courses/<course_id>/practice/."""

from django.urls import URLPattern

app_name = "practice_instructor"

urlpatterns: list[URLPattern] = []
