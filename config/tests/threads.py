"""Real threads for the concurrency tests (on PostgreSQL, `transaction=True`)."""

import threading
import time

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


def slow_spy(monkeypatch, module, name: str, *, delay: float = 0.3) -> list:
    """Replace `module.name` (a service called with keyword arguments, `order_id` among them) by one
    that records each call's order id and holds it `delay` seconds before running the real one,
    so racing callers overlap inside it. Returns the list of recorded order ids."""
    real = getattr(module, name)
    calls = []
    lock = threading.Lock()

    def spy(**kwargs):
        with lock:
            calls.append(kwargs["order_id"])
        time.sleep(delay)
        return real(**kwargs)

    monkeypatch.setattr(module, name, spy)
    return calls
