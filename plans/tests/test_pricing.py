"""plans.pricing without a database: seed 002's worked example, every cycle and add-on mode,
setup fees, rounding edges, bad input, and a property over arbitrary plans."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.errors import InvalidInput
from config.money import paise, rupees
from plans import pricing
from plans.pricing import AddOnPrice, PlanPrice, quote

TFN = AddOnPrice(code="extraTollFreeNumber", description="Extra Toll-Free Numbers", payg_paise=100,
                 one_time_paise=19_900)
EXT = AddOnPrice(code="extraExtension", description="Extra Extensions", payg_paise=100, one_time_paise=9_900)
STARTER = PlanPrice(monthly_paise=34_900, quarterly_paise=104_700, annual_paise=334_900,
                    gst_rate=Decimal("18.00"), addons=(TFN, EXT))
PROFESSIONAL_NO_QUARTERLY = PlanPrice(monthly_paise=99_900, annual_paise=959_000, gst_rate=Decimal("18"),
                                      addons=(TFN, EXT))
WITH_SETUP = PlanPrice(monthly_paise=10_000, setup_fee_paise=5_000, gst_rate=Decimal("18"), addons=(TFN,))
TOKEN_STANDARD = PlanPrice(monthly_paise=2_900)  # tax-inclusive, no annual price
SEED_ADDONS = {"extraTollFreeNumbers": 2, "extraExtensions": 5}


# (case, plan, cycle, addons, base, setup, addons upfront, subtotal, gst, total) — all paise
CASES = [
    ("seed 002 worked example", STARTER, "quarterly", SEED_ADDONS, 104_700, 0, 0, 104_700, 18_846, 123_546),
    ("monthly, no add-ons", STARTER, "monthly", {}, 34_900, 0, 0, 34_900, 6_282, 41_182),
    ("monthly add-ons are one-time, in the subtotal", STARTER, "monthly", SEED_ADDONS,
     34_900, 0, 89_300, 124_200, 22_356, 146_556),
    ("annual add-ons are PAYG, outside the subtotal", STARTER, "annual", {"extraTollFreeNumbers": 1},
     334_900, 0, 0, 334_900, 60_282, 395_182),
    ("quarterly without stored price is 3 × monthly", PROFESSIONAL_NO_QUARTERLY, "quarterly", {},
     299_700, 0, 0, 299_700, 53_946, 353_646),
    ("setup fee is in the subtotal", WITH_SETUP, "monthly", {}, 10_000, 5_000, 0, 15_000, 2_700, 17_700),
    ("setup fee plus one-time add-on", WITH_SETUP, "monthly", {"extraTollFreeNumber": 1},
     10_000, 5_000, 19_900, 34_900, 6_282, 41_182),
    ("setup fee with PAYG add-on", WITH_SETUP, "quarterly", {"extraTollFreeNumbers": 3},
     30_000, 5_000, 0, 35_000, 6_300, 41_300),
    ("token plan: no GST", TOKEN_STANDARD, "monthly", None, 2_900, 0, 0, 2_900, 0, 2_900),
    ("zero quantities charge nothing", STARTER, "monthly", {"extraTollFreeNumbers": 0}, 34_900, 0, 0,
     34_900, 6_282, 41_182),
]


@pytest.mark.parametrize(
    "plan, cycle, addons, base, setup, upfront, subtotal, gst, total",
    [case[1:] for case in CASES], ids=[case[0] for case in CASES],
)
def test_quote_table(plan, cycle, addons, base, setup, upfront, subtotal, gst, total):
    result = quote(plan, cycle, addons)
    assert (result.base_paise, result.setup_fee_paise, result.addons_upfront_paise, result.subtotal_paise,
            result.gst_paise, result.total_paise) == (base, setup, upfront, subtotal, gst, total)
    assert result.amount_paise == total
    assert result.billing_cycle == cycle


def test_seed_002_worked_example_response_shape():
    result = quote(STARTER, "quarterly", SEED_ADDONS)
    assert result.pricing_response() == {
        "basePrice": Decimal("1047.00"), "setupFee": Decimal("0.00"), "addonsTotal": Decimal("0.00"),
        "subtotal": Decimal("1047.00"), "gstRate": Decimal("18.00"), "gst": Decimal("188.46"),
        "total": Decimal("1235.46"),
    }
    assert result.addons_response() == [
        {"type": "extraTollFreeNumbers", "quantity": 2, "unitPrice": Decimal("1.00"), "total": Decimal("2.00"),
         "description": "Extra Toll-Free Numbers (PAYG)"},
        {"type": "extraExtensions", "quantity": 5, "unitPrice": Decimal("1.00"), "total": Decimal("5.00"),
         "description": "Extra Extensions (PAYG)"},
    ]
    assert result.addons_monthly_paise == 700


def test_monthly_add_on_lines_are_one_time():
    lines = quote(STARTER, "monthly", SEED_ADDONS).addons_response()
    assert lines[0] == {"type": "extraTollFreeNumbers", "quantity": 2, "unitPrice": Decimal("199.00"),
                        "total": Decimal("398.00"), "description": "Extra Toll-Free Numbers (one-time)"}
    assert lines[1]["description"] == "Extra Extensions (one-time)"
    assert lines[1]["total"] == Decimal("495.00")


@pytest.mark.parametrize("key", ["extraTollFreeNumbers", "extraTollFreeNumber"])
def test_request_key_plural_or_singular_is_echoed(key):
    (line,) = quote(STARTER, "quarterly", {key: 1}).addons
    assert line.type == key and line.code == "extraTollFreeNumber"


def test_add_on_without_description_is_labelled_by_code():
    plan = PlanPrice(monthly_paise=100, addons=(AddOnPrice(code="seat", payg_paise=5, one_time_paise=50),))
    assert quote(plan, "monthly", {"seats": 2}).addons[0].description == \
        "seat (one-time)"


# GST rounding: half up to the paisa, where banker's rounding (half even) would differ.
@pytest.mark.parametrize("subtotal, rate, gst", [
    (25, "18", 5),          # 4.5 paise → 5 (half even: 4)
    (125, "18", 23),        # 22.5 → 23 (half even: 22)
    (75, "18", 14),         # 13.5 → 14
    (1, "50", 1),           # 0.5 → 1 (half even: 0)
    (1004, "12.5", 126),    # 125.5 → 126
    (1, "18", 0),           # 0.18 → 0
    (3, "18", 1),           # 0.54 → 1
    (104_700, "18", 18_846),
    (99_999_999, "28", 28_000_000),  # 27,999,999.72 → 28,000,000
    (0, "18", 0),
])
def test_gst_rounds_half_up(subtotal, rate, gst):
    assert pricing.gst_paise(subtotal, Decimal(rate)) == gst
    plan = PlanPrice(monthly_paise=subtotal, gst_rate=Decimal(rate))
    assert quote(plan, "monthly").gst_paise == gst


@pytest.mark.parametrize("paise, expected", [
    (0, "0.00"), (5, "0.05"), (100, "1.00"), (123_546, "1235.46"), (34_900, "349.00"), (-250, "-2.50"),
])
def test_rupees(paise, expected):
    value = rupees(paise)
    assert value == Decimal(expected) and value.as_tuple().exponent == -2


@pytest.mark.parametrize("rupee, expected", [("1.99", 199), (Decimal("349"), 34_900), ("0.005", 1), (12, 1200)])
def test_paise(rupee, expected):
    assert paise(rupee) == expected


def test_annual_without_annual_price_is_refused():
    with pytest.raises(InvalidInput) as info:
        quote(TOKEN_STANDARD, "annual")
    assert info.value.code == "billing_cycle_unavailable"
    assert "billingCycle" in info.value.fields


@pytest.mark.parametrize("cycle", ["weekly", "Monthly", "", None, 3, ["monthly"]])
def test_unknown_billing_cycle(cycle):
    with pytest.raises(InvalidInput) as info:
        quote(STARTER, cycle)
    assert info.value.code == "invalid_billing_cycle"
    assert "billingCycle" in info.value.fields


@pytest.mark.parametrize("addons, code", [
    ({"extraTollFreeNumbers": -1}, "invalid_addon_quantity"),
    ({"extraTollFreeNumbers": 1.5}, "invalid_addon_quantity"),
    ({"extraTollFreeNumbers": 2.0}, "invalid_addon_quantity"),
    ({"extraTollFreeNumbers": "2"}, "invalid_addon_quantity"),
    ({"extraTollFreeNumbers": True}, "invalid_addon_quantity"),
    ({"extraTollFreeNumbers": None}, "invalid_addon_quantity"),
    ({"extraTollFreeNumbers": pricing.MAX_ADDON_QUANTITY + 1}, "invalid_addon_quantity"),
    ({"extraTollFreeNumbers": 10**30}, "invalid_addon_quantity"),
    ({"extraMinutes": 1}, "unknown_addon"),
    ({"extraExtensionss": 1}, "unknown_addon"),
    ({"s": 1}, "unknown_addon"),
    ({"": 1}, "unknown_addon"),
    ({"extraExtension": 1, "extraExtensions": 2}, "duplicate_addon"),
    ([("extraExtensions", 1)], "invalid_addons"),
    ("extraExtensions", "invalid_addons"),
])
def test_bad_add_ons(addons, code):
    with pytest.raises(InvalidInput) as info:
        quote(STARTER, "quarterly", addons)
    assert info.value.code == code
    assert "addons" in info.value.fields


def test_quantity_cap_is_allowed():
    result = quote(STARTER, "monthly", {"extraExtensions": pricing.MAX_ADDON_QUANTITY})
    assert result.addons_upfront_paise == pricing.MAX_ADDON_QUANTITY * 9_900


def test_add_ons_of_another_plan_are_unknown():
    with pytest.raises(InvalidInput) as info:
        quote(TOKEN_STANDARD, "monthly", {"extraExtensions": 1})
    assert info.value.code == "unknown_addon"


# Property: for any plan, cycle and quantities the arithmetic holds -------------------------

_money = st.integers(min_value=0, max_value=10**11)
# Real GST slabs (with 50% and 12.5% many subtotals land exactly on half a paisa) and anything else.
_rate = (st.sampled_from([Decimal(r) for r in ("0", "5", "12", "12.5", "18", "28", "50")])
         | st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False))
_addon = st.builds(AddOnPrice, code=st.sampled_from(["a", "bb", "extraThing", "seat"]),
                   description=st.text(max_size=10), payg_paise=_money, one_time_paise=_money)


@st.composite
def _plans(draw):
    addons = draw(st.lists(_addon, max_size=4, unique_by=lambda a: a.code))
    return PlanPrice(monthly_paise=draw(_money), quarterly_paise=draw(st.none() | _money),
                     annual_paise=draw(_money), setup_fee_paise=draw(_money), gst_rate=draw(_rate),
                     addons=tuple(addons))


@st.composite
def _orders(draw):
    plan = draw(_plans())
    codes = [a.code for a in plan.addons]
    chosen = draw(st.lists(st.sampled_from(codes), unique=True) if codes else st.just([]))
    addons = {}
    for code in chosen:
        key = code + "s" if draw(st.booleans()) else code
        addons[key] = draw(st.integers(min_value=0, max_value=pricing.MAX_ADDON_QUANTITY))
    return plan, draw(st.sampled_from(pricing.BILLING_CYCLES)), addons


@settings(max_examples=300, deadline=None)
@given(_orders())
def test_property_total_is_subtotal_plus_gst(order):
    plan, cycle, addons = order
    result = quote(plan, cycle, addons)
    subtotal, gst, total = rupees(result.subtotal_paise), rupees(result.gst_paise), rupees(result.total_paise)
    assert total == subtotal + gst
    assert gst == (subtotal * plan.gst_rate / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert result.amount_paise == result.total_paise == int(total * 100)
    by_code = {a.code: a for a in plan.addons}
    expected_base = {"monthly": plan.monthly_paise, "annual": plan.annual_paise,
                     "quarterly": 3 * plan.monthly_paise if plan.quarterly_paise is None else plan.quarterly_paise}
    one_time = sum(q * by_code[k if k in by_code else k[:-1]].one_time_paise for k, q in addons.items())
    assert result.subtotal_paise == (expected_base[cycle] + plan.setup_fee_paise
                                     + (one_time if cycle == "monthly" else 0))
    for line in result.addons:
        assert line.total_paise == line.quantity * line.unit_paise
        assert line.in_subtotal == (cycle == "monthly")
