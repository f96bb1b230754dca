"""Django's PostgreSQL backend with a health check that costs no round trip on a busy connection.

CONN_HEALTH_CHECKS makes Django send `SELECT 1` before a reused connection's first query of each
request, so a connection the server dropped (a restart, a failover, `pg_terminate_backend`) is
replaced instead of failing the request with a 500. On the bot's deduction that is a second round
trip next to the one statement. A server that drops a connection says so on its socket first (a
FATAL "terminating connection" message, then end of file), so an idle connection whose socket has
nothing to read, used within the last IDLE_CHECK_SECONDS, is healthy without asking. Anything
else — data waiting on the socket, a connection not idle, a longer pause, which a firewall or
proxy may have ended silently — still gets Django's `SELECT 1`.
"""

import select
import time

from django.db.backends.postgresql import base
from psycopg import pq

# A connection unused for longer gets the full `SELECT 1` (idle-timeout firewalls and proxies
# drop connections without a word).
IDLE_CHECK_SECONDS = 10.0


def socket_quiet(connection) -> bool:
    """True when the psycopg connection is idle (no transaction, no query) and its socket has
    nothing to read: no message from the server, no end of file, no error."""
    try:
        pgconn = connection.pgconn
        if pgconn.status != pq.ConnStatus.OK or pgconn.transaction_status != pq.TransactionStatus.IDLE:
            return False
        poller = select.poll()
        poller.register(pgconn.socket, select.POLLIN | select.POLLPRI)
        return not poller.poll(0)
    except Exception:  # a closed or broken connection: let the full check decide
        return False


class DatabaseWrapper(base.DatabaseWrapper):
    _last_checked = 0.0

    def close_if_health_check_failed(self):
        if (self.connection is not None and self.health_check_enabled and not self.health_check_done
                and not self.pool):
            now = time.monotonic()
            if now - self._last_checked < IDLE_CHECK_SECONDS and socket_quiet(self.connection):
                self._last_checked = now
                self.health_check_done = True
                return
            super().close_if_health_check_failed()
            self._last_checked = now if self.connection is not None else 0.0
            return
        super().close_if_health_check_failed()

    def connect(self):
        super().connect()
        self._last_checked = time.monotonic()
