"""System checks for invoicing settings: a wrong GSTIN or prefix stops start-up; a production
server without a GSTIN is warned under `check --deploy`."""

from django.conf import settings
from django.core import checks

from config.gst import gstin_normalize, gstin_problem, state_code_for


@checks.register()
def invoice_settings_check(app_configs, **kwargs):
    from payments.invoices.numbering import prefix_problem

    problems = []
    gstin = gstin_normalize(settings.SELLER_GSTIN)
    if gstin and gstin_problem(gstin):
        problems.append(checks.Error(f"SELLER_GSTIN {gstin} is not a valid GSTIN: {gstin_problem(gstin)}",
                                     id="payments.E010"))
    for name in ("INVOICE_PREFIX", "CREDIT_NOTE_PREFIX"):
        problem = prefix_problem(getattr(settings, name))
        if problem:
            problems.append(checks.Error(f"{name} {problem}.", id="payments.E011"))
    if settings.INVOICE_PREFIX == settings.CREDIT_NOTE_PREFIX:
        problems.append(checks.Error("INVOICE_PREFIX and CREDIT_NOTE_PREFIX must differ: each series "
                                     "needs its own numbers.", id="payments.E012"))
    if not gstin and settings.SELLER_STATE and not state_code_for(settings.SELLER_STATE):
        problems.append(checks.Warning(f"SELLER_STATE {settings.SELLER_STATE!r} is not an Indian state or "
                                       "union territory.", id="payments.W011"))
    return problems


@checks.register(checks.Tags.security, deploy=True)
def invoice_seller_deploy_check(app_configs, **kwargs):
    problems = []
    if not settings.SELLER_GSTIN:
        problems.append(checks.Warning(
            "SELLER_GSTIN is not set: invoices carry no GSTIN and are not valid tax invoices.",
            hint="Set SELLER_GSTIN (and SELLER_NAME, SELLER_ADDRESS) to the registration that sells.",
            id="payments.W010"))
    demo_gstin = getattr(settings, "DEMO_SELLER", {}).get("SELLER_GSTIN")
    if demo_gstin and settings.SELLER_GSTIN == demo_gstin:
        problems.append(checks.Warning(
            f"SELLER_GSTIN is the made-up demo GSTIN {demo_gstin} (DEBUG on, no SELLER_* set).",
            hint="Set SELLER_NAME, SELLER_ADDRESS and SELLER_GSTIN to the registration that sells.",
            id="payments.W013"))
    if not settings.SELLER_ADDRESS:
        problems.append(checks.Warning("SELLER_ADDRESS is not set: invoices print no seller address.",
                                       id="payments.W012"))
    return problems
