"""Database helpers the apps share."""

from django.conf import settings
from django.db import connection as default_connection


def prepared_fetchone(sql, params, *, connection=default_connection):
    """The first row of a hot path's fixed statement (None if it returns none): on PostgreSQL
    (config.postgresql) prepared, so it is parsed and planned once per connection, elsewhere, or
    with `DB_PREPARED_STATEMENTS=false` (a transaction-mode pooler that drops prepared
    statements), run on a plain cursor."""
    run = getattr(connection, "prepared_fetchone", None)
    if run is not None and settings.DB_PREPARED_STATEMENTS:
        return run(sql, params)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()
