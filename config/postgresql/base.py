"""Django's PostgreSQL backend with a health check that costs no round trip on a busy connection.

CONN_HEALTH_CHECKS makes Django send `SELECT 1` before a reused connection's first query of each
request, so a connection the server dropped (a restart, a failover, `pg_terminate_backend`) is
replaced instead of failing the request with a 500. On the bot's deduction that is a second round
trip next to the one statement. A server that drops a connection says so on its socket first (a
FATAL "terminating connection" message, then end of file), so an idle connection whose socket has
nothing to read, used within the last IDLE_CHECK_SECONDS, is healthy without asking. Anything
else — data waiting on the socket, a connection not idle, a longer pause, which a firewall or
proxy may have ended silently — still gets Django's `SELECT 1`.

It also runs the hot paths' fixed statements prepared, so PostgreSQL plans them once per
connection (`prepared_fetchone`, through `config.db.prepared_fetchone`).
"""

import select
import time

from django.db.backends.postgresql import base, operations
from psycopg import errors, pq

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


class PreparingCursor(base.ServerBindingCursor):
    """Binds on the server and prepares every statement at its first run (psycopg's
    `prepare=True`; the connection's `prepare_threshold` only has to be set)."""

    def execute(self, query, params=None, *, prepare=None, **kwargs):
        return super().execute(query, params, prepare=True if prepare is None else prepare, **kwargs)


class DatabaseOperations(operations.DatabaseOperations):
    def last_executed_query(self, cursor, sql, params):
        # prepared_fetchone binds on the server: its SQL with the values (for query logs and
        # query counts) is composed here, as Django does when every cursor binds on the server.
        if isinstance(cursor, base.ServerBindingCursor):
            try:
                return self.compose_sql(sql, params)
            except errors.DataError:
                return None
        return super().last_executed_query(cursor, sql, params)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
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

    # This thread's connection and the one cursor its hot statements run on (see prepared_fetchone).
    _hot = (None, None)

    def prepared_fetchone(self, sql, params):
        """The first row of a hot path's fixed statement, bound on the server and prepared at its
        first run, so PostgreSQL parses and plans it once per connection instead of once per call.
        Other queries keep Django's client-side binding. The statement runs on one cursor kept
        for the connection's life: a new psycopg cursor copies the connection's adapters and
        looks up a dumper for every parameter again, half of the call's client-side cost.
        Called through `config.db.prepared_fetchone`, which honours `DB_PREPARED_STATEMENTS`."""
        self.close_if_health_check_failed()
        self.ensure_connection()
        raw = self.connection
        owner, hot = self._hot
        if owner is not raw:  # a new connection: its first hot statement makes the cursor
            with self.wrap_database_errors:
                # The connection belongs to this thread; the factory is swapped for one cursor only.
                previous, raw.cursor_factory = raw.cursor_factory, PreparingCursor
                try:
                    hot = self.create_cursor()
                finally:
                    raw.cursor_factory = previous
            self._hot = (raw, hot)
        # Django's wrapper around it, as for any cursor: query logging, execute_wrappers and
        # psycopg's errors turned into django.db's. Never closed: the next call reuses it.
        self._prepare_cursor(hot).execute(sql, params)
        with self.wrap_database_errors:
            return hot.fetchone()
