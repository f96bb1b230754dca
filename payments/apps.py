from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self):
        # An account merge (phone sign-in, in accounts) moves orders through accounts' hooks.
        from accounts import hooks
        from payments import checks  # noqa: F401  registers the deploy checks
        from payments.invoices import checks as invoice_checks  # noqa: F401
        from payments.services import orders_merge

        hooks.register_account_merger("payments", orders_merge)
        from payments.selectors import tenant_revenue_stats
        from tenants.stats import register_tenant_stats

        register_tenant_stats("payments", tenant_revenue_stats)
