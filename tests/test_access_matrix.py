"""Every endpoint × every kind of principal (issue 10, DESIGN §4.6): the exact status each gets.

The endpoints are enumerated from the URL resolver, so a new endpoint (or method) without a row
in MATRIX fails `test_every_endpoint_has_a_row`. Each request is made so that the policy is what
decides it: write requests carry a body that is refused (400) *after* the access checks, or
touch nothing that matters, so an allowed cell shows as 200/201/400 and a refused one as
401/403/404. Removing any check widens a cell and fails `test_access_matrix`.

Principals: anonymous; an end user of tenant A (who owns the objects in the paths) and another
end user of tenant A; tenant staff and tenant admin of A; a tenant admin of B; API keys of A and B
(all scopes), a revoked key of A; a key and a tenant admin of a suspended tenant; platform
support, admin and super_admin.
"""

from datetime import timedelta

import pytest
from django.core.cache import caches
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory, platform_admin, platform_support, super_admin, tenant_admin
from accounts.tests.factories import tenant_staff as make_tenant_staff
from tenants.models import Tenant
from tenants.tests.factories import TenantFactory

PRINCIPALS = ["anonymous", "user", "other_user", "tenant_staff_a", "tenant_admin_a", "tenant_admin_b",
              "key_a", "key_b", "revoked_key", "suspended_key", "suspended_staff", "support", "admin",
              "super_admin"]
ALL_SCOPES = ["bot", "tokens", "payments", "usage"]

# Shorthands for rows: a dict principal → status. `row(default, **overrides)`.


def row(default, **overrides):
    cells = dict.fromkeys(PRINCIPALS, default)
    unknown = set(overrides) - set(cells)
    assert not unknown, unknown
    cells.update(overrides)
    return cells


# What authentication alone decides, whatever the view: a JWT of a suspended tenant's staff → 403,
# a revoked key → 401, a suspended tenant's key → 403, no credentials → 401.
def authed(default, **overrides):
    """A view that authenticates JWTs only (API keys are not looked at: they are anonymous there)."""
    base = dict(anonymous=401, suspended_staff=403, key_a=401, key_b=401, revoked_key=401, suspended_key=401)
    return row(default, **{**base, **overrides})


def authed_or_key(default, **overrides):
    """A view that authenticates JWTs and API keys."""
    base = dict(anonymous=401, suspended_staff=403, revoked_key=401, suspended_key=403)
    return row(default, **{**base, **overrides})


def key_only(default, **overrides):
    """A view that authenticates API keys only (a JWT is not looked at)."""
    base = dict(revoked_key=401, suspended_key=403)
    return row(default, **{**base, **overrides})


PLATFORM_READ = dict(support=200, admin=200, super_admin=200)
PLATFORM_WRITE_400 = dict(support=403, admin=400, super_admin=400)

# (route, method) → (body or None, {principal: status})
MATRIX = {
    # --- public ----------------------------------------------------------------------------
    ("api/health", "GET"): (None, row(200)),
    ("health", "GET"): (None, row(200)),
    ("api/v1", "GET"): (None, row(200)),
    # (these authenticate a JWT when one is sent: a suspended tenant's staff is refused everywhere)
    ("api/schema", "GET"): (None, row(200, suspended_staff=403)),
    ("api/docs", "GET"): (None, row(200, suspended_staff=403)),
    ("api/auth/register", "POST"): ({}, row(400)),
    ("api/auth/login", "POST"): ({}, row(400)),
    ("api/auth/refresh", "POST"): ({}, row(400)),
    ("api/auth/logout", "POST"): ({}, row(400)),
    ("api/v1/auth/admin/login", "POST"): ({}, row(400)),
    ("api/v1/auth/logout", "POST"): ({}, row(400)),
    ("api/v1/auth/refresh", "POST"): ({}, row(400)),
    ("api/v1/auth/verify", "POST"): ({}, row(400)),
    ("api/auth/phone/start", "POST"): ({}, row(400)),
    ("api/auth/phone/verify", "POST"): ({}, row(400)),
    ("api/rate-plans/public", "GET"): (None, row(200)),
    ("api/rate-plans/calculate-price", "POST"): ({}, row(400)),
    ("api/credit-packages", "GET"): (None, row(200)),
    ("api/payments/webhook/razorpay", "POST"): ({}, row(400)),
    ("api/v1/payments/webhook/razorpay", "POST"): ({}, row(400)),
    ("api/v1/payments/webhook/cashfree", "POST"): ({}, row(400)),
    # --- a person for themself -------------------------------------------------------------
    ("api/auth/me", "GET"): (None, authed(200)),
    ("api/auth/me", "PATCH"): ({"nope": 1}, authed(400)),
    ("api/auth/me/phone/verify", "POST"): ({}, authed(400)),
    ("api/tokens/usage", "GET"): (None, authed(200)),
    ("api/wallet", "GET"): (None, authed(200)),
    ("api/wallet/transactions", "GET"): (None, authed(200)),
    ("api/payments", "GET"): (None, authed(200)),
    ("api/invoices", "GET"): (None, authed(200)),
    ("api/subscriptions/my-subscription", "GET"): (None, authed(404, user=200)),
    ("api/subscriptions/create-with-payment", "POST"): ({}, authed(400)),
    ("api/subscriptions/verify-payment", "POST"): ({}, authed(400)),
    # --- payments (seeds 000/003 checkout: a person, or a key with scope payments) -------------
    ("api/payments/create-order", "POST"): ({}, authed_or_key(400, key_a=403, key_b=403)),
    ("api/payments/sandbox/pay", "POST"): ({}, authed_or_key(400)),
    ("api/payments/verify", "POST"): ({}, authed_or_key(400)),
    ("api/v1/payments/create", "POST"): ({}, authed_or_key(400)),
    ("api/v1/payments/verify", "POST"): ({}, authed_or_key(400)),
    # --- invoices (no invoice has this id: 404 to everyone who may look) -----------------------
    ("api/invoices/<str:invoice_id>", "GET"): (None, authed(404)),
    ("api/invoices/<str:invoice_id>/pdf", "GET"): (None, authed(404)),
    # --- the bot (seed 003): API keys only ------------------------------------------------------
    ("api/bot/credits/<str:phone_number>", "GET"): (None, key_only(401, key_a=200, key_b=200)),
    ("api/bot/deduct", "POST"): ({}, key_only(401, key_a=400, key_b=400)),
    # --- a user by phone / id: the user, their tenant's key or staff, platform staff ------------
    ("api/users/<str:phone_number>", "GET"): (None, authed_or_key(
        200, other_user=404, tenant_admin_b=404, key_b=404)),
    ("api/credits/history/<str:user_id>", "GET"): (None, authed_or_key(
        200, other_user=404, tenant_admin_b=404, key_b=404)),
    # --- token quotas for `user` (user_id): the user, staff of the tenant, tokens keys, platform
    #     super_admin/admin; support and other users are refused, another tenant 404 ------------
    ("api/tokens/consume", "POST"): (lambda w: {"tokens": 1, "user_id": w["user"].pk}, authed_or_key(
        200, other_user=403, tenant_admin_b=404, key_b=404, support=403)),
    ("api/tokens/set-plan", "POST"): (lambda w: {"plan": "basic", "user_id": w["user"].pk}, authed_or_key(
        200, other_user=403, tenant_admin_b=404, key_b=404, support=403)),
    # --- the catalog: platform staff read, super_admin/admin write ------------------------------
    ("api/rate-plans", "GET"): (None, authed(403, **PLATFORM_READ)),
    ("api/rate-plans", "POST"): ({}, authed(403, **PLATFORM_WRITE_400)),
    ("api/rate-plans/<int:pk>", "GET"): (None, authed(403, **PLATFORM_READ)),
    ("api/rate-plans/<int:pk>", "PUT"): ({"nope": 1}, authed(403, **PLATFORM_WRITE_400)),
    # (DELETE names no plan: 404 once allowed)
    ("api/rate-plans/<int:pk>", "DELETE"): (None, authed(403, admin=404, super_admin=404)),
    ("api/rate-plans/code/<str:code>", "GET"): (None, authed(403, **PLATFORM_READ)),
    # --- subscriptions (`user`'s) ------------------------------------------------------------
    ("api/subscriptions", "GET"): (None, authed(403, tenant_staff_a=200, tenant_admin_a=200,
                                                tenant_admin_b=200, **PLATFORM_READ)),
    ("api/subscriptions", "POST"): ({}, authed(400)),
    ("api/subscriptions/<int:pk>", "GET"): (None, authed(200, other_user=404, tenant_admin_b=404)),
    ("api/subscriptions/<int:pk>", "PUT"): ({"nope": 1}, authed(
        400, other_user=404, tenant_staff_a=403, tenant_admin_a=403, tenant_admin_b=404, support=403)),
    ("api/subscriptions/<int:pk>/cancel", "POST"): ({"nope": 1}, authed(
        400, other_user=404, tenant_staff_a=403, tenant_admin_a=403, tenant_admin_b=404, support=403)),
    ("api/subscriptions/<int:pk>/change-plan", "POST"): ({"nope": 1}, authed(
        400, other_user=404, tenant_staff_a=403, tenant_admin_a=403, tenant_admin_b=404, support=403)),
    ("api/subscriptions/<int:pk>/suspend", "POST"): ({"nope": 1}, authed(
        403, other_user=404, tenant_admin_b=404, admin=400, super_admin=400)),
    ("api/subscriptions/<int:pk>/activate", "POST"): ({"nope": 1}, authed(
        403, other_user=404, tenant_admin_b=404, admin=400, super_admin=400)),
    ("api/subscriptions/<int:pk>/renew", "POST"): ({"nope": 1}, authed(
        403, other_user=404, tenant_admin_b=404, admin=400, super_admin=400)),
    ("api/subscriptions/<int:pk>/usage", "GET"): (None, authed_or_key(
        200, other_user=404, tenant_admin_b=404, key_b=404)),
    ("api/subscriptions/<int:pk>/usage", "POST"): ({"nope": 1}, authed_or_key(
        400, user=403, other_user=404, tenant_staff_a=403, tenant_admin_a=403, tenant_admin_b=404,
        key_b=404, support=403)),
    # --- seed 004 credits: the master wallet (platform), a tenant's wallet (its staff, its keys)
    ("api/v1/admin/credits/wallet", "GET"): (None, authed(403, **PLATFORM_READ)),
    ("api/v1/admin/credits/tenant-wallets", "GET"): (None, authed(403, **PLATFORM_READ)),
    ("api/v1/admin/credits/purchase", "POST"): ({}, authed(403, **PLATFORM_WRITE_400)),
    ("api/v1/admin/credits/allocate", "POST"): ({}, authed(403, **PLATFORM_WRITE_400)),
    ("api/v1/credits/wallet", "GET"): (None, authed_or_key(403, tenant_staff_a=200, tenant_admin_a=200,
                                                           tenant_admin_b=200, key_a=200, key_b=200)),
    ("api/v1/credits/deduct", "POST"): ({}, authed_or_key(403, tenant_staff_a=400, tenant_admin_a=400,
                                                          tenant_admin_b=400, key_a=400, key_b=400)),
    # --- seed 004 payments: platform staff all orders, tenant staff their tenant's; refunds by
    #     platform super_admin/admin (an amount too large: 400 once allowed) ---------------------
    ("api/v1/payments", "GET"): (None, authed(403, tenant_staff_a=200, tenant_admin_a=200,
                                              tenant_admin_b=200, **PLATFORM_READ)),
    ("api/v1/payments/<str:order_ref>", "GET"): (None, authed(403, tenant_staff_a=200, tenant_admin_a=200,
                                                              tenant_admin_b=404, **PLATFORM_READ)),
    ("api/v1/payments/<str:order_ref>/refund", "POST"): ({"amount": 10**9, "reason": "matrix"}, authed(
        403, tenant_admin_b=404, admin=400, super_admin=400)),
    # --- seed 004 tenants (tenant A): platform staff run them; A's staff read A, A's admin its
    #     stats, staff and keys; another tenant's admin 404. Writes carry a refused body (400). ---
    ("api/v1/tenants", "GET"): (None, authed(403, **PLATFORM_READ)),
    ("api/v1/tenants", "POST"): ({}, authed(403, **PLATFORM_WRITE_400)),
    ("api/v1/tenants/<str:tenant_id>", "GET"): (None, authed(
        403, tenant_staff_a=200, tenant_admin_a=200, tenant_admin_b=404, **PLATFORM_READ)),
    ("api/v1/tenants/<str:tenant_id>", "PUT"): ({"nope": 1}, authed(403, **PLATFORM_WRITE_400)),
    # (DELETE names no tenant: 404 once allowed)
    ("api/v1/tenants/<str:tenant_id>", "DELETE"): (None, authed(403, admin=404, super_admin=404)),
    ("api/v1/tenants/<str:tenant_id>/suspend", "POST"): ({"nope": 1}, authed(403, **PLATFORM_WRITE_400)),
    ("api/v1/tenants/<str:tenant_id>/reactivate", "POST"): ({"nope": 1}, authed(403, **PLATFORM_WRITE_400)),
    ("api/v1/tenants/<str:tenant_id>/stats", "GET"): (None, authed(
        403, tenant_admin_a=200, tenant_admin_b=404, **PLATFORM_READ)),
    ("api/v1/tenants/<str:tenant_id>/users", "GET"): (None, authed(
        403, tenant_admin_a=200, tenant_admin_b=404, **PLATFORM_READ)),
    ("api/v1/tenants/<str:tenant_id>/users", "POST"): ({}, authed(
        403, tenant_admin_a=400, tenant_admin_b=404, **PLATFORM_WRITE_400)),
    ("api/v1/tenants/<str:tenant_id>/api-keys", "GET"): (None, authed(
        403, tenant_admin_a=200, tenant_admin_b=404, **PLATFORM_READ)),
    ("api/v1/tenants/<str:tenant_id>/api-keys", "POST"): ({}, authed(
        403, tenant_admin_a=400, tenant_admin_b=404, **PLATFORM_WRITE_400)),
    ("api/v1/tenants/<str:tenant_id>/api-keys/<str:key_id>/revoke", "POST"): ({"nope": 1}, authed(
        403, tenant_admin_a=400, tenant_admin_b=404, **PLATFORM_WRITE_400)),
    # --- seed 004 admin users (the platform admin's account): super_admin and admin only --------
    ("api/v1/admin/users", "GET"): (None, authed(403, admin=200, super_admin=200)),
    ("api/v1/admin/users", "POST"): ({}, authed(403, admin=400, super_admin=400)),
    ("api/v1/admin/users/<str:user_id>", "GET"): (None, authed(403, admin=200, super_admin=200)),
    ("api/v1/admin/users/<str:user_id>", "PUT"): ({"nope": 1}, authed(403, admin=400, super_admin=400)),
    # (DELETE names nobody: 404 once allowed)
    ("api/v1/admin/users/<str:user_id>", "DELETE"): (None, authed(403, admin=404, super_admin=404)),
    ("api/v1/admin/users/<str:user_id>/activity", "GET"): (None, authed(403, admin=200, super_admin=200)),
    # --- the audit log: platform staff read it (no event has this id: 404 once allowed) --------
    ("api/v1/admin/audit-logs", "GET"): (None, authed(403, **PLATFORM_READ)),
    ("api/v1/admin/audit-logs/<str:event_id>", "GET"): (None, authed(403, support=404, admin=404,
                                                                     super_admin=404)),
}


def _routes(patterns=None, prefix=""):
    """(route, view class) for every URL the app serves (not the Django admin)."""
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if route.startswith("admin/"):
                continue
            yield from _routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            view_class = getattr(pattern.callback, "view_class", None) or getattr(pattern.callback, "cls", None)
            yield route, view_class


def endpoints() -> list[tuple[str, str]]:
    found = []
    for route, view_class in _routes():
        if route.startswith("admin/"):
            continue
        methods = [m.upper() for m in ("get", "post", "put", "patch", "delete") if hasattr(view_class, m)]
        found.extend((route, method) for method in methods)
    return sorted(set(found))


def test_every_endpoint_has_a_row():
    assert set(endpoints()) - set(MATRIX) == set(), "endpoints without a row in the access matrix"
    assert set(MATRIX) - set(endpoints()) == set(), "rows for endpoints that no longer exist"


# --- the world ----------------------------------------------------------------------------------

@pytest.fixture
def world(db, settings, catalog_loaded):
    from credits.services import wallet_get_or_create_for_tenant, wallet_grant
    from payments.models import PaymentOrder
    from plans.models import CreditPackage, RatePlan
    from subscriptions.tests.factories import SubscriptionFactory
    from tenants.services import api_key_create, api_key_revoke

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.PAYMENT_GATEWAY = "sandbox"
    a, b = TenantFactory(slug="tenant-a"), TenantFactory(slug="tenant-b")
    suspended = TenantFactory(slug="tenant-s")
    user = UserFactory(tenant=a, phone="+919800000001")
    other = UserFactory(tenant=a, phone="+919800000002")
    people = {
        "user": user, "other_user": other,
        "tenant_staff_a": make_tenant_staff(a), "tenant_admin_a": tenant_admin(a),
        "tenant_admin_b": tenant_admin(b), "suspended_staff": tenant_admin(suspended),
        "support": platform_support(), "admin": platform_admin(), "super_admin": super_admin(),
    }
    keys = {
        "key_a": api_key_create(tenant=a, name="a", scopes=ALL_SCOPES)[1],
        "key_b": api_key_create(tenant=b, name="b", scopes=ALL_SCOPES)[1],
        "suspended_key": api_key_create(tenant=suspended, name="s", scopes=ALL_SCOPES)[1],
    }
    revoked, keys["revoked_key"] = api_key_create(tenant=a, name="r", scopes=ALL_SCOPES)
    api_key_revoke(api_key=revoked)
    Tenant.objects.filter(pk=suspended.pk).update(status=Tenant.Status.SUSPENDED)
    wallet_grant(wallet=wallet_get_or_create_for_tenant(tenant=a), credits=100, source="adjustment", reason="t")
    plan = RatePlan.objects.get(product="telephony", code="STARTER")
    subscription = SubscriptionFactory(user=user, plan=plan, billing_cycle="monthly",
                                       current_period_end=timezone.now() + timedelta(days=30))
    package = CreditPackage.objects.order_by("pk").first()
    order = PaymentOrder.objects.create(
        user=user, tenant=a, kind="credit_package", package=package, credits=package.credits,
        amount_paise=package.price_paise, currency="INR", gateway="sandbox", checkout="razorpay",
        gateway_order_id="order_MatrixA0001", receipt="kosh_matrix_a", status="paid",
        gateway_payment_id="pay_MatrixA0001", fulfilled_at=timezone.now())
    return {"people": people, "keys": keys, "user": user, "plan": plan, "subscription": subscription,
            "order": order, "tenant_a": a, "key_a_id": revoked.pk}


@pytest.fixture
def catalog_loaded(db):
    from plans.catalog import catalog_load
    from plans.models import AddOn, CreditPackage, RatePlan

    catalog_load(RatePlan, AddOn, CreditPackage)


def client_for_principal(world, name) -> APIClient:
    from accounts.services import auth_tokens_issue

    client = APIClient()
    if name in world["people"]:
        access = auth_tokens_issue(user=world["people"][name])["access"]
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    elif name in world["keys"]:
        client.credentials(HTTP_X_BOT_SECRET=world["keys"][name])
    return client


def fill(route: str, method: str, world) -> str:
    path = "/" + route
    replacements = {
        "<str:phone_number>": world["user"].phone, "<str:user_id>": str(world["user"].pk),
        "<str:order_ref>": str(world["order"].pk), "<str:code>": world["plan"].code,
        "<str:invoice_id>": "999999", "<str:event_id>": "999999",
    }
    if route.startswith("api/bot/"):
        # The bot creates a customer for a number it has not met: not `user`'s number, or tenant
        # B would have a customer with it too.
        replacements["<str:phone_number>"] = "+919800000099"
    if route.startswith("api/v1/admin/users/"):
        replacements["<str:user_id>"] = "999999" if method == "DELETE" else str(world["people"]["admin"].pk)
    replacements["<str:tenant_id>"] = "999999" if method == "DELETE" else str(world["tenant_a"].pk)
    replacements["<str:key_id>"] = str(world["key_a_id"])
    if "rate-plans" in route:
        replacements["<int:pk>"] = "999999" if method == "DELETE" else str(world["plan"].pk)
    else:
        replacements["<int:pk>"] = str(world["subscription"].pk)
    for placeholder, value in replacements.items():
        path = path.replace(placeholder, value)
    assert "<" not in path, path
    return path


@pytest.mark.django_db
def test_access_matrix(world):
    wrong = []
    for (route, method), (body, cells) in sorted(MATRIX.items()):
        path = fill(route, method, world)
        if callable(body):
            body = body(world)
        for name in PRINCIPALS:
            for cache in caches.all():  # rate limits (by address) and cached keys start afresh
                cache.clear()
            client = client_for_principal(world, name)
            call = getattr(client, method.lower())
            response = call(path, body, format="json") if body is not None else call(path)
            if response.status_code != cells[name]:
                wrong.append(f"{method} /{route} as {name}: {response.status_code} (expected {cells[name]})")
    assert not wrong, "\n" + "\n".join(wrong)
