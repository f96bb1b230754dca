"""Phone users (seed 003): the bot's user by (tenant, phone), created with the free signup
credits on first sight, and the bot's deduction, found and moved in one statement on PostgreSQL."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.phones import phone_normalize
from accounts.selectors import user_by_phone
from config.errors import Forbidden
from credits.models import CreditTransaction, Wallet
from credits.selectors import wallet_by_phone
from credits.services.ledger import (
    Source,
    _attempt_keyed,
    _check_move,
    _ledger_fields,
    wallet_deduct,
    wallet_get_or_create_for_user,
    wallet_grant,
)
from credits.services.ledger_pg import _deduct_by_phone_postgresql

USER_INACTIVE = "User is inactive."


def signup_credits_for(tenant) -> int:
    """FREE_SIGNUP_CREDITS, unless the tenant's settings carry a valid `free_signup_credits`."""
    override = (tenant.settings or {}).get("free_signup_credits") if tenant is not None else None
    if isinstance(override, int) and not isinstance(override, bool) and 0 <= override <= 10**6:
        return override
    return settings.FREE_SIGNUP_CREDITS


def user_get_or_create_by_phone(*, phone: str, tenant) -> tuple:
    """The tenant's user with this phone number, created with the free signup credits if new.

    Two concurrent first calls create one user and one grant: the loser of the race on the
    (tenant, phone) unique index rolls back its savepoint and reads the winner's user.
    """
    e164 = phone_normalize(phone)
    _refuse_suspended(tenant)
    existing = user_by_phone(tenant=tenant, phone=e164)
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            user = get_user_model().objects.create_user(phone=e164, tenant=tenant)
            wallet = Wallet.objects.create(kind=Wallet.Kind.USER, user=user)
            credits = signup_credits_for(tenant)
            if credits > 0:
                wallet_grant(wallet=wallet, credits=credits, source=Source.SIGNUP_BONUS,
                             reason="Free signup credits")
    except IntegrityError:
        winner = user_by_phone(tenant=tenant, phone=e164)
        if winner is None:
            raise
        return winner, False
    return user, True


def wallet_deduct_for_phone(*, phone: str, tenant, credits: int, source: str = Source.USAGE, actor=None,
                            reason: str = "", reference_id: str | None = None,
                            idempotency_key: str | None = None, metadata: dict | None = None
                            ) -> tuple[CreditTransaction, bool]:
    """Deduct from the wallet of the tenant's user with this phone; (row, user_existed).

    On PostgreSQL the common case (a known, active user with enough credits) is one statement that
    finds the wallet by (tenant, phone), deducts and writes the ledger row. Anything else (a new
    number, a short balance, a replayed key, a deactivated user) takes the general path, which
    works out why: find or create (403 `user_inactive` for a deactivated user), then wallet_deduct.
    """
    e164 = phone_normalize(phone)
    _check_move(credits=credits, source=source, reason=reason, reference_id=reference_id,
                idempotency_key=idempotency_key, metadata=metadata)
    _refuse_suspended(tenant)
    if connection.vendor == "postgresql" and tenant is not None:
        fields = _ledger_fields(source=source, reference_id=reference_id,
                                idempotency_key=idempotency_key, actor=actor, reason=reason,
                                metadata=metadata)
        now = timezone.now()
        # On a lost race (a concurrent call with the same key won) the general path replays it.
        txn, _ = _attempt_keyed(
            lambda: _deduct_by_phone_postgresql(tenant_id=tenant.pk, phone=e164, credits=credits,
                                                now=now, fields=fields),
            idempotency_key=idempotency_key)
        if txn is not None:
            return txn, True
    wallet, existed = wallet_get_or_create_for_phone(phone=e164, tenant=tenant)
    txn = wallet_deduct(wallet=wallet, credits=credits, source=source, actor=actor, reason=reason,
                        reference_id=reference_id, idempotency_key=idempotency_key, metadata=metadata)
    return txn, existed


def _refuse_suspended(tenant) -> None:
    if tenant is not None and not tenant.is_active:
        raise Forbidden("Tenant is suspended.", code="tenant_suspended")


def _refuse_inactive(user_is_active: bool) -> None:
    if not user_is_active:
        raise Forbidden(USER_INACTIVE, code="user_inactive")


def wallet_get_or_create_for_phone(*, phone: str, tenant) -> tuple[Wallet, bool]:
    """The wallet of the tenant's user with this phone (user created if new); (wallet, user_existed).

    The common case is one query: the wallet found through its user's (tenant, phone), with the
    user's `is_active`. A deactivated user gets no wallet and is not created again: 403.
    """
    e164 = phone_normalize(phone)
    wallet = wallet_by_phone(tenant=tenant, phone=e164)
    if wallet is not None:
        _refuse_inactive(wallet.user_is_active)
        return wallet, True
    user, created = user_get_or_create_by_phone(phone=e164, tenant=tenant)
    _refuse_inactive(user.is_active)
    return wallet_get_or_create_for_user(user=user), not created
