"""Cache coherence, not business rules: any save or delete of a key or a tenant (services, admin,
shell) forgets its cached copy on this worker at once (tenants.cache). `QuerySet.update()` fires
no signal; code using it calls the invalidation functions itself."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from tenants.cache import api_key_cache_invalidate, tenant_cache_invalidate
from tenants.models import ApiKey, Tenant


@receiver([post_save, post_delete], sender=ApiKey, dispatch_uid="tenants.api_key_cache")
def _forget_api_key(sender, instance, created=False, **kwargs):
    if not created:  # a new key has no cached copy
        api_key_cache_invalidate(api_key=instance)


@receiver([post_save, post_delete], sender=Tenant, dispatch_uid="tenants.tenant_cache")
def _forget_tenant(sender, instance, created=False, **kwargs):
    if not created:
        tenant_cache_invalidate(tenant_id=instance.pk)
