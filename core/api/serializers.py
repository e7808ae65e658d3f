"""Serializers every app's API shares: strict input, and the shapes that must read the same
wherever they appear (a page, a misconception, a learner)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class StrictSerializer(serializers.Serializer[Any]):
    """Refuse keys the endpoint does not know, so a typo is an error, not a silent no-op."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({key: "Unknown field." for key in unknown})
        return super().to_internal_value(data)


class PageOut(serializers.Serializer[Any]):
    """A page of a list, as DRF's page-number pagination returns it."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)


# One vocabulary: a misconception is named by its code and title in quiz results and in
# the grader's verdicts alike (one OpenAPI component).
class MisconceptionOut(serializers.Serializer[Any]):
    code = serializers.CharField()
    title = serializers.CharField()


class LearnerOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    username = serializers.CharField()
