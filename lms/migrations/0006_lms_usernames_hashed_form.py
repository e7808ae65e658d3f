"""LMS people with a long id were named `<prefix>-h<SHA-256 of the id>`, which a short id
`h<that hash>` would be named too; the hashed form is now `<prefix>_<SHA-256>`, which no
short id can spell. Rename the people named in the old hashed form (found through their
identity, so a short id that happens to look like a hash keeps its name).

Going back renames them again, except where a short id has taken the old name since."""

import hashlib
import re

from django.db import migrations

OLD = re.compile(r"^((?:lms|lti)[0-9]+)-h([0-9a-f]{64})$")
NEW = re.compile(r"^((?:lms|lti)[0-9]+)_([0-9a-f]{64})$")


def _rename(apps, pattern, separator):
    User = apps.get_model("auth", "User")
    LmsIdentity = apps.get_model("lms", "LmsIdentity")
    identities = LmsIdentity.objects.select_related("user").filter(
        user__username__regex=pattern.pattern
    )
    for identity in identities.iterator(chunk_size=500):
        user = identity.user
        prefix, digest = pattern.match(user.username).groups()
        if digest != hashlib.sha256(identity.lms_user_id.encode()).hexdigest():
            continue  # a short id that looks like a hash: its name is its id
        name = f"{prefix}{separator}{digest}"
        if not User.objects.filter(username=name).exists():
            User.objects.filter(id=user.id).update(username=name)


def to_new_form(apps, schema_editor):
    _rename(apps, OLD, "_")


def to_old_form(apps, schema_editor):
    _rename(apps, NEW, "-h")


class Migration(migrations.Migration):

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("lms", "0005_idempotentwrite_drop_key"),
    ]

    operations = [
        migrations.RunPython(to_new_form, to_old_form),
    ]
