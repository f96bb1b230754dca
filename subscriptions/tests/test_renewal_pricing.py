"""The renewal charge (DESIGN §4.3): a pure function, table-tested without a database."""

from decimal import Decimal

import pytest

from plans.pricing import AddOnPrice, PlanPrice
from subscriptions.lifecycle.renewal import renewal_charge

ADDONS = (AddOnPrice(code="extraTollFreeNumber", description="Extra Toll-Free Numbers", payg_paise=100,
                     one_time_paise=19_900),
          AddOnPrice(code="extraExtension", description="Extra Extensions", payg_paise=100, one_time_paise=9_900))
STARTER = PlanPrice(monthly_paise=34_900, quarterly_paise=104_700, annual_paise=334_900, gst_rate=Decimal("18"),
                    addons=ADDONS)
PROFESSIONAL = PlanPrice(monthly_paise=99_900, quarterly_paise=299_700, annual_paise=959_000,
                         gst_rate=Decimal("18"), addons=ADDONS)


def charge(*, next_price=STARTER, next_cycle="monthly", closed_price=STARTER, closed_cycle="monthly", addons=None,
           included=100, used=0, per_minute=199):
    return renewal_charge(next_plan_name="Plan", next_plan_code="P", next_price=next_price, next_cycle=next_cycle,
                          closed_price=closed_price, closed_cycle=closed_cycle, addons=addons or {},
                          included_minutes=included, minutes_used=used, per_minute_paise=per_minute)


@pytest.mark.parametrize(("kwargs", "subtotal", "gst", "total"), [
    # seed examples (DESIGN §4.3)
    ({"used": 130}, 40_870, 7_357, 48_227),  # (349 + 30 × 1.99) × 1.18 = 482.27
    ({"next_cycle": "quarterly", "closed_cycle": "quarterly",
      "addons": {"extraTollFreeNumber": 2, "extraExtension": 5}}, 106_800, 19_224, 126_024),  # 1,260.24
    # nothing over the included minutes: the plan alone
    ({"used": 100}, 34_900, 6_282, 41_182),
    ({"used": 0}, 34_900, 6_282, 41_182),
    # monthly add-ons were one-time charges: never charged again
    ({"addons": {"extraTollFreeNumber": 2}}, 34_900, 6_282, 41_182),
    # annual: add-ons × 12 months of PAYG
    ({"next_cycle": "annual", "closed_cycle": "annual", "addons": {"extraExtension": 1}},
     334_900 + 1_200, 60_498, 334_900 + 1_200 + 60_498),
    # a downgrade: the next period at the new plan, the arrears at the closed one's per-minute price
    ({"next_price": STARTER, "closed_price": PROFESSIONAL, "included": 500, "used": 510, "per_minute": 160},
     34_900 + 1_600, 6_570, 34_900 + 1_600 + 6_570),
])
def test_renewal_amounts(kwargs, subtotal, gst, total):
    result = charge(**kwargs)
    assert (result.subtotal_paise, result.gst_paise, result.total_paise) == (subtotal, gst, total)
    assert sum(line.amount_paise for line in result.lines) == subtotal


def test_lines_carry_what_the_invoice_lists():
    result = charge(used=130)
    assert [line.as_order_line() for line in result.lines] == [
        {"kind": "plan", "code": "P", "description": "Plan (monthly)", "quantity": 1, "unitPaise": 34_900,
         "amountPaise": 34_900},
        {"kind": "overage", "code": "minutes", "description": "Overage: 30 minutes over 100 included at ₹1.99/minute",
         "quantity": 30, "unitPaise": 199, "amountPaise": 5_970},
    ]
    response = result.as_response()
    assert response["total"] == Decimal("482.27") and response["gst"] == Decimal("73.57")


def test_quarterly_addon_lines():
    result = charge(next_cycle="quarterly", closed_cycle="quarterly",
                    addons={"extraTollFreeNumber": 2, "extraExtension": 5})
    addons = [line for line in result.lines if line.kind == "addon"]
    assert [(line.code, line.quantity, line.unit_paise, line.amount_paise) for line in addons] == [
        ("extraTollFreeNumber", 2, 300, 600), ("extraExtension", 5, 300, 1_500)]
    assert result.as_response()["total"] == Decimal("1260.24")
