"""Give responses saved before structural slots existed the slot they fill.

The draw kept no record of it, so it is rebuilt from the quiz's sections: a response
belongs to the first section whose bank (and form) holds its question, and within a
section the draws are numbered in display order. Every attempt of a quiz then has the
same slots with the same sections behind them, which is what the statistics need.
"""

from django.db import migrations


def backfill(apps, schema_editor):
    Response = apps.get_model("assessments", "Response")
    QuizSection = apps.get_model("assessments", "QuizSection")
    sections_of = {}
    for section in QuizSection.objects.order_by("quiz_id", "position", "id"):
        sections_of.setdefault(section.quiz_id, []).append(section)
    pending = (
        Response.objects.filter(structural_slot__isnull=True)
        .select_related("attempt", "question")
        .order_by("attempt_id", "slot")
    )
    batch, current, by_section = [], None, {}
    for response in pending.iterator(chunk_size=2000):
        if response.attempt_id != current:
            current, by_section = response.attempt_id, {}
        sections = sections_of.get(response.attempt.quiz_id, [])
        first_slot, place = 1, None
        for index, section in enumerate(sections):
            holds = section.bank_id == response.question.bank_id and section.form in (
                "",
                response.question.form,
            )
            if holds and len(by_section.get(index, [])) < section.draw_count:
                place = index
                break
            first_slot += section.draw_count
        if place is None:
            continue  # the quiz's sections changed since; leave it unplaced
        taken = by_section.setdefault(place, [])
        response.structural_slot = first_slot + len(taken)
        taken.append(response.id)
        batch.append(response)
        if len(batch) >= 2000:
            Response.objects.bulk_update(batch, ["structural_slot"])
            batch = []
    if batch:
        Response.objects.bulk_update(batch, ["structural_slot"])


def clear(apps, schema_editor):
    apps.get_model("assessments", "Response").objects.update(structural_slot=None)


class Migration(migrations.Migration):

    dependencies = [
        ("assessments", "0006_response_structural_slot"),
    ]

    operations = [migrations.RunPython(backfill, clear)]
