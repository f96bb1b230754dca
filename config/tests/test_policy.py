"""config.policy: roles, deny by default, tenant reach (404 vs 403), suspended tenants, keys."""

from types import SimpleNamespace

import pytest

from config import policy
from config.errors import Forbidden, NotFound

TENANT_A, TENANT_B = SimpleNamespace(pk=1, status="active"), SimpleNamespace(pk=2, status="active")


def person(pk, role="", tenant=None, active=True):
    return SimpleNamespace(pk=pk, is_authenticated=True, is_active=active, role=role,
                           tenant_id=getattr(tenant, "pk", None), tenant=tenant)


def key(tenant, scopes=("bot",), revoked=False):
    return SimpleNamespace(is_api_key=True, tenant=tenant, tenant_id=tenant.pk, scopes=list(scopes),
                           revoked_at="yesterday" if revoked else None, prefix="kosh_x")


P = policy.principal_for_user
K = policy.principal_for_api_key
SUPER, ADMIN, SUPPORT = P(person(1, "super_admin")), P(person(2, "admin")), P(person(3, "support"))
T_ADMIN_A, T_STAFF_A = P(person(4, "tenant_admin", TENANT_A)), P(person(5, "tenant_staff", TENANT_A))
USER_A, USER_B = P(person(6, tenant=TENANT_A)), P(person(7, tenant=TENANT_B))
KEY_A, KEY_B = K(key(TENANT_A)), K(key(TENANT_B))


def test_principal_kinds():
    assert SUPER.is_platform_writer and ADMIN.is_platform_writer
    assert SUPPORT.is_platform_staff and not SUPPORT.is_platform_writer
    assert T_ADMIN_A.is_tenant_staff and T_ADMIN_A.tenant_id == 1
    assert USER_A.is_end_user and KEY_A.is_api_key
    assert P(None).is_anonymous and P(person(8, active=False)).is_anonymous


def test_is_staff_alone_is_nothing_and_roles_must_fit_the_tenant():
    legacy = SimpleNamespace(**vars(person(9, tenant=TENANT_A)), is_staff=True)
    assert P(legacy).is_end_user
    # a platform role with a tenant, or a tenant role without one, is no staff at all
    assert P(person(10, "admin", TENANT_A)).is_end_user
    assert P(person(11, "tenant_admin")).is_end_user
    assert not policy.policy_allows(P(person(10, "admin", TENANT_A)), "credits.master.purchase")


def test_unknown_action_is_refused_to_everyone():
    for principal in (SUPER, ADMIN, KEY_A, USER_A):
        assert policy.policy_allows(principal, "no.such.action") is False
    with pytest.raises(Forbidden):
        policy.policy_require(SUPER, "no.such.action")


@pytest.mark.parametrize("action", ["credits.master.purchase", "credits.allocate", "catalog.write",
                                    "payment.refund", "tenant.create", "admin_user.write"])
def test_platform_writes_need_a_writing_platform_role(action):
    assert policy.policy_allows(SUPER, action) and policy.policy_allows(ADMIN, action)
    for principal in (SUPPORT, T_ADMIN_A, T_STAFF_A, USER_A, KEY_A, policy.ANONYMOUS_PRINCIPAL):
        assert not policy.policy_allows(principal, action), principal


def test_support_reads():
    for action in ("catalog.read", "credits.master.read", "payment.list", "subscription.list", "audit.read"):
        assert policy.policy_allows(SUPPORT, action)


def test_other_tenants_object_is_not_found_own_tenants_is_allowed():
    user_a, user_b = person(20, tenant=TENANT_A), person(21, tenant=TENANT_B)
    policy.policy_require(T_STAFF_A, "user.read", user_a)
    policy.policy_require(KEY_A, "user.read", user_a)
    with pytest.raises(NotFound):
        policy.policy_require(T_STAFF_A, "user.read", user_b)
    with pytest.raises(NotFound):
        policy.policy_require(KEY_A, "user.read", user_b)
    with pytest.raises(NotFound):
        policy.policy_require(USER_A, "user.read", user_a)  # someone else, same tenant
    policy.policy_require(USER_A, "user.read", person(6, tenant=TENANT_A))  # themself


def test_in_reach_but_not_allowed_is_forbidden():
    order = SimpleNamespace(user_id=20, tenant_id=1, user=person(20, tenant=TENANT_A))
    policy.policy_require(T_ADMIN_A, "payment.read", order)
    with pytest.raises(Forbidden):
        policy.policy_require(T_ADMIN_A, "payment.refund", order)
    other = SimpleNamespace(user_id=21, tenant_id=2, user=person(21, tenant=TENANT_B))
    with pytest.raises(NotFound):
        policy.policy_require(T_ADMIN_A, "payment.refund", other)
    policy.policy_require(ADMIN, "payment.refund", other)


def test_keys_need_their_scope_and_an_active_tenant_and_no_revocation():
    tenant = SimpleNamespace(pk=1, status="active")
    assert policy.policy_allows(K(key(tenant)), "credits.tenant_wallet.deduct", tenant)
    assert not policy.policy_allows(K(key(tenant, scopes=("tokens",))), "credits.tenant_wallet.deduct", tenant)
    assert not policy.policy_allows(K(key(tenant, revoked=True)), "credits.tenant_wallet.deduct", tenant)
    assert not policy.policy_allows(KEY_B, "credits.tenant_wallet.deduct", tenant)
    suspended = SimpleNamespace(pk=1, status="suspended")
    assert not policy.policy_allows(K(key(suspended)), "credits.tenant_wallet.deduct", tenant)
    assert not policy.policy_allows(P(person(4, "tenant_admin", suspended)), "credits.tenant_wallet.read", tenant)
    archived = SimpleNamespace(pk=1, status="archived")
    assert not policy.policy_allows(P(person(4, "tenant_admin", archived)), "credits.tenant_wallet.read", tenant)


def test_tenant_staff_on_their_wallet():
    assert policy.policy_allows(T_STAFF_A, "credits.tenant_wallet.deduct", TENANT_A)
    assert not policy.policy_allows(T_STAFF_A, "credits.tenant_wallet.deduct", TENANT_B)
    assert not policy.policy_allows(USER_A, "credits.tenant_wallet.read", TENANT_A)


def test_view_action_declarations():
    view = SimpleNamespace(policy_action={"GET": "catalog.read", "PUT": "catalog.write"})
    assert policy.view_action(view, "GET") == "catalog.read"
    assert policy.view_action(view, "HEAD") == "catalog.read"
    assert policy.view_action(view, "DELETE") is None
    assert policy.view_action(SimpleNamespace(), "GET") is None
