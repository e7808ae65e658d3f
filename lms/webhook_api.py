"""Grade webhooks over REST: an API client manages its endpoints and reads deliveries."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.errors import error_responses
from core.api.serializers import StrictSerializer
from core.errors import ApplicationError
from lms import webhooks
from lms.api import TAGS, ClientApi, Pages
from lms.auth import api_client, scope_required
from lms.models import WEBHOOK_EVENTS, ApiClient, WebhookDelivery, WebhookEndpoint
from lms.services import write_once_per_key

SCOPE = "webhooks:manage"
IDEMPOTENCY_KEY = OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)


class WebhookIn(StrictSerializer):
    url = serializers.URLField(
        max_length=2000, help_text="https on a public address (see the README on SSRF)."
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(WEBHOOK_EVENTS)),
        allow_empty=False,
        max_length=len(WEBHOOK_EVENTS),
        default=sorted(WEBHOOK_EVENTS),
    )
    is_active = serializers.BooleanField(default=True)


class WebhookOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    url = serializers.URLField()
    events = serializers.ListField(child=serializers.CharField())
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class WebhookCreatedOut(WebhookOut):
    secret = serializers.CharField(
        help_text="The signing secret, shown only in this answer: store it now."
    )


class TryOut(serializers.Serializer[Any]):
    number = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    duration_ms = serializers.IntegerField()
    status_code = serializers.IntegerField(allow_null=True)
    error = serializers.CharField()


class DeliveryOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    event_id = serializers.UUIDField(help_text="Sent as X-Quiz-Delivery and as the body's id.")
    event = serializers.CharField()
    attempt = serializers.IntegerField(source="attempt_id", allow_null=True)
    state = serializers.ChoiceField(choices=WebhookDelivery.State.choices)
    tries = serializers.IntegerField()
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()
    next_try_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    payload = serializers.JSONField()
    log = TryOut(many=True, source="log.all", help_text="Every try, first first.")


def _client(request: Request) -> ApiClient:
    client = api_client(request)
    assert client is not None
    return client


class WebhookListApi(ClientApi):
    permission_classes = [scope_required(SCOPE)]

    @extend_schema(
        tags=TAGS,
        responses={200: WebhookOut(many=True), **error_responses(400, 401, 403, 404, 429)},
        summary="The client's webhook endpoints",
        operation_id="webhooks_list",
    )
    def get(self, request: Request) -> Response:
        paginator = Pages()
        page = paginator.paginate_queryset(
            _client(request).webhooks.order_by("id"), request, view=self
        )
        return paginator.get_paginated_response(WebhookOut(page, many=True).data)

    @extend_schema(
        request=WebhookIn,
        tags=TAGS,
        responses={201: WebhookCreatedOut, **error_responses(400, 401, 403, 409, 415, 429)},
        summary="Add a webhook endpoint; the answer holds its signing secret, once",
        parameters=[IDEMPOTENCY_KEY],
    )
    def post(self, request: Request) -> Response:
        client = _client(request)
        payload = WebhookIn(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data

        def write() -> tuple[int, Any]:
            endpoint = webhooks.webhook_endpoint_create(
                client=client, url=data["url"], events=data["events"], is_active=data["is_active"]
            )
            return status.HTTP_201_CREATED, dict(WebhookCreatedOut(endpoint).data)

        code, body = write_once_per_key(
            client=client,
            key=request.headers.get("Idempotency-Key"),
            payload={"webhooks": request.data},
            write=write,
        )
        return Response(body, status=code)


class WebhookDetailApi(ClientApi):
    permission_classes = [scope_required(SCOPE)]

    @extend_schema(
        tags=TAGS,
        responses={200: WebhookOut, **error_responses(401, 403, 404, 429)},
        summary="One webhook endpoint (without its secret)",
    )
    def get(self, request: Request, webhook_id: int) -> Response:
        endpoint = webhooks.webhook_endpoint_get(client=_client(request), endpoint_id=webhook_id)
        return Response(WebhookOut(endpoint).data)

    @extend_schema(
        tags=TAGS,
        responses={
            204: OpenApiResponse(description="Deleted, with its deliveries."),
            **error_responses(401, 403, 404, 429),
        },
        summary="Delete a webhook endpoint; its pending deliveries are not sent",
    )
    def delete(self, request: Request, webhook_id: int) -> Response:
        webhooks.webhook_endpoint_delete(client=_client(request), endpoint_id=webhook_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveryListApi(ClientApi):
    permission_classes = [scope_required(SCOPE)]

    @extend_schema(
        tags=TAGS,
        responses={200: DeliveryOut(many=True), **error_responses(400, 401, 403, 404, 429)},
        summary="The endpoint's deliveries, newest first, with every try",
        parameters=[
            OpenApiParameter("state", str, enum=[s.value for s in WebhookDelivery.State]),
        ],
    )
    def get(self, request: Request, webhook_id: int) -> Response:
        endpoint: WebhookEndpoint = webhooks.webhook_endpoint_get(
            client=_client(request), endpoint_id=webhook_id
        )
        deliveries = endpoint.deliveries.prefetch_related("log").order_by("-id")
        state = request.query_params.get("state")
        if state is not None:
            if state not in WebhookDelivery.State.values:
                allowed = ", ".join(WebhookDelivery.State.values)
                raise ApplicationError(
                    f"state must be one of {allowed}; got {state[:40]!r}.",
                    fields={"state": f"One of {allowed}."},
                )
            deliveries = deliveries.filter(state=state)
        paginator = Pages()
        page = paginator.paginate_queryset(deliveries, request, view=self)
        return paginator.get_paginated_response(DeliveryOut(page, many=True).data)


class WebhookTestApi(ClientApi):
    permission_classes = [scope_required(SCOPE)]

    @extend_schema(
        request=None,
        tags=TAGS,
        responses={202: DeliveryOut, **error_responses(401, 403, 404, 409, 429)},
        summary="Send the endpoint a test event (ping); follow it in its deliveries",
        parameters=[IDEMPOTENCY_KEY],
    )
    def post(self, request: Request, webhook_id: int) -> Response:
        client = _client(request)

        def write() -> tuple[int, Any]:
            delivery = webhooks.webhook_ping(client=client, endpoint_id=webhook_id)
            return status.HTTP_202_ACCEPTED, dict(DeliveryOut(delivery).data)

        code, body = write_once_per_key(
            client=client,
            key=request.headers.get("Idempotency-Key"),
            payload={"webhook_test": webhook_id},
            write=write,
        )
        return Response(body, status=code)
