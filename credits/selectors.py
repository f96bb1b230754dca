"""Reads: balances, ledger pages and who may see which user (DESIGN §4.6: not yours → 404)."""

import django_filters
from django.contrib.auth import get_user_model

from accounts.phones import phone_normalize
from config.errors import InvalidInput, NotFound
from config.pagination import page_params, paginate
from config.permissions import is_api_key_request
from credits.models import CreditTransaction, Wallet

HISTORY_DEFAULT_LIMIT = 50
HISTORY_MAX_LIMIT = 200

USER_NOT_FOUND = "User not found."


def wallet_balance(*, user) -> tuple[int, object]:
    """(balance, updated_at) of the user's wallet; (0, None) before it exists. Never creates it."""
    row = Wallet.objects.filter(user=user).values_list("balance", "updated_at").first()
    return row if row is not None else (0, None)


# --- who may see a user (seed 003's /api/users and /api/credits/history, not public here) -------

def _visible_users(request):
    """The users the caller may look at, or None for staff (everyone)."""
    User = get_user_model()
    if is_api_key_request(request):
        return User.objects.filter(tenant_id=request.auth.tenant_id)
    user = request.user
    if user.is_staff:
        return User.objects.all()
    return User.objects.filter(pk=user.pk)


def user_visible_by_phone(*, request, phone: str, tenant_slug: str | None = None):
    """A user by phone as the caller may see them. Staff may name the tenant (`?tenant=slug`)
    when one number belongs to customers of several tenants."""
    e164 = phone_normalize(phone)
    users = _visible_users(request).filter(phone=e164)
    if tenant_slug:
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
    """`?limit=`: a positive whole number; values above the cap are capped."""
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise InvalidInput("limit must be a positive whole number.", code="invalid_limit",
                           fields={"limit": ["Invalid."]})
    return min(int(raw[:12]), cap)


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
