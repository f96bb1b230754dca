from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "plans"
    verbose_name = "Plans"

    def ready(self):
        from plans import signals  # noqa: F401 - connects the catalog cache invalidation
