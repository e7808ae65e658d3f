"""Grade webhooks: signed POSTs to a real receiver on loopback, retried by a real Celery
worker, recorded per try; SSRF refusals; the endpoints that manage them."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.utils import timezone
from rest_framework.test import APIClient

from assessments.models import Attempt
from assessments.services import attempt_start
from courses.models import Course
from lms import webhooks
from lms.models import LmsIdentity, WebhookDelivery, WebhookEndpoint
from tests.factories import UserFactory, quiz_of, single

MANAGE = ["webhooks:manage", "grades:read", "roster:write"]


def verify(secret: str, header: str, body: bytes, *, now: float, tolerance: int = 300) -> bool:
    """The receiver's side, as the README tells LMS developers to write it."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    timestamp, received = fields.get("t", ""), fields.get("v1", "")
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance:
        return False  # too old or from the future: possibly a replay
    signed = timestamp.encode() + b"." + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, received)


def _created(rows, seconds: float = 30):
    """Return the one row of `rows` once a worker has created it."""
    deadline = time.monotonic() + seconds
    while not rows.exists():
        assert time.monotonic() < deadline, "the score was never handed to the webhooks"
        time.sleep(0.05)
    return rows.get()


def settled(delivery_id: int, seconds: float = 30.0) -> WebhookDelivery:
    """Wait until the worker has delivered the delivery or given it up."""
    deadline = time.monotonic() + seconds
    while True:
        delivery = WebhookDelivery.objects.get(id=delivery_id)
        if delivery.state != WebhookDelivery.State.PENDING:
            return delivery
        if time.monotonic() > deadline:
            raise AssertionError(f"delivery {delivery_id} still pending: {delivery.last_error}")
        time.sleep(0.02)


@pytest.fixture
def course(db):
    return Course.objects.create(slug="bio101", title="Biology 101")


@pytest.fixture
def fast(settings):
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    settings.WEBHOOK_BACKOFF_BASE_MS = 1
    return settings


def _webhook(http: APIClient, url: str, **extra) -> dict[str, Any]:
    response = http.post("/api/v1/webhooks/", {"url": url, **extra}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def _ping(http: APIClient, webhook: dict[str, Any]) -> int:
    response = http.post(f"/api/v1/webhooks/{webhook['id']}/test/")
    assert response.status_code == 202, response.json()
    return response.json()["id"]


def test_a_scored_attempt_is_retried_until_delivered_and_the_receiver_can_verify_it(
    celery_worker, fast, course, lms_client, receiver
):
    # given: an LMS client with a webhook whose receiver fails twice, then accepts
    client, http = lms_client(course, scopes=MANAGE)
    target = receiver([500, 500, 200])
    webhook = _webhook(http, target.url)
    roster = {"members": [{"lms_user_id": "u1", "role": "learner"}]}
    assert (
        http.put(f"/api/v1/courses/{course.id}/roster/", roster, format="json").status_code == 200
    )
    learner = LmsIdentity.objects.get(lms_user_id="u1").user
    quiz = quiz_of(single(), course=course)
    attempt = attempt_start(quiz=quiz, learner=learner)
    right = attempt.responses.get(slot=1).question.choices.get(text="Right").id
    as_learner = APIClient()
    as_learner.force_authenticate(learner)
    answer = {"choices": [right], "confidence": 4}
    url = f"/api/v1/attempts/{attempt.id}/responses/1/"
    assert as_learner.put(url, answer, format="json").status_code == 200
    # when: the learner submits (the score's outbox hands it to the webhooks' consumer)
    assert as_learner.post(f"/api/v1/attempts/{attempt.id}/submit/").status_code == 200
    # then: one delivery, three tries recorded, delivered on the third
    delivery = settled(_created(WebhookDelivery.objects.filter(endpoint_id=webhook["id"])).id)
    assert delivery.state == WebhookDelivery.State.DELIVERED
    assert delivery.tries == 3 and delivery.last_status_code == 200
    assert delivery.delivered_at is not None and delivery.next_try_at is None
    assert [t.status_code for t in delivery.log.all()] == [500, 500, 200]
    assert delivery.log.first().error.startswith("HTTP 500")
    # and the receiver got the same signed body three times, and can verify each
    assert len(target.requests) == 3
    assert len({r.body for r in target.requests}) == 1
    for request in target.requests:
        assert request.path == "/hooks/grades?src=quiz"
        assert request.headers["content-type"] == "application/json"
        assert request.headers["x-quiz-event"] == "attempt.scored"
        assert request.headers["x-quiz-delivery"] == str(delivery.event_id)
        signature = request.headers["x-quiz-signature"]
        assert verify(webhook["secret"], signature, request.body, now=time.time())
    event = json.loads(target.requests[0].body)
    assert event["id"] == str(delivery.event_id) and event["type"] == "attempt.scored"
    assert event["data"] == {
        "course": course.id, "quiz": quiz.id, "attempt": attempt.id, "user": learner.id,
        "lms_user_id": "u1", "number": 1, "score": 1.0, "max_score": 1.0,
        "submitted_at": event["data"]["submitted_at"], "updated_at": event["data"]["updated_at"],
    }  # fmt: skip
    # and the client sees the delivery with its tries
    listed = http.get(f"/api/v1/webhooks/{webhook['id']}/deliveries/").json()["results"]
    assert [(d["state"], d["tries"], d["attempt"]) for d in listed] == [
        ("delivered", 3, attempt.id)
    ]
    assert [t["status_code"] for t in listed[0]["log"]] == [500, 500, 200]
    assert (
        http.get(f"/api/v1/webhooks/{webhook['id']}/deliveries/?state=failed").json()["results"]
        == []
    )
    # and a duplicate task (a redelivered message) takes nothing
    assert webhooks.webhook_delivery_try(delivery_id=delivery.id) is None
    assert len(target.requests) == 3
    assert client.webhooks.count() == 1


def test_a_4xx_other_than_429_gives_up_after_one_try(
    celery_worker, fast, course, lms_client, receiver
):
    _, http = lms_client(course, scopes=MANAGE)
    target = receiver([410])
    delivery = settled(_ping(http, _webhook(http, target.url)))
    assert delivery.state == WebhookDelivery.State.FAILED
    assert delivery.tries == 1 and delivery.last_status_code == 410
    assert delivery.last_error == "HTTP 410: thanks!"
    assert len(target.requests) == 1


def test_a_429_is_retried(celery_worker, fast, course, lms_client, receiver):
    _, http = lms_client(course, scopes=MANAGE)
    target = receiver([429, 200])
    delivery = settled(_ping(http, _webhook(http, target.url)))
    assert delivery.state == WebhookDelivery.State.DELIVERED
    assert [t.status_code for t in delivery.log.all()] == [429, 200]


def test_network_errors_are_retried_until_the_limit(celery_worker, fast, course, lms_client):
    # given: a port nobody listens on, and three tries at most
    fast.WEBHOOK_MAX_TRIES = 3
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _, http = lms_client(course, scopes=MANAGE)
    # when
    delivery = settled(_ping(http, _webhook(http, f"http://127.0.0.1:{port}/")))
    # then
    assert delivery.state == WebhookDelivery.State.FAILED
    assert delivery.tries == 3 and delivery.last_status_code is None
    log = list(delivery.log.all())
    assert [t.number for t in log] == [1, 2, 3]
    assert all(t.status_code is None and "refused" in t.error.lower() for t in log)


def _certificate_for(directory, name: str) -> tuple[str, str, str]:
    """Make a CA and a certificate it signed for `name`; return the CA, cert and key files."""
    now = datetime.now(UTC)

    def build(subject, issuer, public_key, signer, *, ca: bool):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()),
                critical=False,
            )
        )
        if ca:
            usage = {name: False for name in (
                "digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
                "key_agreement", "encipher_only", "decipher_only",
            )}  # fmt: skip
            builder = builder.add_extension(
                x509.KeyUsage(key_cert_sign=True, crl_sign=True, **usage), critical=True
            )
        else:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False
            )
        return builder.sign(signer, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = build("Test CA", "Test CA", ca_key.public_key(), ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = build(name, "Test CA", key.public_key(), ca_key, ca=False)
    files = [directory / n for n in ("ca.pem", "cert.pem", "key.pem")]
    files[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    files[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(files[0]), str(files[1]), str(files[2])


def test_https_is_verified_against_the_urls_host_name(
    celery_worker, fast, course, lms_client, receiver, tmp_path
):
    # given: a receiver whose certificate (from a CA we trust) names localhost only
    ca, cert, key = _certificate_for(tmp_path, "localhost")
    fast.WEBHOOK_CA_BUNDLE = ca
    fast.WEBHOOK_MAX_TRIES = 1
    _, http = lms_client(course, scopes=MANAGE)
    target = receiver([200], certificate=(cert, key))
    # when: one webhook names it as localhost, one by its address
    by_name = settled(_ping(http, _webhook(http, target.url)))
    by_address = settled(_ping(http, _webhook(http, target.url.replace("localhost", "127.0.0.1"))))
    # then: the connection went to the checked address, TLS checked the URL's name
    assert by_name.state == WebhookDelivery.State.DELIVERED
    assert by_address.state == WebhookDelivery.State.FAILED
    assert "doesn't match 'localhost'" in by_address.last_error
    assert len(target.requests) == 1
    assert target.requests[0].headers["host"] == target.url.split("/")[2]
    # and a certificate from a CA nobody trusts (the default bundle's) is refused
    fast.WEBHOOK_CA_BUNDLE = ""
    untrusted = settled(_ping(http, {"id": by_name.endpoint_id}))
    assert untrusted.state == WebhookDelivery.State.FAILED
    assert "certificate verify failed" in untrusted.last_error
    assert len(target.requests) == 1


def test_redirects_are_not_followed(celery_worker, fast, course, lms_client, receiver):
    _, http = lms_client(course, scopes=MANAGE)
    elsewhere = receiver([200])
    target = receiver([302], location=elsewhere.url)
    delivery = settled(_ping(http, _webhook(http, target.url)))
    assert delivery.state == WebhookDelivery.State.FAILED
    assert "redirects are not followed" in delivery.last_error
    assert len(target.requests) == 1 and elsewhere.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",  # loopback, while it is not allowed
        "https://localhost/hook",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",  # loopback in IPv6 clothing
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data/",  # cloud metadata
        "https://100.64.0.1/hook",  # carrier-grade NAT
        "https://0.0.0.0/hook",
        "https://224.0.0.1/hook",
        "http://8.8.8.8/hook",  # public, but plain http
        "https://user:pass@8.8.8.8/hook",
        "ftp://8.8.8.8/hook",
        "not a url",
    ],
)
def test_targets_that_could_reach_inside_are_refused_at_creation(settings, course, lms_client, url):
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    _, http = lms_client(course, scopes=MANAGE)
    response = http.post("/api/v1/webhooks/", {"url": url}, format="json")
    assert response.status_code == 400, response.json()
    assert "url" in response.json()["error"]["fields"]
    assert not WebhookEndpoint.objects.exists()


def test_public_https_targets_and_listed_private_networks_are_accepted(
    settings, course, lms_client
):
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    settings.WEBHOOK_ALLOWED_NETWORKS = ["10.1.0.0/16"]
    _, http = lms_client(course, scopes=MANAGE)
    # IP literals resolve without asking any DNS server; nothing is sent on creation.
    for url in ("https://8.8.8.8/h", "https://10.1.2.3/h"):
        assert http.post("/api/v1/webhooks/", {"url": url}, format="json").status_code == 201
    refused = http.post("/api/v1/webhooks/", {"url": "https://10.2.0.1/h"}, format="json")
    assert refused.status_code == 400


def test_a_target_refused_when_sending_gets_no_request(
    celery_worker, fast, course, lms_client, receiver
):
    # given: an endpoint made while loopback was allowed
    _, http = lms_client(course, scopes=MANAGE)
    target = receiver([200])
    webhook = _webhook(http, target.url)
    # when: loopback is no longer allowed (the check is made again before every POST)
    fast.WEBHOOK_ALLOW_LOOPBACK = False
    delivery = settled(_ping(http, webhook))
    # then
    assert delivery.state == WebhookDelivery.State.FAILED
    assert delivery.last_error.startswith("Refused:") and "loopback" in delivery.last_error
    assert target.requests == []


def test_the_signature_recipe_rejects_tampering_and_replays():
    body = b'{"id":"e1","type":"attempt.scored","data":{"score":1.0}}'
    now = 1_800_000_000
    header = webhooks.signature(secret="whsec_abc", timestamp=now, body=body)
    assert verify("whsec_abc", header, body, now=now + 10)
    assert not verify("whsec_abc", header, body.replace(b"1.0", b"9.0"), now=now)
    assert not verify("whsec_other", header, body, now=now)
    assert not verify("whsec_abc", header, body, now=now + 301)  # replayed later
    assert not verify("whsec_abc", header.replace("t=", "t=1"), body, now=now)
    assert not verify("whsec_abc", "v1=" + header.split("v1=")[1], body, now=now)


def test_only_counted_attempts_of_the_clients_courses_are_sent(course, lms_client):
    # given: endpoints of clients in every situation, and a learner's submitted attempt
    def endpoint(client, **extra):
        fields = {"url": "https://8.8.8.8/h", "events": ["attempt.scored"], **extra}
        return WebhookEndpoint.objects.create(client=client, **fields)

    bound, _ = lms_client(course, scopes=["grades:read"])
    wanted = endpoint(bound)
    endpoint(bound, is_active=False)
    endpoint(bound, events=[])
    endpoint(lms_client(course, scopes=["webhooks:manage"])[0])  # no grades:read
    endpoint(lms_client(scopes=["grades:read"])[0])  # not bound to the course
    revoked, _ = lms_client(course, scopes=["grades:read"])
    revoked.revoked_at = timezone.now()
    revoked.save()
    endpoint(revoked)
    learner = UserFactory.create()
    now = timezone.now()

    def scored(quiz, **extra):
        fields = {"number": 1, "seed": 1, "state": Attempt.State.SUBMITTED, "started_at": now,
                  "submitted_at": now, "score": Decimal(1), "max_score": Decimal(1), **extra}  # fmt: skip
        return Attempt.objects.create(quiz=quiz, learner=learner, **fields)

    counted = scored(quiz_of(single(), course=course))
    preview = scored(quiz_of(single(), course=course), is_preview=True)
    no_course = scored(quiz_of(single()))
    unfinished = scored(quiz_of(single(), course=course), state=Attempt.State.IN_PROGRESS)
    # when / then
    for attempt in (preview, no_course, unfinished):
        assert webhooks.attempt_deliveries_create(attempt_id=attempt.id) == []
    made = webhooks.attempt_deliveries_create(attempt_id=counted.id)
    assert [d.endpoint_id for d in WebhookDelivery.objects.filter(id__in=made)] == [wanted.id]


def test_the_sweep_re_enqueues_pending_deliveries_whose_task_was_lost(
    celery_worker, fast, course, lms_client, receiver
):
    # given: a pending delivery whose task never ran (a worker died), and one being tried
    _, http = lms_client(course, scopes=MANAGE)
    target = receiver([200])
    endpoint = WebhookEndpoint.objects.get(id=_webhook(http, target.url)["id"])
    past = timezone.now() - timedelta(minutes=5)
    lost = WebhookDelivery.objects.create(
        endpoint=endpoint, event="ping", payload={"lost": True}, next_try_at=past
    )
    WebhookDelivery.objects.create(
        endpoint=endpoint,
        event="ping",
        payload={"busy": True},
        next_try_at=timezone.now() + webhooks.LEASE,
    )
    # when
    requeued = webhooks.webhook_deliveries_requeue_overdue()
    # then: only the lost one, which the worker now delivers
    assert requeued == 1
    assert settled(lost.id).state == WebhookDelivery.State.DELIVERED
    assert [json.loads(r.body) for r in target.requests] == [{"lost": True}]


def test_clients_manage_their_own_webhooks(celery_worker, fast, course, lms_client, receiver):
    client, http = lms_client(course, scopes=MANAGE)
    target = receiver([200])
    # the secret is in the creation's answer only
    created = _webhook(http, target.url, events=["attempt.scored"])
    assert created["secret"].startswith("whsec_")
    assert created["events"] == ["attempt.scored"] and created["is_active"] is True
    listed = http.get("/api/v1/webhooks/").json()["results"]
    assert [w["id"] for w in listed] == [created["id"]] and "secret" not in listed[0]
    assert "secret" not in http.get(f"/api/v1/webhooks/{created['id']}/").json()
    # a test event is delivered, signed, and listed
    delivery = settled(_ping(http, created))
    assert delivery.state == WebhookDelivery.State.DELIVERED and delivery.event == "ping"
    request = target.requests[0]
    assert request.headers["x-quiz-event"] == "ping"
    assert verify(
        created["secret"], request.headers["x-quiz-signature"], request.body, now=time.time()
    )
    assert json.loads(request.body)["data"] == {"webhook": created["id"], "client": client.id}
    states = http.get(f"/api/v1/webhooks/{created['id']}/deliveries/?state=delivered").json()
    assert [d["id"] for d in states["results"]] == [delivery.id]
    # another client sees none of it
    _, other = lms_client(course, scopes=MANAGE)
    assert other.get("/api/v1/webhooks/").json()["results"] == []
    base = f"/api/v1/webhooks/{created['id']}"
    for response in (
        other.get(f"{base}/"),
        other.get(f"{base}/deliveries/"),
        other.post(f"{base}/test/"),
        other.delete(f"{base}/"),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    # deleting removes it with its deliveries
    assert http.delete(f"{base}/").status_code == 204
    assert http.get("/api/v1/webhooks/").json()["results"] == []
    assert not WebhookDelivery.objects.exists()
    assert http.delete(f"{base}/").status_code == 404


def test_webhooks_need_the_scope_and_bad_input_changes_nothing(settings, course, lms_client):
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    _, unscoped = lms_client(course, scopes=["grades:read"])
    denied = unscoped.get("/api/v1/webhooks/")
    assert denied.status_code == 403 and "webhooks:manage" in denied.json()["error"]["message"]
    _, http = lms_client(course, scopes=MANAGE)
    for payload, field in [
        ({}, "url"),
        ({"url": "http://127.0.0.1/h", "events": ["grade.eaten"]}, "events[0]"),
        ({"url": "http://127.0.0.1/h", "events": []}, "events"),
        ({"url": "http://127.0.0.1/h", "colour": "red"}, "colour"),
        ({"url": "http://127.0.0.1/h", "is_active": "maybe"}, "is_active"),
    ]:
        response = http.post("/api/v1/webhooks/", payload, format="json")
        assert response.status_code == 400
        assert field in response.json()["error"]["fields"], response.json()
    assert not WebhookEndpoint.objects.exists()
    created = _webhook(http, "http://127.0.0.1/h", is_active=False)
    bad_state = http.get(f"/api/v1/webhooks/{created['id']}/deliveries/?state=lost")
    assert bad_state.status_code == 400 and "state" in bad_state.json()["error"]["fields"]
    inactive = http.post(f"/api/v1/webhooks/{created['id']}/test/")
    assert inactive.status_code == 409 and inactive.json()["error"]["code"] == "webhook_inactive"
    assert not WebhookDelivery.objects.exists()
    assert http.get("/api/v1/webhooks/99999999999999999999999/").status_code == 404


def test_an_idempotency_key_creates_one_webhook(settings, course, lms_client):
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    _, http = lms_client(course, scopes=MANAGE)
    body = {"url": "http://127.0.0.1/h"}
    first = http.post("/api/v1/webhooks/", body, format="json", HTTP_IDEMPOTENCY_KEY="w1")
    again = http.post("/api/v1/webhooks/", body, format="json", HTTP_IDEMPOTENCY_KEY="w1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert WebhookEndpoint.objects.count() == 1
    other = http.post(
        "/api/v1/webhooks/", {"url": "http://127.0.0.1/x"}, format="json", HTTP_IDEMPOTENCY_KEY="w1"
    )
    assert other.status_code == 409
