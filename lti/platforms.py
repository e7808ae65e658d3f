"""Registering an LMS platform and its deployments: by hand (lti_add_platform) or by
dynamic registration (lti/registration.py), through the one service below."""

from __future__ import annotations

from django.db import transaction

from lti.models import Deployment, Platform


@transaction.atomic
def platform_register(
    *,
    issuer: str,
    client_id: str,
    deployment_ids: list[str],
    auth_login_url: str,
    auth_token_url: str,
    keyset_url: str,
    token_audience: str = "",
    name: str = "",
) -> tuple[Platform, bool]:
    """Register (or update) a platform and add its deployments; say whether it is new."""
    platform, created = Platform.objects.update_or_create(
        issuer=issuer,
        client_id=client_id,
        defaults={
            "name": name,
            "auth_login_url": auth_login_url,
            "auth_token_url": auth_token_url,
            "auth_token_audience": token_audience,
            "keyset_url": keyset_url,
            "is_active": True,
        },
    )
    for deployment_id in deployment_ids:
        Deployment.objects.get_or_create(platform=platform, deployment_id=deployment_id)
    return platform, created
