from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self):
        from payments import checks  # noqa: F401  registers the deploy checks
        from payments.invoices import checks as invoice_checks  # noqa: F401
