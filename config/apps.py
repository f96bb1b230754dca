from django.apps import AppConfig


class ConfigConfig(AppConfig):
    name = "config"
    label = "config"
    verbose_name = "Platform"

    def ready(self):
        from django.contrib import admin

        from config import schema  # noqa: F401  registers OpenAPI extensions
        from config.admin_guard import admin_actions_need_platform_write

        admin_actions_need_platform_write(admin.site)
