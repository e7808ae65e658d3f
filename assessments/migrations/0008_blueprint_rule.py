"""Blueprint rules: at least N items per misconception code and/or question type per attempt."""

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0007_backfill_structural_slot"),
    ]

    operations = [
        migrations.CreateModel(
            name="BlueprintRule",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "qtype",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("single", "Single choice"),
                            ("multiple", "Multiple response"),
                            ("truefalse", "True/false"),
                            ("numeric", "Numeric"),
                            ("twotier", "Two-tier"),
                            ("explain", "Explain it back"),
                            ("code", "Code (graded by the grader)"),
                        ],
                        help_text="Empty: items of any type that probe the misconception.",
                        max_length=16,
                        verbose_name="type",
                    ),
                ),
                (
                    "minimum",
                    models.PositiveSmallIntegerField(
                        default=1, validators=[django.core.validators.MinValueValidator(1)]
                    ),
                ),
                (
                    "misconception",
                    models.ForeignKey(
                        blank=True,
                        help_text="Empty: items of this type, whatever they probe.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="blueprint_rules",
                        to="assessments.misconception",
                    ),
                ),
                (
                    "quiz",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="blueprint_rules",
                        to="assessments.quiz",
                    ),
                ),
            ],
            options={
                "ordering": ["quiz_id", "id"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("misconception__isnull", False),
                            models.Q(("qtype", ""), _negated=True),
                            _connector="OR",
                        ),
                        name="blueprint_rule_names_code_or_type",
                        violation_error_message="Choose a misconception, a type, or both.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("minimum__gte", 1)),
                        name="blueprint_rule_minimum_at_least_one",
                        violation_error_message="A rule asks for at least 1 item.",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("misconception__isnull", False)),
                        fields=("quiz", "misconception", "qtype"),
                        name="blueprint_rule_unique_code",
                        violation_error_message="The blueprint already has a rule for this code and type.",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("misconception__isnull", True)),
                        fields=("quiz", "qtype"),
                        name="blueprint_rule_unique_type",
                        violation_error_message="The blueprint already has a rule for this type.",
                    ),
                ],
            },
        ),
    ]
