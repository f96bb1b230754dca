from decimal import Decimal

import factory

from plans.models import AddOn, CreditPackage, RatePlan


class RatePlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RatePlan

    product = RatePlan.Product.TELEPHONY
    code = factory.Sequence(lambda n: f"TEST_PLAN_{n}")
    name = factory.Sequence(lambda n: f"Test plan {n}")
    monthly_price_paise = 50_000
    gst_rate = Decimal("18.00")
    limits = factory.LazyFunction(lambda: {"tollFreeNumbers": 1, "includedMinutes": 100, "extensions": 2,
                                           "pricePerMinute": 1.99})
    features = factory.LazyFunction(lambda: ["Feature"])
    sort_order = 100


class AddOnFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AddOn

    plan = factory.SubFactory(RatePlanFactory)
    code = factory.Sequence(lambda n: f"extraThing{n}")
    description = "Extra things"
    payg_price_paise = 100
    one_time_price_paise = 9_900


class CreditPackageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CreditPackage

    name = factory.Sequence(lambda n: f"Pack {n}")
    price_paise = 5_000
    credits = 50
    sort_order = 100
