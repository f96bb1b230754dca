from django.apps import AppConfig


class CreditsConfig(AppConfig):
    name = "credits"
    verbose_name = "Credits"

    def ready(self):
        # Phone sign-in (accounts) creates the bot's user exactly as the bot does, and an account
        # merge moves the wallet; accounts sits below credits, so it reaches both through its hooks.
        from accounts import hooks
        from credits.services import user_get_or_create_by_phone, wallet_merge

        hooks.register_phone_user_provisioner(user_get_or_create_by_phone)
        hooks.register_account_merger("credits", wallet_merge)
        # The tenants API's stats (tenants sits below credits).
        from credits.selectors import tenant_credit_stats
        from tenants.stats import register_tenant_stats

        register_tenant_stats("credits", tenant_credit_stats)
