from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "subscriptions"
    verbose_name = "Subscriptions"

    def ready(self):
        # An account merge (phone sign-in, in accounts) moves subscriptions through accounts' hooks.
        from accounts import hooks
        from subscriptions.services import subscriptions_merge

        hooks.register_account_merger("subscriptions", subscriptions_merge)
        from subscriptions.selectors import tenant_subscription_stats
        from tenants.stats import register_tenant_stats

        register_tenant_stats("subscriptions", tenant_subscription_stats)
