"""Refresh tokens recorded before accounts.tokens existed sit in clear in
token_blacklist_outstandingtoken.token: replace each by its SHA-256 digest (what
accounts.tokens.RefreshToken writes). The blacklist is keyed by jti, so revocation and rotation
keep working for every token already issued."""

import hashlib

from django.db import migrations

PREFIX = "sha256:"
BATCH = 1000


def hash_stored_tokens(apps, schema_editor):
    OutstandingToken = apps.get_model("token_blacklist", "OutstandingToken")
    rows = OutstandingToken.objects.exclude(token__startswith=PREFIX).only("pk", "token")
    batch = []
    for row in rows.iterator(chunk_size=BATCH):
        row.token = PREFIX + hashlib.sha256(row.token.encode()).hexdigest()
        batch.append(row)
        if len(batch) >= BATCH:
            OutstandingToken.objects.bulk_update(batch, ["token"])
            batch = []
    if batch:
        OutstandingToken.objects.bulk_update(batch, ["token"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_phone_sign_in"),
        ("token_blacklist", "0013_alter_blacklistedtoken_options_and_more"),
    ]

    operations = [
        migrations.RunPython(hash_stored_tokens, migrations.RunPython.noop, elidable=True),
    ]
