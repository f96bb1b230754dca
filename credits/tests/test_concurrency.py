"""Real threads, real PostgreSQL row locks (DESIGN §8): no mocks."""

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from credits import services
from credits.models import CreditTransaction, Wallet
from credits.services import InsufficientCredits
from credits.tests.factories import funded_wallet
from tenants.tests.factories import TenantFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres_only,
]

# Each thread holds its own connection; PostgreSQL allows 100 by default and other test runs
# may share the server, so 20 threads carry the 100 concurrent calls.
THREADS = 20
TIMEOUT = 60


def run_concurrently(jobs, threads=THREADS):
    """Run callables on `threads` threads released together; returns results or exceptions."""
    barrier = threading.Barrier(threads)
    chunks = [jobs[i::threads] for i in range(threads)]

    def worker(chunk):
        out = []
        try:
            barrier.wait(timeout=TIMEOUT)
            for job in chunk:
                try:
                    out.append(job())
                except Exception as exc:  # collected and asserted on by the test
                    out.append(exc)
        finally:
            connection.close()
        return out

    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = [pool.submit(worker, chunk) for chunk in chunks]
        return [result for future in futures for result in future.result(timeout=TIMEOUT)]


def audit_is_clean():
    call_command("audit_ledger")  # raises CommandError on any mismatch
    return True


def test_100_concurrent_deductions_from_50_credits():
    wallet = funded_wallet(50)
    wallet_id = wallet.pk

    def deduct():
        return services.wallet_deduct(wallet=Wallet(pk=wallet_id, kind="user"), credits=1, reason="gen")

    results = run_concurrently([deduct] * 100)
    succeeded = [r for r in results if isinstance(r, CreditTransaction)]
    refused = [r for r in results if isinstance(r, InsufficientCredits)]
    assert len(succeeded) == 50 and len(refused) == 50, [r for r in results if isinstance(r, Exception)
                                                         and not isinstance(r, InsufficientCredits)]
    assert Wallet.objects.get(pk=wallet_id).balance == 0
    debits = CreditTransaction.objects.filter(wallet_id=wallet_id, action="debit")
    assert debits.count() == 50
    assert sorted(debits.values_list("balance_after", flat=True)) == list(range(50))
    assert audit_is_clean()


def test_concurrent_opposite_transfers_neither_deadlock_nor_lose_credits():
    a, b = funded_wallet(1000), funded_wallet(1000)
    rng = random.Random(7)

    def transfer(source, target, credits):
        def job():
            return services.wallet_transfer(source_wallet=Wallet(pk=source.pk), target_wallet=Wallet(pk=target.pk),
                                            credits=credits, reason="ping-pong")
        return job

    jobs = [transfer(a, b, rng.randint(1, 60)) if i % 2 else transfer(b, a, rng.randint(1, 60))
            for i in range(120)]
    results = run_concurrently(jobs)
    errors = [r for r in results if isinstance(r, Exception) and not isinstance(r, InsufficientCredits)]
    assert errors == []  # a deadlock would surface here as OperationalError
    moved = [r for r in results if isinstance(r, tuple)]
    assert len(moved) >= 100
    balances = dict(Wallet.objects.filter(pk__in=[a.pk, b.pk]).values_list("pk", "balance"))
    assert balances[a.pk] + balances[b.pk] == 2000
    assert CreditTransaction.objects.filter(transfer_id__isnull=False).count() == 2 * len(moved)
    assert audit_is_clean()


def test_concurrent_first_calls_for_one_phone_create_one_user_and_one_grant():
    tenant = TenantFactory()

    def first_call(phone):
        return lambda: services.user_get_or_create_by_phone(phone=phone, tenant=tenant)

    results = run_concurrently([first_call(p) for p in ["9876543210", "+91 98765 43210", "+919876543210"] * 4],
                               threads=12)
    assert all(isinstance(r, tuple) for r in results), results
    assert sum(created for _, created in results) == 1
    assert len({user.pk for user, _ in results}) == 1
    assert User.objects.filter(tenant=tenant).count() == 1
    assert CreditTransaction.objects.filter(wallet__user__tenant=tenant, source="signup_bonus").count() == 1
    assert audit_is_clean()


def test_concurrent_calls_with_one_idempotency_key_deduct_once():
    wallet = funded_wallet(10)

    def deduct():
        return services.wallet_deduct(wallet=Wallet(pk=wallet.pk), credits=3, idempotency_key="same")

    results = run_concurrently([deduct] * 10, threads=10)
    assert all(isinstance(r, CreditTransaction) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert Wallet.objects.get(pk=wallet.pk).balance == 7
    assert audit_is_clean()


def test_keyed_deduct_outside_a_transaction_is_also_two_round_trips_at_most():
    wallet = funded_wallet(5)
    with CaptureQueriesContext(connection) as first:
        services.wallet_deduct(wallet=wallet, credits=1, idempotency_key="k1")
    with CaptureQueriesContext(connection) as replay:
        services.wallet_deduct(wallet=wallet, credits=1, idempotency_key="k1")
    with CaptureQueriesContext(connection) as short:
        with pytest.raises(InsufficientCredits):
            services.wallet_deduct(wallet=wallet, credits=10, idempotency_key="k2")
    assert len(first.captured_queries) == 1
    assert len(replay.captured_queries) <= 2 and len(short.captured_queries) <= 2
    assert Wallet.objects.get(pk=wallet.pk).balance == 4


def test_100_concurrent_bot_deductions_by_phone_from_50_credits():
    tenant = TenantFactory()
    user, _ = services.user_get_or_create_by_phone(phone="9876543210", tenant=tenant)
    services.wallet_grant(wallet=Wallet.objects.get(user=user), credits=47, source="adjustment")

    def deduct():
        return services.wallet_deduct_for_phone(phone="+919876543210", tenant=tenant, credits=1)[0]

    results = run_concurrently([deduct] * 100)
    assert sum(isinstance(r, CreditTransaction) for r in results) == 50
    assert sum(isinstance(r, InsufficientCredits) for r in results) == 50
    assert Wallet.objects.get(user=user).balance == 0
    assert CreditTransaction.objects.filter(wallet__user=user, action="debit").count() == 50
    assert audit_is_clean()


def test_concurrent_bot_deductions_with_one_key_deduct_once():
    tenant = TenantFactory()
    user, _ = services.user_get_or_create_by_phone(phone="9876543210", tenant=tenant)

    def deduct():
        return services.wallet_deduct_for_phone(phone="9876543210", tenant=tenant, credits=2,
                                                idempotency_key="same")[0]

    results = run_concurrently([deduct] * 10, threads=10)
    assert all(isinstance(r, CreditTransaction) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert Wallet.objects.get(user=user).balance == 1
    assert audit_is_clean()


def test_bot_deductions_during_an_account_merge_all_land_once():
    """The bot deducts from a number while its account is merged into a web account: every
    deduction lands exactly once, on the wallet that holds the credits at that moment."""
    from accounts.merge import account_merge
    from accounts.tests.factories import UserFactory
    from credits.tests.factories import phone_user

    tenant = TenantFactory()
    web_user = UserFactory()
    funded_wallet(10, user=web_user)
    bot_user = phone_user(tenant, "+919876543210", 50)
    jobs = [lambda: services.wallet_deduct_for_phone(phone="+919876543210", tenant=tenant, credits=1)
            for _ in range(30)]
    jobs.insert(15, lambda: account_merge(survivor=web_user, retired=bot_user))
    results = run_concurrently(jobs, threads=8)
    assert not [r for r in results if isinstance(r, Exception)]
    survivor = Wallet.objects.get(user=web_user).balance
    retired = Wallet.objects.get(user=bot_user).balance
    assert retired == 0 and survivor == 10 + 50 - 30
    assert audit_is_clean()
