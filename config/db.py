"""Database helpers the apps share."""

from django.db import connection as default_connection


def prepared_fetchone(sql, params, *, connection=default_connection):
    """The first row of a hot path's fixed statement (None if it returns none): on PostgreSQL
    (config.postgresql) prepared, so it is parsed and planned once per connection, elsewhere run
    on a plain cursor."""
    run = getattr(connection, "prepared_fetchone", None)
    if run is not None:
        return run(sql, params)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()
