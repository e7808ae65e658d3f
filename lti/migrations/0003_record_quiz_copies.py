"""Record the catalogue copies deep linking made before copies were recorded.

They were found by slug (`<first 60 characters of the catalogue slug>-c<course id>`), so
that is how they are recognised here; a slug two catalogue quizzes share the start of is
left unrecorded, since which one it copies cannot be told (the next link makes a copy)."""

from django.db import migrations


def record(apps, schema_editor):
    Quiz = apps.get_model("assessments", "Quiz")
    QuizCopy = apps.get_model("lti", "QuizCopy")
    sources = {}
    for source_id, slug in Quiz.objects.filter(course__isnull=True).values_list("id", "slug"):
        sources.setdefault(slug[:60], []).append(source_id)
    recorded = set(QuizCopy.objects.values_list("copy_id", flat=True))
    copies = []
    course_quizzes = Quiz.objects.filter(course__isnull=False, course__lti_context__isnull=False)
    for copy_id, slug, course_id in course_quizzes.values_list("id", "slug", "course_id"):
        base, _, suffix = slug.rpartition("-c")
        candidates = sources.get(base, [])
        if suffix == str(course_id) and len(candidates) == 1 and copy_id not in recorded:
            copies.append(QuizCopy(source_id=candidates[0], course_id=course_id, copy_id=copy_id))
    QuizCopy.objects.bulk_create(copies, ignore_conflicts=True)


class Migration(migrations.Migration):

    dependencies = [
        ("lti", "0002_quiz_copy"),
    ]

    operations = [
        migrations.RunPython(record, migrations.RunPython.noop),
    ]
