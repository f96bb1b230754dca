"""Cache coherence, not business rules: any save or delete of a plan or an add-on forgets the
cached public catalog (plans.cache)."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from plans.cache import catalog_cache_invalidate
from plans.models import AddOn, RatePlan


@receiver([post_save, post_delete], sender=RatePlan, dispatch_uid="plans.catalog_cache.plan")
@receiver([post_save, post_delete], sender=AddOn, dispatch_uid="plans.catalog_cache.addon")
def _forget_catalog(sender, **kwargs):
    catalog_cache_invalidate()
