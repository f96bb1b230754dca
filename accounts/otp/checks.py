"""System checks for phone sign-in's settings: a misconfigured sender fails at start-up, not at
a customer's first code request."""

from django.conf import settings
from django.core import checks

from accounts.otp.limits import rate_parse
from accounts.otp.senders import CONSOLE, MSG91, SENDERS, WEBHOOK


@checks.register()
def otp_settings_check(app_configs, **kwargs):
    problems = []
    sender = (settings.OTP_SENDER or "").strip().lower()
    if sender not in SENDERS:
        problems.append(checks.Error(f"OTP_SENDER={settings.OTP_SENDER!r} is not one of {', '.join(SENDERS)}.",
                                     id="accounts.E101"))
    if sender == WEBHOOK and not (settings.OTP_WEBHOOK_URL and settings.OTP_WEBHOOK_SECRET):
        problems.append(checks.Error("OTP_SENDER=webhook needs OTP_WEBHOOK_URL and OTP_WEBHOOK_SECRET.",
                                     id="accounts.E102"))
    if sender == MSG91 and not (settings.MSG91_AUTH_KEY and settings.MSG91_TEMPLATE_ID):
        problems.append(checks.Error("OTP_SENDER=msg91 needs MSG91_AUTH_KEY and MSG91_TEMPLATE_ID.",
                                     id="accounts.E103"))
    try:
        rate_parse(settings.OTP_START_RATE)
    except ValueError as exc:
        problems.append(checks.Error(str(exc), hint="OTP_START_RATE is e.g. '20/hour'.", id="accounts.E104"))
    if not (isinstance(settings.OTP_SEND_TIMEOUT, int | float) and settings.OTP_SEND_TIMEOUT > 0):
        problems.append(checks.Error("OTP_SEND_TIMEOUT must be a positive number of seconds.",
                                     id="accounts.E105"))
    return problems


@checks.register(checks.Tags.security, deploy=True)
def otp_console_sender_check(app_configs, **kwargs):
    if settings.DEBUG or (settings.OTP_SENDER or "").strip().lower() != CONSOLE:
        return []
    if settings.OTP_CONSOLE_ALLOWED:
        return [checks.Warning("OTP_SENDER=console with DEBUG off writes sign-in codes to the log.",
                               hint="Set OTP_SENDER=webhook or msg91.", id="accounts.W101")]
    return []
