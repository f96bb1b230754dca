"""config.db.prepared_fetchone: the hot paths' fixed statements are prepared on the PostgreSQL
connection (parsed and planned once) and run on one cursor kept for the connection, other
queries are not prepared, and DB_PREPARED_STATEMENTS=false prepares nothing."""

import pytest
from django.db import DataError, connection, transaction
from django.test.utils import CaptureQueriesContext

from config.db import prepared_fetchone

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db]

MARK = "kosh_prepared_probe"
PROBE = f"SELECT %(value)s::int + 1 AS {MARK}"


def _prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def _plain(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def test_a_hot_statement_is_prepared_once_and_answers_each_call():
    assert [prepared_fetchone(PROBE, {"value": n})[0] for n in (1, 2, 3)] == [2, 3, 4]
    assert len([sql for sql in _prepared() if MARK in sql]) == 1


def test_a_statement_that_returns_no_row_answers_none():
    assert prepared_fetchone(f"SELECT 1 AS {MARK} WHERE %(value)s::int < 0", {"value": 1}) is None


def test_a_plain_cursor_prepares_nothing():
    assert [_plain(PROBE, {"value": n})[0] for n in (1, 2, 3)] == [2, 3, 4]
    assert not [sql for sql in _prepared() if MARK in sql]


def test_prepared_statements_off_prepares_nothing(settings):
    settings.DB_PREPARED_STATEMENTS = False
    assert [prepared_fetchone(PROBE, {"value": n})[0] for n in (1, 2, 3)] == [2, 3, 4]
    assert not [sql for sql in _prepared() if MARK in sql]


@pytest.mark.django_db(transaction=True)
def test_one_cursor_per_connection_and_a_new_one_after_a_reconnect():
    prepared_fetchone(PROBE, {"value": 1})
    first_connection, first_cursor = connection._hot
    prepared_fetchone(PROBE, {"value": 2})
    assert connection._hot == (first_connection, first_cursor)
    assert not first_cursor.closed

    connection.close()  # as at the end of a request past CONN_MAX_AGE, or after a dropped link
    assert prepared_fetchone(PROBE, {"value": 3}) == (4,)
    second_connection, second_cursor = connection._hot
    assert second_connection is connection.connection is not first_connection
    assert second_cursor is not first_cursor


def test_hot_statements_are_logged_and_counted_like_any_query():
    with CaptureQueriesContext(connection) as queries:
        prepared_fetchone(PROBE, {"value": 41})
    assert len(queries) == 1
    assert "42" not in queries[0]["sql"] and "41" in queries[0]["sql"] and MARK in queries[0]["sql"]


def test_a_failed_statement_raises_djangos_error_and_the_cursor_keeps_working():
    with pytest.raises(DataError), transaction.atomic():
        prepared_fetchone(f"SELECT 1 / %(value)s::int AS {MARK}", {"value": 0})
    assert prepared_fetchone(PROBE, {"value": 5}) == (6,)
