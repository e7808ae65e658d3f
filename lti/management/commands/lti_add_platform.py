"""Register (or update) an LMS platform and its deployments, and print our tool's URLs."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import URLValidator
from django.urls import reverse

from lti import keys
from lti.platforms import platform_register


class Command(BaseCommand):
    help = "Register an LTI 1.3 platform (LMS) with its deployment ids; rerun to update it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--issuer", required=True, help="The platform's `iss`.")
        parser.add_argument("--client-id", required=True, help="Our client id on the platform.")
        parser.add_argument(
            "--deployment-id", action="append", required=True, help="Repeat for several."
        )
        parser.add_argument("--auth-login-url", required=True, help="OIDC authorization URL.")
        parser.add_argument("--auth-token-url", required=True, help="OAuth 2 token URL.")
        parser.add_argument("--keyset-url", required=True, help="The platform's JWKS URL.")
        parser.add_argument("--token-audience", default="", help="If not the token URL.")
        parser.add_argument("--name", default="", help="A name for people (e.g. 'Moodle').")
        parser.add_argument(
            "--tool-url", default="", help="Our public origin, to print the URLs to give the LMS."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        check = URLValidator(schemes=["https", "http"])
        for name in ("issuer", "auth_login_url", "auth_token_url", "keyset_url"):
            try:
                check(options[name])
            except ValidationError:
                flag = "--" + name.replace("_", "-")
                raise CommandError(f"{flag}: {options[name]!r} is not a URL.") from None
        platform, created = platform_register(
            issuer=options["issuer"],
            client_id=options["client_id"],
            deployment_ids=options["deployment_id"],
            auth_login_url=options["auth_login_url"],
            auth_token_url=options["auth_token_url"],
            keyset_url=options["keyset_url"],
            token_audience=options["token_audience"],
            name=options["name"],
        )
        key = keys.signing_key()
        verb = "Registered" if created else "Updated"
        self.stdout.write(f"{verb} platform {platform} (id {platform.id}).")
        origin = options["tool_url"].rstrip("/")
        for label, url_name in (
            ("Login initiation URL", "lti:login"),
            ("Redirect (launch) URL", "lti:launch"),
            ("Public keyset (JWKS) URL", "lti:jwks"),
        ):
            self.stdout.write(f"{label}: {origin}{reverse(url_name)}")
        self.stdout.write(f"Our signing key id (kid): {key.kid}")
