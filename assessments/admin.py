"""Bank authors manage misconceptions, banks, questions and quizzes here; instructors read
their courses' attempts and explanations (only theirs: see courses.admin.CourseDataAdmin)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path

from assessments.bank_transfer import bank_export
from assessments.formats.conversion_import import conversion_import
from assessments.formats.moodle_xml_read import file_refuse_if_too_large
from assessments.formats.registry import EXPORTERS, READERS
from assessments.models import (
    Attempt,
    BlueprintRule,
    Choice,
    Explanation,
    Misconception,
    NumericDistractor,
    Question,
    QuestionBank,
    Quiz,
    QuizSection,
    Response,
)
from assessments.selectors import quiz_blueprint_problem
from core.errors import ApplicationError
from courses.admin import CourseDataAdmin


@admin.register(Misconception)
class MisconceptionAdmin(admin.ModelAdmin[Misconception]):
    list_display = ["code", "title", "kind"]
    list_filter = ["kind"]
    search_fields = ["code", "title", "belief"]


class ChoiceInline(admin.TabularInline[Choice, Question]):
    model = Choice
    extra = 0
    fields = ["tier", "position", "text", "is_correct", "misconceptions", "feedback"]
    filter_horizontal = ["misconceptions"]


class DistractorInline(admin.TabularInline[NumericDistractor, Question]):
    model = NumericDistractor
    extra = 0
    fields = ["answer", "misconceptions", "feedback"]


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin[Question]):
    list_display = ["slug", "bank", "qtype", "form"]
    list_filter = ["bank", "qtype", "form", "probes"]
    search_fields = ["slug", "stem"]
    filter_horizontal = ["probes"]
    inlines = [ChoiceInline, DistractorInline]


class BankImportForm(forms.Form):
    format = forms.ChoiceField(
        choices=[
            ("json", "JSON (the fixture format)"),
            ("moodle-xml", "Moodle XML"),
            ("gift", "GIFT"),
        ],
        initial="json",
        required=False,  # absent: JSON, as before there was a choice
    )
    file = forms.FileField(help_text="A bank file in the chosen format.")
    partial = forms.BooleanField(
        required=False,
        label="Import the valid questions only",
        help_text="Without this, nothing is written unless every question is valid.",
    )


@admin.register(QuestionBank)
class QuestionBankAdmin(admin.ModelAdmin[QuestionBank]):
    list_display = ["slug", "title", "is_prerequisite"]
    actions = ["export_json", "export_moodle_xml"]
    change_list_template = "admin/assessments/questionbank/change_list.html"

    @admin.action(description="Export the selected bank as JSON")
    def export_json(
        self, request: HttpRequest, queryset: QuerySet[QuestionBank]
    ) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one bank to export.", messages.ERROR)
            return None
        bank = queryset.get()
        response = JsonResponse(
            bank_export(bank), json_dumps_params={"indent": 2, "ensure_ascii": False}
        )
        response["Content-Disposition"] = f'attachment; filename="{bank.slug}.json"'
        return response

    @admin.action(description="Export the selected banks as Moodle XML")
    def export_moodle_xml(
        self, request: HttpRequest, queryset: QuerySet[QuestionBank]
    ) -> HttpResponse:
        exported = EXPORTERS["moodle-xml"](list(queryset.order_by("slug")))
        response = HttpResponse(exported.content, content_type="application/xml; charset=utf-8")
        name = queryset.get().slug if queryset.count() == 1 else "question-banks"
        response["Content-Disposition"] = f'attachment; filename="{name}.xml"'
        return response

    def get_urls(self) -> list[URLPattern]:
        extra = [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="assessments_questionbank_import",
            )
        ]
        return extra + super().get_urls()

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a bank file; show every problem by question and field, or import it."""
        if not self.has_add_permission(request):
            return HttpResponse("You may not import banks.", status=403)
        form = BankImportForm(request.POST or None, request.FILES or None)
        problems: dict[str, str] = {}
        status = 200
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                file_refuse_if_too_large(size=upload.size)
                conversion = READERS[form.cleaned_data["format"] or "json"](
                    upload.read(), Path(upload.name).stem
                )
                report = conversion_import(
                    conversion=conversion, partial=form.cleaned_data["partial"]
                )
            except ApplicationError as error:
                form.add_error(
                    "file", error.message if not error.fields else "Nothing was imported."
                )
                problems = error.fields
                status = 400
            else:
                for slug, count in report.banks.items():
                    self.message_user(request, f"Imported bank {slug!r} ({count} questions).")
                for where, note in report.skipped.items():
                    self.message_user(request, f"Skipped {where}: {note}", messages.INFO)
                for where, message in report.refused.items():
                    self.message_user(
                        request, f"Not imported: {where}: {message}", messages.WARNING
                    )
                return redirect("admin:assessments_questionbank_changelist")
        elif request.method == "POST":
            status = 400
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "problems": problems,
            "title": "Import a question bank",
            "opts": self.model._meta,
        }
        return render(request, "admin/assessments/questionbank/import.html", context, status=status)


class QuizSectionInline(admin.TabularInline[QuizSection, Quiz]):
    model = QuizSection
    extra = 0


def _kept(formset: BaseInlineFormSet[Any, Any, Any]) -> list[Any]:
    """Return the instances a valid formset would leave: neither deleted nor left blank."""
    kept = []
    for form in formset.forms:
        if formset.can_delete and form.cleaned_data.get("DELETE"):
            continue
        if form.instance.pk is None and not form.has_changed():
            continue
        kept.append(form.instance)
    return kept


class BlueprintRuleFormSet(BaseInlineFormSet[BlueprintRule, Quiz, Any]):
    """The blueprint's rules; refuses a blueprint that the sections, as posted, cannot meet."""

    # Set by QuizAdmin: the sections posted with the rules (None: the saved ones).
    sections_formset: BaseInlineFormSet[QuizSection, Quiz, Any] | None = None

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        rules: list[BlueprintRule] = _kept(self)
        seen: set[tuple[int | None, str]] = set()
        for rule in rules:
            if (rule.misconception_id, rule.qtype) in seen:
                raise ValidationError(
                    f"Two rules count {rule.describe()}; keep one and set its minimum."
                )
            seen.add((rule.misconception_id, rule.qtype))
        sections: list[QuizSection] | None = None
        if self.sections_formset is not None:
            if not self.sections_formset.is_valid():
                return  # its own errors come first
            sections = _kept(self.sections_formset)
        elif self.instance.pk is None:
            sections = []
        problem = quiz_blueprint_problem(quiz=self.instance, sections=sections, rules=rules)
        if problem is not None:
            changed = self.has_changed() or self.sections_formset is None
            what = "this blueprint" if changed else "the blueprint with these sections"
            raise ValidationError(f"No attempt could honour {what}. {problem}")


class BlueprintRuleInline(admin.TabularInline[BlueprintRule, Quiz]):
    """What every attempt carries: at least N items per misconception code and/or type."""

    model = BlueprintRule
    formset = BlueprintRuleFormSet
    extra = 0
    fields = ["misconception", "qtype", "minimum"]
    verbose_name = "blueprint rule"
    verbose_name_plural = (
        "Blueprint: every attempt carries at least this many items that probe the "
        "misconception (and/or are of the type)"
    )


@admin.register(Quiz)
class QuizAdmin(CourseDataAdmin[Quiz]):
    # The catalogue's quizzes are every author's; a course's, its instructors'.
    catalogue_rows = True
    superusers_delete = False  # a quiz with attempts is protected by its attempts
    list_display = [
        "slug",
        "title",
        "is_published",
        "time_limit",
        "attempts_allowed",
        "opens_at",
        "closes_at",
    ]
    inlines = [QuizSectionInline, BlueprintRuleInline]

    def _create_formsets(
        self, request: HttpRequest, obj: Model, change: bool
    ) -> tuple[list[Any], list[Any]]:
        # Django validates each inline on its own; the blueprint's check needs the sections
        # as posted, so hand the rules' formset the sections' one (validated before it).
        formsets, inlines = super()._create_formsets(request, obj, change)  # type: ignore[misc]
        sections = next((f for f in formsets if f.model is QuizSection), None)
        for formset in formsets:
            if isinstance(formset, BlueprintRuleFormSet):
                formset.sections_formset = sections
        return formsets, inlines


class ResponseInline(admin.TabularInline[Response, Attempt]):
    model = Response
    extra = 0
    can_delete = False
    fields = [
        "slot",
        "question",
        "numeric_value",
        "text",
        "confidence",
        "seconds_spent",
        "mark",
        "is_correct",
    ]
    readonly_fields = [
        "slot",
        "question",
        "numeric_value",
        "text",
        "confidence",
        "seconds_spent",
        "mark",
        "is_correct",
    ]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Attempt)
class AttemptAdmin(CourseDataAdmin[Attempt]):
    course_path = "quiz__course"
    list_display = [
        "id",
        "quiz",
        "learner",
        "number",
        "state",
        "score",
        "max_score",
        "started_at",
        "submitted_at",
    ]
    list_filter = [("quiz", admin.RelatedOnlyFieldListFilter), "state"]
    readonly_fields = [
        "quiz",
        "learner",
        "number",
        "seed",
        "state",
        "started_at",
        "deadline",
        "submitted_at",
        "score",
        "max_score",
    ]
    inlines = [ResponseInline]


@admin.register(Explanation)
class ExplanationAdmin(CourseDataAdmin[Explanation]):
    course_path = "attempt__quiz__course"
    list_display = ["attempt", "misconception", "updated_at"]
    list_filter = ["misconception"]
    readonly_fields = ["attempt", "misconception", "text"]
