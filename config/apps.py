from django.apps import AppConfig


class ConfigConfig(AppConfig):
    name = "config"
    label = "config"
    verbose_name = "Platform"

    def ready(self):
        from config import schema  # noqa: F401  registers OpenAPI extensions
