"""Reads: balances, ledger pages and who may see which user (DESIGN §4.6: not yours → 404)."""

import re

import django_filters
from django.contrib.auth import get_user_model

from accounts.phones import phone_normalize
from config.errors import InvalidInput, NotFound
from config.pagination import page_params, paginate
from config.permissions import is_api_key_request
from credits.models import CreditTransaction, Wallet
from tenants.models import Tenant

HISTORY_DEFAULT_LIMIT = 50
HISTORY_MAX_LIMIT = 200

# `?limit=` longer than this is nonsense (400), not a number to cap.
HISTORY_LIMIT_MAX_DIGITS = 20

USER_NOT_FOUND = "User not found."

TENANT_SLUG_RE = re.compile(r"[-a-zA-Z0-9_]+")
TENANT_SLUG_MAX_LENGTH = Tenant._meta.get_field("slug").max_length


def wallet_balance(*, user) -> tuple[int, object]:
    """(balance, updated_at) of the user's wallet; (0, None) before it exists. Never creates it."""
    row = Wallet.objects.filter(user=user).values_list("balance", "updated_at").first()
    return row if row is not None else (0, None)


# --- who may see a user (seed 003's /api/users and /api/credits/history, not public here) -------

def _is_staff(request) -> bool:
    return not is_api_key_request(request) and bool(request.user.is_staff)


def _visible_users(request):
    """The users the caller may look at: a key its tenant's, staff everyone, a user themself."""
    User = get_user_model()
    if is_api_key_request(request):
        return User.objects.filter(tenant_id=request.auth.tenant_id)
    if _is_staff(request):
        return User.objects.all()
    return User.objects.filter(pk=request.user.pk)


def parse_tenant_slug(raw: str | None) -> str | None:
    """`?tenant=`: absent, or a tenant slug (letters, digits, `-`, `_`; at most the column's length).
    Anything else, the empty string included, is 400, whoever calls."""
    if raw is None:
        return None
    if not (len(raw) <= TENANT_SLUG_MAX_LENGTH and TENANT_SLUG_RE.fullmatch(raw)):
        raise InvalidInput("tenant must be a tenant slug.", code="invalid_tenant",
                           fields={"tenant": ["Invalid."]})
    return raw


def user_visible_by_phone(*, request, phone: str, tenant_slug: str | None = None):
    """A user by phone as the caller may see them. Staff may name the tenant (`?tenant=slug`)
    when one number belongs to customers of several tenants. An API key or a user already sees
    one tenant at most, so for them the slug is ignored (once it is well formed)."""
    tenant_slug = parse_tenant_slug(tenant_slug)
    e164 = phone_normalize(phone)
    users = _visible_users(request).filter(phone=e164)
    if tenant_slug is not None and _is_staff(request):
        users = users.filter(tenant__slug=tenant_slug)
    found = list(users.order_by("pk")[:2])
    if not found:
        raise NotFound(USER_NOT_FOUND, code="user_not_found")
    if len(found) > 1:
        raise InvalidInput("Several tenants have a user with this phone number; add ?tenant=<slug>.",
                           code="ambiguous_phone_number")
    return found[0]


def user_visible_by_id(*, request, user_id: str):
    if not (isinstance(user_id, str) and user_id.isascii() and user_id.isdigit() and len(user_id) <= 18):
        raise InvalidInput("Invalid user id.", code="invalid_user_id", fields={"user_id": ["Invalid."]})
    user = _visible_users(request).filter(pk=int(user_id)).first()
    if user is None:
        raise NotFound(USER_NOT_FOUND, code="user_not_found")
    return user


# --- ledger reads -----------------------------------------------------------------------------

def parse_limit(raw, *, default=HISTORY_DEFAULT_LIMIT, cap=HISTORY_MAX_LIMIT) -> int:
    """`?limit=`: ASCII digits (leading zeros allowed, at most HISTORY_LIMIT_MAX_DIGITS of them)
    making a positive number; above the cap it is capped. Anything else is 400. The one parsed
    value is both checked and used."""
    if raw is None:
        return default
    if not (0 < len(raw) <= HISTORY_LIMIT_MAX_DIGITS and raw.isascii() and raw.isdigit()):
        raise InvalidInput("limit must be a positive whole number.", code="invalid_limit",
                           fields={"limit": ["Invalid."]})
    value = int(raw)
    if value < 1:
        raise InvalidInput("limit must be a positive whole number.", code="invalid_limit",
                           fields={"limit": ["Invalid."]})
    return min(value, cap)


def user_history(*, user, limit: int) -> tuple[list, int]:
    """The user's newest `limit` ledger rows and how many rows they have in all."""
    rows = CreditTransaction.objects.filter(wallet__user=user)
    return list(rows.order_by("-id")[:limit]), rows.count()


class TransactionFilter(django_filters.FilterSet):
    """`?action=debit&source=usage&created_after=2024-01-01&created_before=2024-01-31` (dates inclusive)."""

    action = django_filters.ChoiceFilter(choices=CreditTransaction.Action.choices)
    source = django_filters.ChoiceFilter(choices=CreditTransaction.Source.choices)
    created = django_filters.DateFromToRangeFilter(field_name="created_at")

    class Meta:
        model = CreditTransaction
        fields: list = []


def wallet_transactions_page(*, user, params) -> dict:
    """The user's ledger, newest first, filtered and paginated; bad parameters → 400."""
    page, page_size = page_params(params)
    filterset = TransactionFilter(params, queryset=CreditTransaction.objects.filter(wallet__user=user))
    if not filterset.is_valid():
        fields = {name: [str(e) for e in errors] for name, errors in filterset.errors.items()}
        name, errors = next(iter(fields.items()))
        raise InvalidInput(f"{name}: {errors[0]}", code="invalid_query", fields=fields)
    return paginate(filterset.qs.order_by("-id"), page=page, page_size=page_size)


def tenant_wallets_page(*, params) -> dict:
    """Every tenant with its wallet balance (0 before the wallet exists), by name."""
    from django.db.models import OuterRef, Subquery, Value
    from django.db.models.functions import Coalesce

    from tenants.models import Tenant

    page, page_size = page_params(params)
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
