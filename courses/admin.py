"""Courses in the admin, and the two bases every admin of per-course rows uses:
`CourseDataAdmin` (a user sees the courses they teach) and `SuperusersOnlyAdmin` (records
that span courses)."""

from __future__ import annotations

from typing import Any, TypeVar

from django.contrib import admin
from django.db.models import ForeignKey, Model, Q, QuerySet
from django.forms import ModelChoiceField
from django.http import Http404, HttpRequest

from courses.models import Course, Enrollment
from courses.selectors import courses_taught

_ModelT = TypeVar("_ModelT", bound=Model)


class CourseDataAdmin(admin.ModelAdmin[_ModelT]):
    """Rows that belong to a course: each user sees those of the courses they teach
    (superusers see all), whatever model permissions they hold; any other row looks absent
    (404). Learners' work is deleted by superusers only, singly or in bulk."""

    # The lookup from the model to its course.
    course_path = "course"
    # Rows with no course (the catalogue's quizzes) are shown to anyone allowed the model.
    catalogue_rows = False
    # Whether only superusers delete (learners' work); False: the model's permission decides.
    superusers_delete = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[_ModelT]:
        rows = super().get_queryset(request)
        if request.user.is_superuser:
            return rows
        mine = Q(**{f"{self.course_path}__in": courses_taught(request.user)})
        if self.catalogue_rows:
            mine |= Q(**{f"{self.course_path}__isnull": True})
        return rows.filter(mine)

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> _ModelT | None:
        found = super().get_object(request, object_id, from_field)
        if found is None:
            # The admin would redirect saying the row does not exist; another course's row is
            # as absent, and a 404 says so without telling the two apart.
            raise Http404(f"No such {self.opts.verbose_name}.")
        return found

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if self.superusers_delete and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        if db_field.related_model is Course and not request.user.is_superuser:
            kwargs["queryset"] = courses_taught(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class SuperusersOnlyAdmin(admin.ModelAdmin[_ModelT]):
    """Records that span courses (API clients, LMS platforms, deliveries of scores):
    superusers only, whatever model permissions anyone else holds."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser and super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser and super().has_delete_permission(request, obj)


class EnrollmentInline(admin.TabularInline[Enrollment, Course]):
    model = Enrollment
    extra = 0
    raw_id_fields = ["learner"]


@admin.register(Course)
class CourseAdmin(CourseDataAdmin[Course]):
    course_path = "pk"
    list_display = ["title", "slug", "created_at"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["instructors"]
    inlines = [EnrollmentInline]
