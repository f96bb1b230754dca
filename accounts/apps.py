from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        # Imported for their side effects: cache invalidation receivers and system checks.
        import accounts.checks  # noqa: F401
        import accounts.otp.checks  # noqa: F401
        import accounts.signals  # noqa: F401
        from accounts.selectors import tenant_people_stats
        from tenants.stats import register_tenant_stats

        register_tenant_stats("accounts", tenant_people_stats)
