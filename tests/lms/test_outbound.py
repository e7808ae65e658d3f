"""The webhook SSRF filter on IPv6 addresses that carry an IPv4 address inside them."""

from __future__ import annotations

import pytest

from courses.models import Course
from lms import outbound
from lms.models import WebhookEndpoint

MANAGE = ["webhooks:manage", "grades:read", "roster:write"]

# Each reaches the IPv4 address it embeds: a NAT64 gateway, a 6to4 relay or the kernel
# translates the packets, so the filter must judge that address.
EMBEDDED_PRIVATE = [
    pytest.param("https://[64:ff9b::10.1.2.3]/hook", id="NAT64 of 10.1.2.3"),
    pytest.param("https://[64:ff9b::169.254.169.254]/hook", id="NAT64 of cloud metadata"),
    pytest.param("https://[64:ff9b::127.0.0.1]/hook", id="NAT64 of loopback"),
    pytest.param("https://[2002:c0a8:a::1]/hook", id="6to4 of 192.168.0.10"),
    pytest.param("https://[2002:7f00:1::1]/hook", id="6to4 of loopback"),
    pytest.param("https://[::10.1.2.3]/hook", id="IPv4-compatible 10.1.2.3"),
    pytest.param("https://[::127.0.0.1]/hook", id="IPv4-compatible loopback"),
    pytest.param("https://[::ffff:0:10.1.2.3]/hook", id="IPv4-translated 10.1.2.3"),
    pytest.param("https://[64:ff9b:1::808:808]/hook", id="local-use NAT64 prefix"),
]


@pytest.fixture
def course(db):
    return Course.objects.create(slug="dl-101", title="Deep Learning 101")


@pytest.mark.parametrize("url", EMBEDDED_PRIVATE)
def test_ipv6_addresses_embedding_an_inside_ipv4_address_are_refused(
    settings, course, lms_client, url
):
    # given: loopback and private networks are not allowed
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    _, http = lms_client(course, scopes=MANAGE)
    # when
    response = http.post("/api/v1/webhooks/", {"url": url}, format="json")
    # then: refused, naming the field and the kind of address, and nothing is stored
    assert response.status_code == 400, response.json()
    message = response.json()["error"]["fields"]["url"]
    assert "loopback" in message or "private" in message
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "https://[64:ff9b::8.8.8.8]/hook",  # NAT64 of a public address (DNS64 networks)
        "https://[2002:808:808::1]/hook",  # 6to4 of a public address
        "https://[::ffff:8.8.8.8]/hook",
        "https://[2606:4700:4700::1111]/hook",  # plain public IPv6
    ],
)
def test_ipv6_addresses_embedding_a_public_address_are_accepted(settings, url):
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    target = outbound.target_check(url)
    assert target.scheme == "https"


def test_an_embedded_address_inside_an_allowed_network_is_accepted(settings):
    # The class that counts is the embedded address's, for the allow-list too.
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    settings.WEBHOOK_ALLOWED_NETWORKS = ["10.1.0.0/16"]
    assert outbound.target_check("https://[64:ff9b::10.1.2.3]/hook").addresses
    with pytest.raises(outbound.TargetRefused):
        outbound.target_check("https://[64:ff9b::10.2.0.1]/hook")


def test_embedded_loopback_is_judged_as_loopback(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    with pytest.raises(outbound.TargetRefused, match="loopback"):
        outbound.target_check("https://[64:ff9b::127.0.0.1]/hook")
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    assert outbound.target_check("https://[64:ff9b::127.0.0.1]/hook").addresses
