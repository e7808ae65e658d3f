"""A fake LMS platform for the LTI tests: a real HTTP server on 127.0.0.1 with its own RSA
key and JWKS, an OAuth 2 token endpoint that verifies our client assertions, and AGS and
NRPS endpoints that check tokens, scopes, media types and payloads as a platform would.

It signs id_tokens like an LMS does; tests then change one thing at a time to make a bad
launch. Everything it receives is recorded for the tests to assert on.
"""

from __future__ import annotations

import html
import io
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_MEMBERSHIPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
LINEITEM_MEDIA = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEM_CONTAINER_MEDIA = "application/vnd.ims.lis.v2.lineitemcontainer+json"
RESULT_CONTAINER_MEDIA = "application/vnd.ims.lis.v2.resultcontainer+json"
# The fields AGS requires of every score a tool posts.
SCORE_FIELDS = {
    "userId",
    "scoreGiven",
    "scoreMaximum",
    "activityProgress",
    "gradingProgress",
    "timestamp",
}
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakePlatform:
    """Start with `start()`; `url(path)` gives its addresses."""

    client_id: str = "tool-client-1"
    deployment_id: str = "deployment-1"
    key: rsa.RSAPrivateKey = field(default_factory=rsa_key)
    # A kid of its own: our tool caches a platform's keys by its JWKS URL, and a later fake
    # platform may be given the same port; a new kid makes the tool fetch the new key.
    kid: str = field(default_factory=lambda: f"platform-key-{secrets.token_hex(4)}")
    tool_jwks: dict[str, Any] = field(default_factory=dict)
    fail_scores: int = 0
    members: list[dict[str, Any]] = field(default_factory=list)
    members_page_size: int = 2
    received: list[Received] = field(default_factory=list)
    tokens: dict[str, set[str]] = field(default_factory=dict)
    assertion_ids: set[str] = field(default_factory=set)
    lineitems: dict[str, dict[str, Any]] = field(default_factory=dict)
    scores: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # AGS beyond scores: line items listed this many a page; results by line item id.
    lineitems_page_size: int = 2
    results: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # NRPS: members who can reach a resource link (by rlid); when `member_changes` is set,
    # a full list ends with a `differences` link that answers with those changes.
    link_members: dict[str, list[str]] = field(default_factory=dict)
    member_changes: list[dict[str, Any]] | None = None
    # For browser tests: the page that frames the tool, and the claims /auth signs.
    course_page_iframe: str = ""
    launch_claims: dict[str, Any] = field(default_factory=dict)

    def start(self) -> FakePlatform:
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                platform._handle(self, "GET")

            def do_POST(self) -> None:
                platform._handle(self, "POST")

            def do_PUT(self) -> None:
                platform._handle(self, "PUT")

            def do_DELETE(self) -> None:
                platform._handle(self, "DELETE")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def register(self) -> FakePlatform:
        """Register this platform with the tool, as its administrator would, and learn the
        tool's public keys (to verify client assertions). Needs the database."""
        from django.core.management import call_command

        from lti import keys

        call_command(
            "lti_add_platform",
            issuer=self.issuer,
            client_id=self.client_id,
            deployment_id=[self.deployment_id],
            auth_login_url=self.url("/auth"),
            auth_token_url=self.url("/token"),
            keyset_url=self.url("/jwks"),
            name="Fake LMS",
            stdout=io.StringIO(),
        )
        self.tool_jwks = keys.jwks()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.issuer + path

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": self.kid, "alg": "RS256", "use": "sig"})
        return {"keys": [jwk]}

    # -- messages ------------------------------------------------------------------------

    def claims(
        self, *, nonce: str, target_link_uri: str, roles: list[str] | None = None, **extra: Any
    ) -> dict[str, Any]:
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": "user-1",
            "exp": now + 300,
            "iat": now,
            "nonce": nonce,
            "given_name": "Grace",
            "family_name": "Hopper",
            "email": "grace@example.edu",
            LTI + "message_type": "LtiResourceLinkRequest",
            LTI + "version": "1.3.0",
            LTI + "deployment_id": self.deployment_id,
            LTI + "target_link_uri": target_link_uri,
            LTI + "resource_link": {"id": "link-1", "title": "Dropout check"},
            LTI + "roles": [LEARNER] if roles is None else roles,
            LTI + "context": {"id": "course-101", "title": "Deep Learning 101", "label": "DL101"},
            AGS: {
                "scope": [SCOPE_SCORE, SCOPE_LINEITEM],
                "lineitems": self.url("/lineitems"),
                "lineitem": self.url("/lineitems/1"),
            },
            NRPS: {
                "context_memberships_url": self.url("/memberships"),
                "service_versions": ["2.0"],
            },
        }
        body.update(extra)
        return {name: value for name, value in body.items() if value is not None}

    def sign(
        self,
        body: dict[str, Any],
        *,
        kid: str | None = "__default__",
        key: Any = None,
        algorithm: str = "RS256",
    ) -> str:
        headers = {} if kid is None else {"kid": self.kid if kid == "__default__" else kid}
        signing_key = key if key is not None else self.key
        token = jwt.encode(body, signing_key, algorithm=algorithm, headers=headers)
        if kid is None:  # PyJWT adds no kid unless asked; make sure none is there
            assert "kid" not in jwt.get_unverified_header(token)
        return token

    # -- the HTTP side -------------------------------------------------------------------

    def _reply(
        self,
        handler: BaseHTTPRequestHandler,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
        media: str = "application/json",
    ) -> None:
        raw = b"" if body is None else json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", media)
        handler.send_header("Content-Length", str(len(raw)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(raw)

    def _html(self, handler: BaseHTTPRequestHandler, page: str) -> None:
        raw = page.encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(raw)))
        handler.end_headers()
        handler.wfile.write(raw)

    def _course_page(self) -> str:
        return (
            "<!doctype html><title>Fake LMS course</title><h1>Deep Learning 101 (fake LMS)</h1>"
            f'<iframe id="tool" src="{html.escape(self.course_page_iframe)}" '
            'style="width:1000px;height:700px;border:2px solid #888"></iframe>'
        )

    def _authorize(self, query: dict[str, list[str]]) -> str:
        """The platform's OIDC authorization endpoint: sign an id_token, post it back."""
        params = {k: v[0] for k, v in query.items()}
        for name, expected in (("scope", "openid"), ("response_type", "id_token"),
                               ("response_mode", "form_post"), ("prompt", "none"),
                               ("client_id", self.client_id)):  # fmt: skip
            if params.get(name) != expected:
                self.errors.append(f"authorization request: {name}={params.get(name)!r}")
        token = self.sign({**self.launch_claims, "nonce": params.get("nonce", "")})
        action = html.escape(params.get("redirect_uri", ""))
        return (
            f'<!doctype html><form method="post" action="{action}">'
            f'<input type="hidden" name="id_token" value="{html.escape(token)}">'
            f'<input type="hidden" name="state" value="{html.escape(params.get("state", ""))}">'
            "</form><script>document.forms[0].submit()</script>"
        )

    def _bearer_scopes(self, handler: BaseHTTPRequestHandler) -> set[str] | None:
        auth = handler.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return None
        return self.tokens.get(auth[len("Bearer ") :])

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        content_type = handler.headers.get("Content-Type", "")
        if "json" in content_type and raw:
            body: Any = json.loads(raw)
        elif content_type.startswith("application/x-www-form-urlencoded"):
            body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        else:
            body = raw.decode()
        self.received.append(Received(method, handler.path, dict(handler.headers), body))
        path = parts.path
        if method == "GET" and path == "/jwks":
            return self._reply(handler, 200, self.jwks())
        if method == "GET" and path == "/course":
            return self._html(handler, self._course_page())
        if method == "GET" and path == "/auth":
            return self._html(handler, self._authorize(parse_qs(parts.query)))
        if method == "POST" and path == "/token":
            return self._token(handler, body)
        if method == "POST" and path == "/lineitems":
            return self._lineitem_create(handler, body)
        if method == "POST" and path.startswith("/lineitems/") and path.endswith("/scores"):
            return self._score(handler, path, body)
        if method == "GET" and path == "/memberships":
            return self._memberships(handler, parse_qs(parts.query))
        if method == "GET" and path == "/lineitems":
            return self._lineitems_list(handler, parse_qs(parts.query))
        if method == "GET" and path.startswith("/lineitems/") and path.endswith("/results"):
            return self._results(handler, path[: -len("/results")], parse_qs(parts.query))
        if method in ("PUT", "DELETE") and self.url(path) in self.lineitems:
            return self._lineitem_change(handler, method, self.url(path), body)
        return self._reply(handler, 404, {"error": "not found"})

    def _token(self, handler: BaseHTTPRequestHandler, form: dict[str, str]) -> None:
        def refuse(reason: str) -> None:
            self.errors.append(reason)
            self._reply(handler, 400, {"error": "invalid_client", "reason": reason})

        if form.get("grant_type") != "client_credentials":
            return refuse("grant_type")
        if form.get("client_assertion_type") != (
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        ):
            return refuse("client_assertion_type")
        assertion = form.get("client_assertion", "")
        try:
            kid = jwt.get_unverified_header(assertion)["kid"]
            jwk = next(k for k in self.tool_jwks["keys"] if k["kid"] == kid)
            claims = jwt.decode(
                assertion,
                jwt.PyJWK(jwk).key,
                algorithms=["RS256"],
                audience=self.url("/token"),
                options={"require": ["iss", "sub", "aud", "exp", "iat", "jti"]},
            )
        except (jwt.InvalidTokenError, StopIteration, KeyError) as error:
            return refuse(f"assertion: {error}")
        if claims["iss"] != self.client_id or claims["sub"] != self.client_id:
            return refuse("assertion iss/sub")
        if claims["jti"] in self.assertion_ids:
            return refuse("assertion jti reused")
        self.assertion_ids.add(claims["jti"])
        scopes = set(form.get("scope", "").split())
        known = {
            SCOPE_SCORE,
            SCOPE_LINEITEM,
            SCOPE_LINEITEM_READONLY,
            SCOPE_RESULT_READONLY,
            SCOPE_MEMBERSHIPS,
        }
        if not scopes or not scopes <= known:
            return refuse("scope")
        token = secrets.token_urlsafe(16)
        self.tokens[token] = scopes
        return self._reply(
            handler,
            200,
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": 3600,
                "scope": " ".join(sorted(scopes)),
            },
        )

    def _lineitem_create(self, handler: BaseHTTPRequestHandler, body: Any) -> None:
        scopes = self._bearer_scopes(handler)
        if scopes is None or SCOPE_LINEITEM not in scopes:
            return self._reply(handler, 401, {"error": "token"})
        if handler.headers.get("Content-Type") != "application/vnd.ims.lis.v2.lineitem+json":
            return self._reply(handler, 415, {"error": "media type"})
        if not isinstance(body, dict) or not {"scoreMaximum", "label"} <= set(body):
            return self._reply(handler, 400, {"error": "lineitem fields"})
        item_id = self.url(f"/lineitems/{len(self.lineitems) + 100}")
        self.lineitems[item_id] = {**body, "id": item_id}
        return self._reply(
            handler, 201, self.lineitems[item_id], media="application/vnd.ims.lis.v2.lineitem+json"
        )

    def _score(self, handler: BaseHTTPRequestHandler, path: str, body: Any) -> None:
        scopes = self._bearer_scopes(handler)
        if scopes is None or SCOPE_SCORE not in scopes:
            return self._reply(handler, 401, {"error": "token"})
        if handler.headers.get("Content-Type") != "application/vnd.ims.lis.v1.score+json":
            return self._reply(handler, 415, {"error": "media type"})
        if not isinstance(body, dict) or not set(body) >= SCORE_FIELDS:
            self.errors.append(f"score fields: {body}")
            return self._reply(handler, 400, {"error": "score fields"})
        if self.fail_scores > 0:
            self.fail_scores -= 1
            return self._reply(handler, 500, {"error": "the gradebook is down"})
        self.scores.append({"lineitem": path[: -len("/scores")], **body})
        return self._reply(handler, 204)

    def _memberships(self, handler: BaseHTTPRequestHandler, query: dict[str, list[str]]) -> None:
        scopes = self._bearer_scopes(handler)
        if scopes is None or SCOPE_MEMBERSHIPS not in scopes:
            return self._reply(handler, 401, {"error": "token"})
        media = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
        if handler.headers.get("Accept") != media:
            return self._reply(handler, 406, {"error": "accept"})
        params = {k: v[0] for k, v in query.items()}
        if "since" in params:  # the differences link: what changed since the full list
            changes = self.member_changes or []
            link = f'<{self.url("/memberships?since=2")}>; rel="differences"'
            body = {"id": self.url("/memberships"), "members": changes}
            return self._reply(handler, 200, body, headers={"Link": link}, media=media)
        members = self.members
        if "rlid" in params:
            if params["rlid"] not in self.link_members:
                return self._reply(handler, 404, {"error": "no such resource link"})
            allowed = self.link_members[params["rlid"]]
            members = [m for m in members if m["user_id"] in allowed]
        page = int(params.get("page", "1"))
        # The platform caps the page size the tool asks for with `limit`.
        size = min(int(params.get("limit", "1000")), self.members_page_size)
        chunk = members[(page - 1) * size : page * size]
        links = []
        if page * size < len(members):
            following = {**params, "page": str(page + 1)}
            links.append(f'<{self.url("/memberships?" + urlencode(following))}>; rel="next"')
        elif self.member_changes is not None and "rlid" not in params:
            links.append(f'<{self.url("/memberships?since=1")}>; rel="differences"')
        headers = {"Link": ", ".join(links)} if links else {}
        return self._reply(
            handler,
            200,
            {"id": self.url("/memberships"), "context": {"id": "course-101"}, "members": chunk},
            headers=headers,
            media=media,
        )

    # -- AGS line items and results (list, change, delete, read) -------------------------

    def _container(
        self,
        handler: BaseHTTPRequestHandler,
        path: str,
        items: list[dict[str, Any]],
        query: dict[str, list[str]],
        media: str,
    ) -> None:
        """One page of a container, with a `rel="next"` link while more remain."""
        params = {k: v[0] for k, v in query.items()}
        page = int(params.get("page", "1"))
        size = self.lineitems_page_size
        headers = {}
        if page * size < len(items):
            following = {**params, "page": str(page + 1)}
            headers["Link"] = f'<{self.url(path + "?" + urlencode(following))}>; rel="next"'
        chunk = items[(page - 1) * size : page * size]
        return self._reply(handler, 200, chunk, headers=headers, media=media)

    def _lineitems_list(self, handler: BaseHTTPRequestHandler, query: dict[str, list[str]]) -> None:
        scopes = self._bearer_scopes(handler)
        if scopes is None or not scopes & {SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY}:
            return self._reply(handler, 401, {"error": "token"})
        if handler.headers.get("Accept") != LINEITEM_CONTAINER_MEDIA:
            return self._reply(handler, 406, {"error": "accept"})
        items = list(self.lineitems.values())
        return self._container(handler, "/lineitems", items, query, LINEITEM_CONTAINER_MEDIA)

    def _lineitem_change(
        self, handler: BaseHTTPRequestHandler, method: str, item_id: str, body: Any
    ) -> None:
        scopes = self._bearer_scopes(handler)
        if scopes is None or SCOPE_LINEITEM not in scopes:
            return self._reply(handler, 401, {"error": "token"})
        if method == "DELETE":
            del self.lineitems[item_id]
            return self._reply(handler, 204)
        if handler.headers.get("Content-Type") != LINEITEM_MEDIA:
            return self._reply(handler, 415, {"error": "media type"})
        # A PUT replaces the line item: the fields AGS requires must all be there.
        if not isinstance(body, dict) or not {"scoreMaximum", "label"} <= set(body):
            self.errors.append(f"line item fields: {body}")
            return self._reply(handler, 400, {"error": "lineitem fields"})
        if body.get("id", item_id) != item_id:
            self.errors.append(f"line item id changed: {body}")
            return self._reply(handler, 400, {"error": "id"})
        self.lineitems[item_id] = {**body, "id": item_id}
        return self._reply(handler, 200, self.lineitems[item_id], media=LINEITEM_MEDIA)

    def _results(
        self, handler: BaseHTTPRequestHandler, item_path: str, query: dict[str, list[str]]
    ) -> None:
        scopes = self._bearer_scopes(handler)
        if scopes is None or SCOPE_RESULT_READONLY not in scopes:
            return self._reply(handler, 401, {"error": "token"})
        if handler.headers.get("Accept") != RESULT_CONTAINER_MEDIA:
            return self._reply(handler, 406, {"error": "accept"})
        items = self.results.get(self.url(item_path), [])
        return self._container(
            handler, item_path + "/results", items, query, RESULT_CONTAINER_MEDIA
        )
