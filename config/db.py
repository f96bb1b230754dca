"""Database helpers the apps share."""

from django.db import connection as default_connection


def prepared_cursor(connection=default_connection):
    """A cursor for a hot path's fixed statement: on PostgreSQL (config.postgresql) one whose
    statements are parsed and planned once per connection, elsewhere a plain cursor."""
    make = getattr(connection, "prepared_cursor", None)
    return make() if make is not None else connection.cursor()
