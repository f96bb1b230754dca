"""config.db.prepared_cursor: the hot paths' fixed statements are prepared on the PostgreSQL
connection (parsed and planned once), other queries are not, and DB_PREPARED_STATEMENTS=false
prepares nothing."""

import pytest
from django.db import connection

from config.db import prepared_cursor

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db]

MARK = "kosh_prepared_probe"


def _prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def _probe(make_cursor, value):
    with make_cursor() as cursor:
        cursor.execute(f"SELECT %(value)s::int + 1 AS {MARK}", {"value": value})
        return cursor.fetchone()[0]


def test_a_prepared_cursor_statement_is_prepared_once_and_answers_each_call():
    assert [_probe(prepared_cursor, n) for n in (1, 2, 3)] == [2, 3, 4]
    assert len([sql for sql in _prepared() if MARK in sql]) == 1


def test_a_plain_cursor_prepares_nothing():
    assert [_probe(connection.cursor, n) for n in (1, 2, 3)] == [2, 3, 4]
    assert not [sql for sql in _prepared() if MARK in sql]


def test_prepared_statements_off_prepares_nothing(settings):
    settings.DB_PREPARED_STATEMENTS = False
    assert [_probe(prepared_cursor, n) for n in (1, 2, 3)] == [2, 3, 4]
    assert not [sql for sql in _prepared() if MARK in sql]

