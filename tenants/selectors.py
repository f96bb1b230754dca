from django.db.models import Q

from config.errors import InvalidInput, NotFound
from config.ids import positive_id
from config.policy import policy_require
from tenants.models import ApiKey, Tenant

SEARCH_MAX = 100


def tenants_filtered(params):
    """`search` (name, slug or email contains) and `status`; a bad value → 400."""
    tenants = Tenant.objects.all()
    search = params.get("search")
    if search:
        if len(search) > SEARCH_MAX or not search.isprintable():
            raise InvalidInput("search is too long or not text.", code="invalid_query",
                               fields={"search": ["Invalid."]})
        tenants = tenants.filter(Q(name__icontains=search) | Q(slug__icontains=search)
                                 | Q(email__icontains=search))
    status = params.get("status")
    if status:
        if status not in Tenant.Status.values:
            raise InvalidInput(f"status must be one of {', '.join(Tenant.Status.values)}.", code="invalid_query",
                               fields={"status": ["Invalid."]})
        tenants = tenants.filter(status=status)
    return tenants.order_by("name", "id")


def tenant_for(*, principal, action: str, tenant_id) -> Tenant:
    """The tenant `tenant_id` names, if the principal may `action` it: 404 when there is no such
    tenant or it is another tenant's (tenant staff), 403 when it is in reach but not allowed."""
    pk = positive_id(tenant_id)
    tenant = None if pk is None else Tenant.objects.filter(pk=pk).first()
    if tenant is None:
        raise NotFound("Tenant not found.", code="tenant_not_found")
    policy_require(principal, action, tenant, not_found=NotFound("Tenant not found.", code="tenant_not_found"))
    return tenant


def api_key_of_tenant(*, tenant: Tenant, key_id) -> ApiKey:
    pk = positive_id(key_id)
    api_key = None if pk is None else ApiKey.objects.filter(pk=pk, tenant=tenant).select_related("tenant").first()
    if api_key is None:
        raise NotFound("API key not found.", code="api_key_not_found")
    return api_key
