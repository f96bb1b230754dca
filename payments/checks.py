"""Deploy checks: a production server must not take simulated payments by accident."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def payment_gateway_check(app_configs, **kwargs):
    from payments.gateways import RAZORPAY, SANDBOX, GatewayUnavailable, active_gateway_name

    if settings.DEBUG:
        return []
    try:
        name = active_gateway_name()
    except GatewayUnavailable as exc:
        return [checks.Error(str(exc), id="payments.E002")]
    if name == SANDBOX:
        if (settings.PAYMENT_GATEWAY or "").strip().lower() == SANDBOX:
            return [checks.Warning("PAYMENT_GATEWAY=sandbox with DEBUG off: payments are simulated.",
                                   id="payments.W001")]
        return [checks.Error(
            "No RAZORPAY_KEY_ID is set, so the sandbox gateway would accept simulated payments.",
            hint="Set RAZORPAY_KEY_ID, RAZORPAY_KEY_SECRET and RAZORPAY_WEBHOOK_SECRET, or set "
                 "PAYMENT_GATEWAY=sandbox if a simulated gateway is really wanted.",
            id="payments.E001")]
    problems = []
    if name == RAZORPAY and not settings.RAZORPAY_KEY_SECRET:
        problems.append(checks.Error("RAZORPAY_KEY_SECRET is not set.", id="payments.E003"))
    if name == RAZORPAY and not settings.RAZORPAY_WEBHOOK_SECRET:
        problems.append(checks.Warning("RAZORPAY_WEBHOOK_SECRET is not set: every webhook is refused.",
                                       id="payments.W002"))
    return problems


@checks.register(checks.Tags.security, deploy=True)
def cashfree_check(app_configs, **kwargs):
    """Cashfree is optional; when its client id is set, the rest must make sense."""
    if not getattr(settings, "CASHFREE_CLIENT_ID", ""):
        return []
    problems = []
    if not settings.CASHFREE_CLIENT_SECRET:
        problems.append(checks.Error("CASHFREE_CLIENT_ID is set but CASHFREE_CLIENT_SECRET is not.",
                                     id="payments.E004"))
    if settings.CASHFREE_ENVIRONMENT not in ("sandbox", "production"):
        problems.append(checks.Error("CASHFREE_ENVIRONMENT must be sandbox or production.", id="payments.E005"))
    elif settings.CASHFREE_ENVIRONMENT == "sandbox" and not settings.DEBUG:
        problems.append(checks.Warning("CASHFREE_ENVIRONMENT=sandbox with DEBUG off: Cashfree payments are "
                                       "test payments.", id="payments.W003"))
    base_url = settings.CASHFREE_BASE_URL
    if base_url and not base_url.startswith("https://"):
        problems.append(checks.Error("CASHFREE_BASE_URL must be https in production.", id="payments.E006"))
    return problems
