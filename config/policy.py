"""Who may do what: the one place that answers "may this principal do this to this object"
(DESIGN §4.6). Deny by default: an action missing from RULES is refused to everyone.

A `Principal` is built once per request from what authenticated it (`principal_of(request)`):
- anonymous;
- a person with a JWT: an end user (no role), tenant staff (`tenant_admin`, `tenant_staff`; a
  tenant) or platform staff (`super_admin`, `admin`, `support` (read-only); no tenant);
- a tenant's API key (its tenant, scopes, revoked or not).
Tenant staff and API keys act only inside their tenant, and only while it is active.
`is_staff` alone never grants anything here: only the role does.

config is the lowest layer and imports no app: users, keys, tenants and the objects checked are
read by duck typing (`role`, `tenant_id`, `tenant.status`, `scopes`, `revoked_at`, `is_api_key`).

Objects: a rule that names an object checks that it is within the principal's reach. Out of reach
(another tenant's object for tenant staff or a key; someone else's for an end user) answers 404,
never 403 (DESIGN §4.6): `policy_require` raises NotFound then, Forbidden when the object is in
reach but the action is not allowed.
"""

from dataclasses import dataclass, field

from rest_framework.permissions import BasePermission

from config.errors import Forbidden, NotFound

# --- roles -----------------------------------------------------------------------------------

SUPER_ADMIN = "super_admin"
ADMIN = "admin"
SUPPORT = "support"
TENANT_ADMIN = "tenant_admin"
TENANT_STAFF = "tenant_staff"

PLATFORM_ROLES = (SUPER_ADMIN, ADMIN, SUPPORT)
PLATFORM_WRITE_ROLES = (SUPER_ADMIN, ADMIN)
TENANT_ROLES = (TENANT_ADMIN, TENANT_STAFF)
ROLE_CHOICES = [
    (SUPER_ADMIN, "Platform super admin"),
    (ADMIN, "Platform admin"),
    (SUPPORT, "Platform support (read-only)"),
    (TENANT_ADMIN, "Tenant admin"),
    (TENANT_STAFF, "Tenant staff"),
]

TENANT_ACTIVE = "active"

# Principal kinds
ANONYMOUS = "anonymous"
END_USER = "user"
TENANT = "tenant_staff"
PLATFORM = "platform_staff"
API_KEY = "api_key"


@dataclass(frozen=True)
class Principal:
    """Who is asking. `user` is the person (None for an API key or anonymous), `api_key` the key."""

    kind: str
    user: object = None
    api_key: object = None
    role: str = ""
    tenant_id: int | None = None
    tenant_active: bool = True
    scopes: frozenset = field(default_factory=frozenset)
    revoked: bool = False

    @property
    def is_anonymous(self) -> bool:
        return self.kind == ANONYMOUS

    @property
    def is_person(self) -> bool:
        return self.kind in (END_USER, TENANT, PLATFORM)

    @property
    def is_end_user(self) -> bool:
        return self.kind == END_USER

    @property
    def is_api_key(self) -> bool:
        return self.kind == API_KEY

    @property
    def is_platform_staff(self) -> bool:
        return self.kind == PLATFORM

    @property
    def is_platform_writer(self) -> bool:
        return self.kind == PLATFORM and self.role in PLATFORM_WRITE_ROLES

    @property
    def is_tenant_staff(self) -> bool:
        return self.kind == TENANT

    @property
    def user_id(self) -> int | None:
        return getattr(self.user, "pk", None)

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def __str__(self):
        if self.kind == API_KEY:
            return f"api-key:{getattr(self.api_key, 'prefix', '?')}"
        if self.kind == ANONYMOUS:
            return "anonymous"
        return f"{self.kind}:{self.role or '-'}:{self.user_id}"


ANONYMOUS_PRINCIPAL = Principal(kind=ANONYMOUS)


def _tenant_is_active(tenant) -> bool:
    return tenant is None or getattr(tenant, "status", TENANT_ACTIVE) == TENANT_ACTIVE


def principal_for_user(user) -> Principal:
    """The principal of a person (a User), whatever way they came in (JWT, the admin, a command)."""
    if user is None or not getattr(user, "is_authenticated", False) or getattr(user, "pk", None) is None:
        return ANONYMOUS_PRINCIPAL
    role = getattr(user, "role", "") or ""
    tenant_id = getattr(user, "tenant_id", None)
    tenant_active = True
    if tenant_id is not None:
        tenant_active = _tenant_is_active(getattr(user, "tenant", None))
    if not getattr(user, "is_active", False):
        # A deactivated person is nobody (authentication refuses them too).
        return ANONYMOUS_PRINCIPAL
    if role in PLATFORM_ROLES and tenant_id is None:
        kind = PLATFORM
    elif role in TENANT_ROLES and tenant_id is not None:
        kind = TENANT
    else:
        kind, role = END_USER, ""
    return Principal(kind=kind, user=user, role=role, tenant_id=tenant_id, tenant_active=tenant_active)


def principal_for_api_key(api_key) -> Principal:
    tenant = getattr(api_key, "tenant", None)
    return Principal(
        kind=API_KEY, api_key=api_key, tenant_id=getattr(api_key, "tenant_id", None),
        tenant_active=_tenant_is_active(tenant), scopes=frozenset(getattr(api_key, "scopes", None) or ()),
        revoked=getattr(api_key, "revoked_at", None) is not None,
    )


PRINCIPAL_ATTRIBUTE = "_kosh_principal"


def principal_of(request) -> Principal:
    """The request's principal, built once (after authentication) and kept on the request."""
    cached = getattr(request, PRINCIPAL_ATTRIBUTE, None)
    if cached is not None:
        return cached
    auth = getattr(request, "auth", None)
    if getattr(auth, "is_api_key", False) is True:
        principal = principal_for_api_key(auth)
    else:
        principal = principal_for_user(getattr(request, "user", None))
    try:
        setattr(request, PRINCIPAL_ATTRIBUTE, principal)
    except AttributeError:  # pragma: no cover - an object that takes no attributes
        pass
    return principal


# --- objects -----------------------------------------------------------------------------------
#
# What a rule needs to know of an object: whose it is (a person's id) and which tenant it belongs
# to. Read by duck typing; each kind of object named in RULES has an extractor.

def _tenant_of_user(user) -> int | None:
    return getattr(user, "tenant_id", None)


def _order_tenant(order) -> int | None:
    tenant_id = getattr(order, "tenant_id", None)
    if tenant_id is None:
        tenant_id = _tenant_of_user(getattr(order, "user", None))
    return tenant_id


OBJECTS = {
    # kind: (owner id, tenant id)
    "user": (lambda u: u.pk, _tenant_of_user),
    "order": (lambda o: o.user_id, _order_tenant),
    "subscription": (lambda s: s.user_id, lambda s: _tenant_of_user(s.user)),
    "invoice": (lambda i: i.user_id, lambda i: _tenant_of_user(i.user)),
    "tenant": (lambda t: None, lambda t: t.pk),
    "api_key": (lambda k: None, lambda k: k.tenant_id),
}


# --- rules -------------------------------------------------------------------------------------

READ = "read"    # every platform role, support included
WRITE = "write"  # super_admin and admin
SUPER = "super"  # super_admin only

ANY_TENANT_ROLE = TENANT_ROLES
ADMIN_ONLY = (TENANT_ADMIN,)


@dataclass(frozen=True)
class Rule:
    """Who may. Every field names one way in; none set = nobody (deny by default).

    platform: READ | WRITE | SUPER — platform staff of those roles, on any object.
    tenant_roles: tenant staff of these roles, on objects of their own tenant.
    api_key_scope: an API key with this scope ("*": any key), on objects of its tenant.
    owner: the person whose object it is (without an object: any logged-in person).
    end_users: any logged-in end user (no role), object or not: what customers do for themselves.
    persons: any logged-in person (end user or staff of any kind) — for the caller's own things.
    anyone: no credentials needed.
    obj: the kind of object the action is checked against (a key of OBJECTS), if any.
    """

    platform: str | None = None
    tenant_roles: tuple = ()
    api_key_scope: str | None = None
    owner: bool = False
    persons: bool = False
    anyone: bool = False
    obj: str | None = None


RULES: dict[str, Rule] = {
    # accounts
    "auth.admin_login": Rule(platform=READ),
    "django_admin.enter": Rule(platform=READ),
    "django_admin.view": Rule(platform=READ),
    "django_admin.change": Rule(platform=WRITE),
    # the catalog (plans, add-ons, credit packages)
    "catalog.read": Rule(platform=READ),
    "catalog.write": Rule(platform=WRITE),
    # credits: the master wallet and allocations (platform)
    "credits.master.read": Rule(platform=READ),
    "credits.master.purchase": Rule(platform=WRITE),
    "credits.allocate": Rule(platform=WRITE),
    "credits.tenant_wallets.read": Rule(platform=READ),
    # credits: a tenant's own wallet (its staff or its bot key)
    "credits.tenant_wallet.read": Rule(tenant_roles=ANY_TENANT_ROLE, api_key_scope="bot", obj="tenant"),
    "credits.tenant_wallet.deduct": Rule(tenant_roles=ANY_TENANT_ROLE, api_key_scope="bot", obj="tenant"),
    # credits of a person: grants and adjustments by staff
    "credits.user.grant": Rule(platform=WRITE, obj="user"),
    # people (seed 003's /api/users, /api/credits/history)
    "user.read": Rule(platform=READ, tenant_roles=ANY_TENANT_ROLE, api_key_scope="bot", owner=True, obj="user"),
    # token quotas (seeds 000/001)
    "token.usage.read": Rule(persons=True),
    # acting on another person's tokens at all (user_id): staff, tokens keys (objects: below)
    "token.for_user": Rule(platform=WRITE, tenant_roles=ANY_TENANT_ROLE, api_key_scope="tokens"),
    "token.consume": Rule(platform=WRITE, tenant_roles=ANY_TENANT_ROLE, api_key_scope="tokens", owner=True,
                          obj="user"),
    "token.plan.change": Rule(platform=WRITE, tenant_roles=ANY_TENANT_ROLE, api_key_scope="tokens",
                              owner=True, obj="user"),
    "token.plan.reset_used": Rule(platform=WRITE, tenant_roles=ANY_TENANT_ROLE, api_key_scope="tokens",
                                  obj="user"),
    # a paid token plan without paying: platform staff only (the platform's revenue)
    "token.plan.grant_paid": Rule(platform=WRITE, obj="user"),
    # subscriptions (seed 002)
    "subscription.list": Rule(platform=READ, tenant_roles=ANY_TENANT_ROLE),
    "subscription.read": Rule(platform=READ, tenant_roles=ANY_TENANT_ROLE, api_key_scope="usage", owner=True,
                              obj="subscription"),
    "subscription.manage": Rule(platform=WRITE, owner=True, obj="subscription"),
    "subscription.staff_action": Rule(platform=WRITE, obj="subscription"),
    "subscription.usage.record": Rule(platform=WRITE, api_key_scope="usage", obj="subscription"),
    "subscription.create": Rule(persons=True),
    "subscription.create_for_customer": Rule(platform=WRITE, obj="user"),
    "subscription.create_offline": Rule(platform=WRITE),
    # payments
    "payment.checkout": Rule(persons=True, api_key_scope="payments"),
    "payment.list_own": Rule(persons=True),
    "payment.list": Rule(platform=READ, tenant_roles=ANY_TENANT_ROLE),
    "payment.read": Rule(platform=READ, tenant_roles=ANY_TENANT_ROLE, obj="order"),
    "payment.refund": Rule(platform=WRITE, obj="order"),
    # invoices (DESIGN §4.7)
    "invoice.list": Rule(persons=True),
    "invoice.list_all": Rule(platform=READ, tenant_roles=ANY_TENANT_ROLE),
    "invoice.read": Rule(platform=READ, tenant_roles=ANY_TENANT_ROLE, owner=True, obj="invoice"),
    # tenants (seed 004; the API is built on these)
    "tenant.list": Rule(platform=READ),
    "tenant.read": Rule(platform=READ, tenant_roles=ANY_TENANT_ROLE, obj="tenant"),
    "tenant.create": Rule(platform=WRITE),
    "tenant.update": Rule(platform=WRITE, obj="tenant"),
    "tenant.suspend": Rule(platform=WRITE, obj="tenant"),
    "tenant.reactivate": Rule(platform=WRITE, obj="tenant"),
    "tenant.archive": Rule(platform=WRITE, obj="tenant"),
    "tenant.stats": Rule(platform=READ, tenant_roles=ADMIN_ONLY, obj="tenant"),
    "tenant.user.read": Rule(platform=READ, tenant_roles=ADMIN_ONLY, obj="tenant"),
    "tenant.user.write": Rule(platform=WRITE, tenant_roles=ADMIN_ONLY, obj="tenant"),
    "tenant.api_key.read": Rule(platform=READ, tenant_roles=ADMIN_ONLY, obj="tenant"),
    "tenant.api_key.write": Rule(platform=WRITE, tenant_roles=ADMIN_ONLY, obj="tenant"),
    # platform staff accounts (seed 004's /api/v1/admin/users)
    "admin_user.read": Rule(platform=WRITE),
    "admin_user.write": Rule(platform=WRITE),
    "admin_user.grant_super_admin": Rule(platform=SUPER),
    # the audit log
    "audit.read": Rule(platform=READ),
}

_PLATFORM_ROLES_FOR = {READ: PLATFORM_ROLES, WRITE: PLATFORM_WRITE_ROLES, SUPER: (SUPER_ADMIN,)}


def _object_facts(rule: Rule, obj) -> tuple[int | None, int | None]:
    """(owner id, tenant id) of `obj` for this rule's kind of object."""
    owner_of, tenant_of = OBJECTS[rule.obj]
    return owner_of(obj), tenant_of(obj)


def _in_reach(principal: Principal, rule: Rule, obj) -> bool:
    """Whether `obj` is within what the principal may see at all (else: 404, not 403)."""
    if obj is None or rule.obj is None:
        return True
    owner_id, tenant_id = _object_facts(rule, obj)
    if principal.kind == PLATFORM:
        return True
    if principal.kind in (TENANT, API_KEY):
        return tenant_id is not None and tenant_id == principal.tenant_id or (
            principal.kind == TENANT and owner_id is not None and owner_id == principal.user_id)
    if principal.kind == END_USER:
        return owner_id is not None and owner_id == principal.user_id
    return False


def _allows(principal: Principal, rule: Rule, obj) -> bool:
    if rule.anyone:
        return True
    if principal.kind == ANONYMOUS:
        return False
    if not principal.tenant_active:
        return False  # a suspended or archived tenant's staff, users and keys can do nothing
    if principal.kind == API_KEY:
        if principal.revoked or rule.api_key_scope is None:
            return False
        if rule.api_key_scope != "*" and not principal.has_scope(rule.api_key_scope):
            return False
        if obj is None or rule.obj is None:
            return True
        return _object_facts(rule, obj)[1] == principal.tenant_id
    # a person
    if rule.persons:
        return True
    if principal.kind == PLATFORM and rule.platform and principal.role in _PLATFORM_ROLES_FOR[rule.platform]:
        return True
    owner_id, tenant_id = _object_facts(rule, obj) if obj is not None and rule.obj else (None, None)
    if principal.kind == TENANT and principal.role in rule.tenant_roles:
        if obj is None or rule.obj is None or (tenant_id is not None and tenant_id == principal.tenant_id):
            return True
    if rule.owner:
        return obj is None or rule.obj is None or (owner_id is not None and owner_id == principal.user_id)
    return False


def policy_allows(principal: Principal, action: str, obj=None) -> bool:
    """May `principal` do `action` (to `obj`)? Unknown actions: no. Without an object, whether the
    principal may do it to some object (the coarse check a view makes before it loads one)."""
    rule = RULES.get(action)
    if rule is None or principal is None:
        return False
    return _allows(principal, rule, obj)


def policy_require(principal: Principal, action: str, obj=None, *, not_found: Exception | None = None,
                   forbidden: Exception | None = None) -> None:
    """Raise unless allowed: NotFound (or `not_found`) when `obj` is out of the principal's reach,
    Forbidden (or `forbidden`) otherwise."""
    if policy_allows(principal, action, obj):
        return
    rule = RULES.get(action)
    if obj is not None and rule is not None and principal is not None and not _in_reach(principal, rule, obj):
        raise not_found or NotFound()
    raise forbidden or Forbidden("You may not do this.", code="forbidden")


def tenant_scope(principal: Principal, action: str):
    """For lists: ALL (every tenant), a tenant id (only that tenant's rows), or None (not allowed).
    Platform staff see every tenant; tenant staff and keys their own."""
    if not policy_allows(principal, action):
        return None
    if principal.kind == PLATFORM:
        return ALL_TENANTS
    if principal.kind in (TENANT, API_KEY):
        return principal.tenant_id
    return None


ALL_TENANTS = "all"


# --- DRF ---------------------------------------------------------------------------------------

class PolicyPermission(BasePermission):
    """Reads the view's declared action: `policy_action = "catalog.read"`, or per method
    `policy_action = {"GET": "catalog.read", "PUT": "catalog.write"}`. A view or method that
    declares none is refused (deny by default). The coarse check only: views check the object
    they load with `policy_require`."""

    def has_permission(self, request, view):
        action = view_action(view, request.method)
        return action is not None and policy_allows(principal_of(request), action)


def view_action(view, method: str) -> str | None:
    declared = getattr(view, "policy_action", None)
    if isinstance(declared, dict):
        if method in ("HEAD", "OPTIONS") and method not in declared:
            method = "GET"
        return declared.get(method)
    return declared
