from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Tenants"

    def ready(self):
        from tenants import signals  # noqa: F401 - connects the cache invalidation receivers
