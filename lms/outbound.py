"""POSTs to URLs that API clients chose, guarded against server-side request forgery.

A webhook URL is somebody else's input. Before every POST its host is resolved and every
address must be public: loopback only when WEBHOOK_ALLOW_LOOPBACK is on, private networks
only inside WEBHOOK_ALLOWED_NETWORKS, link-local (cloud metadata), multicast and reserved
ranges never; an IPv6 address that embeds an IPv4 one (IPv4-mapped or -compatible, NAT64,
6to4) is judged as that IPv4 address. The connection then goes to the very address that
was checked, so a second DNS answer (rebinding) cannot redirect it; TLS still verifies the
URL's host name.
Plain http is allowed only to loopback. Redirects are never followed.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import certifi
import urllib3
from django.conf import settings

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
RESPONSE_SNIPPET_BYTES = 200


class TargetRefused(Exception):
    """The URL may never be called as it is (scheme, credentials, a private address)."""


class TargetUnresolved(Exception):
    """The URL's host does not resolve now; that may pass."""


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect, and what to say the host is."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


# IPv6 prefixes whose last 32 bits are an IPv4 address that the packets end up at: NAT64's
# well-known prefix (RFC 6052), SIIT's IPv4-translated addresses (RFC 2765) and the
# deprecated IPv4-compatible addresses (RFC 4291). IPv4-mapped ones are Python's ipv4_mapped,
# 6to4 (2002::/16, the address in bits 16-48) its sixtofour.
_EMBEDDING_NETWORKS = tuple(
    ipaddress.IPv6Network(network) for network in ("64:ff9b::/96", "::ffff:0:0:0/96", "::/96")
)
# NAT64 prefixes a network chose itself (RFC 8215): the embedded address may sit anywhere.
_LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address that an IPv6 address carries and reaches, if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    # :: and ::1 are IPv6's own unspecified and loopback addresses, not IPv4-compatible.
    if address in _EMBEDDING_NETWORKS[2] and int(address) <= 1:
        return None
    if any(address in network for network in _EMBEDDING_NETWORKS):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _address_refusal(address: IpAddress) -> str | None:
    """Why `address` may not be called, or None when it may."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in _LOCAL_NAT64:
            return "a private, link-local or reserved address"
        # An IPv6 address that embeds an IPv4 one is judged as that IPv4 address.
        address = _embedded_ipv4(address) or address
    # The messages reach API clients: they name the kind of address, never the address,
    # so a client cannot map our internal DNS through them.
    if address.is_loopback:
        if settings.WEBHOOK_ALLOW_LOOPBACK:
            return None
        return "a loopback address"
    for network in settings.WEBHOOK_ALLOWED_NETWORKS:
        if address in ipaddress.ip_network(network):
            return None
    if address.is_multicast or not address.is_global:
        return "a private, link-local or reserved address"
    return None


def target_check(url: str) -> Target:
    """Return where `url` may be reached; raise TargetRefused or TargetUnresolved if not."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http"):
        raise TargetRefused("The URL must start with https://.")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("The URL must not carry a user name or password.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise TargetRefused("The URL has no host.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise TargetRefused("The URL's port is not a number from 1 to 65535.") from None
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise TargetUnresolved(f"The host {host[:100]!r} does not resolve.") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    for address in addresses:
        refusal = _address_refusal(ipaddress.ip_address(address.split("%")[0]))
        if refusal is not None:
            raise TargetRefused(
                f"The host {host[:100]!r} resolves to {refusal}; webhooks go to public hosts."
            )
    if parts.scheme == "http" and not all(
        ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses
    ):
        raise TargetRefused("The URL must start with https:// (http only to loopback).")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, host, port, path, tuple(addresses))


@dataclass(frozen=True)
class Reply:
    status: int
    snippet: str
    retry_after: str | None


def _pool(target: Target, address: str) -> urllib3.HTTPConnectionPool:
    timeout = urllib3.Timeout(
        connect=settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS,
        read=settings.WEBHOOK_READ_TIMEOUT_SECONDS,
    )
    if target.scheme == "http":
        return urllib3.HTTPConnectionPool(address, target.port, timeout=timeout)
    return urllib3.HTTPSConnectionPool(
        address,
        target.port,
        timeout=timeout,
        cert_reqs="CERT_REQUIRED",
        ca_certs=settings.WEBHOOK_CA_BUNDLE or certifi.where(),
        server_hostname=target.host,  # SNI and certificate checks use the URL's name
        assert_hostname=target.host,
    )


def post(target: Target, body: bytes, headers: dict[str, str]) -> Reply:
    """POST `body` to the checked addresses (the next one only if connecting fails) and
    return the reply, of which only the first bytes are read.

    Raises urllib3's HTTPError (or OSError) when no answer came (refused, timed out)."""
    failure: Exception | None = None
    for address in target.addresses:
        with _pool(target, address) as pool:
            try:
                response = pool.urlopen(
                    "POST",
                    target.path,
                    body=body,
                    headers={**headers, "Host": target.host_header},
                    retries=False,
                    redirect=False,
                    assert_same_host=False,
                    preload_content=False,
                )
            except urllib3.exceptions.NewConnectionError as error:
                failure = error
                continue
            try:
                snippet = response.read(RESPONSE_SNIPPET_BYTES)
            finally:
                response.release_conn()
            return Reply(
                status=response.status,
                snippet=snippet.decode("utf-8", "replace"),
                retry_after=response.headers.get("Retry-After"),
            )
    assert failure is not None  # target_check returns at least one address
    raise failure
