from django.contrib import admin

from courses.models import Course, Enrollment


class EnrollmentInline(admin.TabularInline[Enrollment, Course]):
    model = Enrollment
    extra = 0
    raw_id_fields = ["learner"]


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin[Course]):
    list_display = ["title", "slug", "created_at"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["instructors"]
    inlines = [EnrollmentInline]
