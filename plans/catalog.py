"""The catalog the seeds define, loaded by a data migration (prices in paise)."""

# The free token plan every user starts on and falls back to (expiry, refund). Never sold.
BASIC_TOKEN_PLAN_CODE = "basic"

TOKEN_PLANS = [
    # code, name, monthly paise, tokens/month, duration days, tier
    (BASIC_TOKEN_PLAN_CODE, "Basic", 0, 1_000, None, 0),
    ("standard", "Standard", 2_900, 10_000, 30, 1),
    ("premium", "Premium", 9_900, 50_000, 30, 2),
]

TELEPHONY_ADDONS = [
    # code, description, PAYG paise per unit per month, one-time paise
    ("extraTollFreeNumber", "Extra Toll-Free Numbers", 100, 19_900),
    ("extraExtension", "Extra Extensions", 100, 9_900),
]

TELEPHONY_PLANS = [
    # code, name, monthly, quarterly, annual (paise), limits, tier
    ("STARTER", "Starter Plan", 34_900, 104_700, 334_900,
     {"tollFreeNumbers": 1, "includedMinutes": 100, "extensions": 2, "pricePerMinute": 1.99,
      "pricePerMinutePaise": 199}, 1),
    ("PROFESSIONAL", "Professional Plan", 99_900, 299_700, 959_000,
     {"tollFreeNumbers": 2, "includedMinutes": 500, "extensions": 10, "pricePerMinute": 1.60,
      "pricePerMinutePaise": 160}, 2),
    ("CALL_CENTER", "Call Center Plan", 499_900, 1_499_700, 4_799_000,
     {"tollFreeNumbers": 5, "includedMinutes": 1500, "extensions": 50, "pricePerMinute": 1.45,
      "pricePerMinutePaise": 145}, 3),
]

PLATFORM_PLANS = [
    # code, name, monthly paise, limits, tier (seed 004's tenant subscription plans)
    ("FREE", "Free", 0, {"libraries": 1, "students": 50}, 0),
    ("STARTER", "Starter", 99_900, {"libraries": 2, "students": 200}, 1),
    ("PROFESSIONAL", "Professional", 249_900, {"libraries": 5, "students": 1000}, 2),
    ("ENTERPRISE", "Enterprise", 999_900, {"libraries": 20, "students": 5000}, 3),
]

CREDIT_PACKAGES = [
    # name, price paise, credits
    ("Starter Pack", 2_000, 20),
    ("Premium Pack", 10_000, 100),
    ("Pro Pack", 45_000, 500),
]


def catalog_load(RatePlan, AddOn, CreditPackage) -> None:
    """Create whatever of the catalog is missing; never overwrites what staff changed."""
    # Telephony first, so that on a fresh database STARTER is plan 1 as in seed 002's examples.
    for order, (code, name, monthly, quarterly, annual, limits, tier) in enumerate(TELEPHONY_PLANS):
        plan, created = RatePlan.objects.get_or_create(
            product="telephony", code=code,
            defaults=dict(name=name, monthly_price_paise=monthly, quarterly_price_paise=quarterly,
                          annual_price_paise=annual, gst_rate="18.00", tier=tier,
                          sort_order=order, limits=limits,
                          features=[f"{limits['tollFreeNumbers']} toll-free number(s)",
                                    f"{limits['includedMinutes']} minutes included",
                                    f"{limits['extensions']} extensions",
                                    f"₹{limits['pricePerMinute']:.2f} per extra minute"]),
        )
        if created:
            for code_, description, payg, one_time in TELEPHONY_ADDONS:
                AddOn.objects.create(plan=plan, code=code_, description=description,
                                     payg_price_paise=payg, one_time_price_paise=one_time)
    for order, (code, name, monthly, tokens, days, tier) in enumerate(TOKEN_PLANS):
        RatePlan.objects.get_or_create(
            product="tokens", code=code,
            defaults=dict(name=name, monthly_price_paise=monthly, token_allowance=tokens,
                          duration_days=days, tier=tier, sort_order=order,
                          description=f"{tokens:,} tokens per month",
                          features=[f"{tokens:,} tokens per month"]
                          + (["Carry-over of unused tokens on upgrade"] if monthly else []),
                          limits={"tokens": tokens}),
        )
    for order, (code, name, monthly, limits, tier) in enumerate(PLATFORM_PLANS):
        RatePlan.objects.get_or_create(
            product="platform", code=code,
            defaults=dict(name=name, monthly_price_paise=monthly, gst_rate="18.00", tier=tier,
                          sort_order=order, limits=limits,
                          features=[f"{limits['libraries']} libraries",
                                    f"{limits['students']} students"]),
        )
    for order, (name, price, credits) in enumerate(CREDIT_PACKAGES):
        CreditPackage.objects.get_or_create(
            name=name, defaults=dict(price_paise=price, credits=credits, sort_order=order)
        )
