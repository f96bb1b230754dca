"""Real threads for the concurrency tests (on PostgreSQL, `transaction=True`)."""

import threading

from django.db import connection


def run_together(functions, *, timeout: float = 60) -> list:
    """Call every function on its own thread, all released at once by a barrier; each one's result,
    or the exception it raised, in order (None for one still running after `timeout` seconds).
    Each thread closes its database connection when done."""
    results = [None] * len(functions)
    barrier = threading.Barrier(len(functions))

    def run(index, fn):
        try:
            barrier.wait()
            results[index] = fn()
        except Exception as exc:  # pragma: no cover - reported by the assertions
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return results
