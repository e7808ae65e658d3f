"""Grade webhooks over REST: an API client manages its endpoints and reads deliveries."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.errors import error_responses
from core.errors import ApplicationError
from lms import webhooks
from lms.api.serializers import DeliveryOut, WebhookCreatedOut, WebhookIn, WebhookOut
from lms.api.views import TAGS, ClientApi, Pages
from lms.auth import api_client, scope_required
from lms.models import ApiClient, WebhookDelivery, WebhookEndpoint
from lms.selectors import client_webhooks, endpoint_deliveries
from lms.services import write_once_per_key

SCOPE = "webhooks:manage"
IDEMPOTENCY_KEY = OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)


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
            client_webhooks(client=_client(request)), request, view=self
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
        state = request.query_params.get("state")
        if state is not None and state not in WebhookDelivery.State.values:
            allowed = ", ".join(WebhookDelivery.State.values)
            raise ApplicationError(
                f"state must be one of {allowed}; got {state[:40]!r}.",
                fields={"state": f"One of {allowed}."},
            )
        deliveries = endpoint_deliveries(endpoint=endpoint, state=state)
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
