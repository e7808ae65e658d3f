from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("assessments", "0005_analogy_key_idea_probes"),
    ]

    operations = [
        migrations.AddField(
            model_name="response",
            name="structural_slot",
            field=models.PositiveSmallIntegerField(blank=True, null=True),
        ),
    ]
