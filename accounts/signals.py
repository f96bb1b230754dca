"""Cache coherence, not business rules: any save or delete of a user forgets its cached copy on
this worker at once (accounts.cache). `QuerySet.update()` fires no signal; code using it calls
`user_cache_invalidate` itself."""

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.cache import user_cache_invalidate


@receiver([post_save, post_delete], sender=settings.AUTH_USER_MODEL, dispatch_uid="accounts.user_cache")
def _forget_user(sender, instance, created=False, **kwargs):
    if not created:  # a new user has no cached copy
        user_cache_invalidate(user_id=instance.pk)
