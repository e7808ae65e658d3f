"""Instructors manage misconceptions, banks, questions and quizzes here."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path

from assessments.bank_format import bank_export, bank_import
from assessments.errors import ApplicationError
from assessments.models import (
    Attempt,
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
    file = forms.FileField(help_text="A bank in the fixture format (JSON).")


@admin.register(QuestionBank)
class QuestionBankAdmin(admin.ModelAdmin[QuestionBank]):
    list_display = ["slug", "title", "is_prerequisite"]
    actions = ["export_json"]
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
            try:
                data: Any = json.loads(form.cleaned_data["file"].read().decode("utf-8"))
                bank = bank_import(data)
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                form.add_error("file", f"Not a JSON file: {error}")
                status = 400
            except ApplicationError as error:
                form.add_error(
                    "file", error.message if not error.fields else "The bank was not imported."
                )
                problems = error.fields
                status = 400
            else:
                self.message_user(
                    request, f"Imported bank {bank.slug!r} ({bank.questions.count()} questions)."
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


@admin.register(Quiz)
class QuizAdmin(admin.ModelAdmin[Quiz]):
    list_display = [
        "slug",
        "title",
        "is_published",
        "time_limit",
        "attempts_allowed",
        "opens_at",
        "closes_at",
    ]
    inlines = [QuizSectionInline]


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
class AttemptAdmin(admin.ModelAdmin[Attempt]):
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
    list_filter = ["quiz", "state"]
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
class ExplanationAdmin(admin.ModelAdmin[Explanation]):
    list_display = ["attempt", "misconception", "updated_at"]
    list_filter = ["misconception"]
    readonly_fields = ["attempt", "misconception", "text"]
