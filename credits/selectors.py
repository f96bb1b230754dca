"""Reads: wallets and balances, ledger pages, and who may see which user (DESIGN §4.6: not yours →
404). Plain arguments only; the views parse the request."""

from django.contrib.auth import get_user_model
from django.db.models import F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from accounts.phones import phone_normalize
from accounts.selectors import user_by_phone
from config.errors import InvalidInput, NotFound
from config.pagination import paginate
from config.policy import policy_require
from credits.models import CreditTransaction, Wallet
from tenants.models import Tenant

USER_NOT_FOUND = "User not found."


# --- wallets ------------------------------------------------------------------------------------

def wallet_balance(*, user) -> tuple[int, object]:
    """(balance, updated_at) of the user's wallet; (0, None) before it exists. Never creates it."""
    row = Wallet.objects.filter(user=user).values_list("balance", "updated_at").first()
    return row if row is not None else (0, None)


def wallet_by_phone(*, tenant, phone: str) -> Wallet | None:
    """The wallet of the tenant's user with this phone (E.164), annotated with the user's
    `user_is_active`; None when the user or their wallet does not exist.

    One query, the bot's balance read: the wallet found through its user's (tenant, phone), the
    same key as `accounts.selectors.user_by_phone`. At most one row ((tenant, phone) is unique): no
    ORDER BY, which could steer the planner away from the (tenant, phone) index.
    """
    return next(iter(Wallet.objects.filter(user__tenant=tenant, user__phone=phone)
                     .annotate(user_is_active=F("user__is_active"))[:1]), None)


def tenant_wallets_page(*, page: int, page_size: int) -> dict:
    """Every tenant with its wallet balance (0 before the wallet exists), by name."""
    wallets = Wallet.objects.filter(tenant=OuterRef("pk"))
    tenants = Tenant.objects.annotate(
        wallet_id=Subquery(wallets.values("id")[:1]),
        balance=Coalesce(Subquery(wallets.values("balance")[:1]), Value(0)),
    ).order_by("name", "pk")
    result = paginate(tenants, page=page, page_size=page_size)
    result["results"] = [
        {"tenant_id": t.pk, "tenant_name": t.name, "tenant_slug": t.slug, "tenant_status": t.status,
         "wallet_id": t.wallet_id, "balance": t.balance}
        for t in result["results"]
    ]
    return result


# --- who may see a user (seed 003's /api/users and /api/credits/history, not public here) -------
#
# The principal (config.policy) is who calls: an API key or tenant staff (their tenant's users),
# platform staff (everyone) or an end user (themself). The policy's "user.read" has the last word.

def _not_found():
    return NotFound(USER_NOT_FOUND, code="user_not_found")


def user_visible_by_phone(*, principal, phone: str, tenant_slug: str | None = None):
    """A user by phone as the principal may see them. Platform staff may name the tenant
    (`tenant_slug`) when one number belongs to customers of several tenants. A key, tenant staff or
    an end user already sees one tenant at most, so for them the slug is ignored."""
    e164 = phone_normalize(phone)
    if principal.is_api_key or principal.is_tenant_staff:
        user = user_by_phone(tenant=principal.tenant_id, phone=e164)
        if user is None and principal.is_tenant_staff and principal.user.phone == e164:
            user = principal.user
    elif not principal.is_platform_staff:
        user = principal.user if principal.user is not None and principal.user.phone == e164 else None
    elif tenant_slug is not None:
        tenant = Tenant.objects.filter(slug=tenant_slug).first()
        user = user_by_phone(tenant=tenant, phone=e164) if tenant is not None else None
    else:
        found = list(get_user_model().objects.filter(phone=e164).order_by("pk")[:2])
        if len(found) > 1:
            raise InvalidInput("Several tenants have a user with this phone number; add ?tenant=<slug>.",
                               code="ambiguous_phone_number")
        user = found[0] if found else None
    if user is None:
        raise _not_found()
    policy_require(principal, "user.read", user, not_found=_not_found())
    return user


def user_visible_by_id(*, principal, user_id: int):
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        raise _not_found()
    policy_require(principal, "user.read", user, not_found=_not_found())
    return user


# --- ledger reads -------------------------------------------------------------------------------

def _ledger_of(user):
    """The user's ledger rows, with those of the accounts merged into theirs (phone sign-in,
    DESIGN §4.9): one person, one history."""
    wallets = Wallet.objects.filter(Q(user=user) | Q(user__merged_into=user)).values("pk")
    return CreditTransaction.objects.filter(wallet_id__in=wallets)


def user_history(*, user, limit: int) -> tuple[list, int]:
    """The user's newest `limit` ledger rows and how many rows they have in all."""
    rows = _ledger_of(user)
    return list(rows.order_by("-id")[:limit]), rows.count()


def wallet_transactions_page(*, user, page: int, page_size: int, action: str | None = None,
                             source: str | None = None, created_from=None, created_to=None) -> dict:
    """The user's ledger, newest first, optionally filtered (`created_from`/`created_to` are
    inclusive datetimes), paginated."""
    rows = _ledger_of(user)
    if action:
        rows = rows.filter(action=action)
    if source:
        rows = rows.filter(source=source)
    if created_from is not None:
        rows = rows.filter(created_at__gte=created_from)
    if created_to is not None:
        rows = rows.filter(created_at__lte=created_to)
    return paginate(rows.order_by("-id"), page=page, page_size=page_size)


def tenant_credit_stats(*, tenant, since) -> dict:
    """For `tenants.stats`: the tenant wallet's balance, and credits granted to / used by the
    tenant (its wallet and its users' wallets) since `since`."""
    from django.db.models import Sum

    wallet = Wallet.objects.filter(tenant=tenant).first()
    moves = CreditTransaction.objects.filter(
        Q(wallet__tenant=tenant) | Q(wallet__user__tenant=tenant), created_at__gte=since)
    granted = moves.filter(action=CreditTransaction.Action.CREDIT).aggregate(n=Sum("credits"))["n"] or 0
    used = moves.filter(action=CreditTransaction.Action.DEBIT,
                        source=CreditTransaction.Source.USAGE).aggregate(n=Sum("credits"))["n"] or 0
    return {"wallet_balance": wallet.balance if wallet else 0, "credits_granted_30d": granted,
            "credits_used_30d": used}
