"""config.postgresql: the connection health check asks the server (`SELECT 1`) only when the
connection's socket or the time since its last use says it may be gone."""

import time

import pytest
from django.db import connection, connections

from config.postgresql.base import IDLE_CHECK_SECONDS, socket_quiet

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def other():
    """A second connection to the test database, as a worker would hold one."""
    wrapper = connections.create_connection("default")
    wrapper.ensure_connection()
    yield wrapper
    wrapper.close()


def _asks(wrapper, monkeypatch) -> list:
    asked = []
    real = wrapper.is_usable
    monkeypatch.setattr(wrapper, "is_usable", lambda: asked.append(1) or real())
    return asked


def _new_request(wrapper):
    wrapper.health_check_done = False  # what close_old_connections does at a request's start


def test_a_busy_quiet_connection_is_not_asked(other, monkeypatch):
    asked = _asks(other, monkeypatch)
    for _ in range(3):
        _new_request(other)
        other.close_if_health_check_failed()
        assert other.health_check_done
        with other.cursor() as cursor:
            cursor.execute("SELECT 2")
    assert asked == [] and other.connection is not None


def test_a_connection_idle_for_long_is_asked(other, monkeypatch):
    asked = _asks(other, monkeypatch)
    other._last_checked -= IDLE_CHECK_SECONDS + 1
    _new_request(other)
    other.close_if_health_check_failed()
    assert asked == [1] and other.connection is not None


def test_a_connection_the_server_dropped_is_asked_and_replaced(other, monkeypatch):
    asked = _asks(other, monkeypatch)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [other.connection.info.backend_pid])
    deadline = time.monotonic() + 5
    while socket_quiet(other.connection) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not socket_quiet(other.connection)
    _new_request(other)
    other.close_if_health_check_failed()
    assert asked == [1] and other.connection is None  # closed; the next query reconnects
    with other.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
