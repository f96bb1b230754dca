from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from accounts import signals  # noqa: F401 - connects the cache invalidation receivers
        from accounts.otp import checks  # noqa: F401  registers the phone sign-in checks
