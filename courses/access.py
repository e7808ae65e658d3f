"""Who may see a course's data: its instructors, and superusers; nobody else.

Being staff (what Django's admin needs to let someone log in) or authoring banks grants
nothing over any course. Pages, the API and the admin all ask `courses_taught`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from courses.models import Course


def courses_taught(user: Any) -> QuerySet[Course]:
    """Return the courses whose data `user` may see: those they teach (superusers: all)."""
    if not user.is_authenticated:
        return Course.objects.none()
    if user.is_superuser:
        return Course.objects.all()
    return Course.objects.filter(instructors=user)
