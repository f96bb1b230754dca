"""Invoice arithmetic without a database: tax inside and on top of prices, the CGST/SGST odd
paisa, credit-note shares, amounts in words, Indian digit grouping, numbering."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments.invoices.numbering import (
    NumberTooLong,
    financial_year_label,
    financial_year_of,
    number_format,
    prefix_problem,
)
from payments.invoices.pdf import inr, printable
from payments.invoices.tax import (
    allocate,
    credit_note_split,
    credit_note_tax,
    gst_on,
    is_intra_state,
    place_of_supply,
    tax_split,
    taxable_from_inclusive,
)
from payments.invoices.words import number_in_words, rupees_in_words

IST = ZoneInfo("Asia/Kolkata")


@pytest.mark.parametrize("price, taxable, tax", [
    (2900, 2458, 442),     # standard token plan ₹29: 2457.63 → 2458
    (9900, 8390, 1510),    # premium ₹99: 8389.83
    (10000, 8475, 1525),   # Premium Pack ₹100: 8474.58
    (2000, 1695, 305),     # Starter Pack ₹20: 1694.92
    (45000, 38136, 6864),  # Pro Pack ₹450: 38135.59
    (59, 50, 9),           # exactly 50.00
    (1, 1, 0),             # 0.847 → 1: the tax absorbs the rounding, never negative here
])
def test_tax_inclusive_prices(price, taxable, tax):
    assert taxable_from_inclusive(price, Decimal("18")) == taxable
    assert price - taxable == tax


@given(st.integers(min_value=1, max_value=10**12), st.sampled_from(["5", "12", "18", "28", "0"]))
def test_tax_inclusive_split_adds_up_and_is_the_nearest_paisa(price, rate):
    taxable = taxable_from_inclusive(price, Decimal(rate))
    exact = Decimal(price) * 100 / (100 + Decimal(rate))
    assert abs(taxable - exact) <= Decimal("0.5")
    assert 0 <= price - taxable <= price


def test_gst_on_top_is_rounded_once_half_up():
    assert gst_on(104700, 18) == 18846     # seed 002: 1047 → 188.46
    assert gst_on(40870, 18) == 7357       # (349 + 59.70) × 0.18 = 73.566 → 73.57
    assert gst_on(25, 18) == 5             # 4.5 → 5 (half up)


@pytest.mark.parametrize("tax, cgst, sgst", [(18846, 9423, 9423), (1525, 763, 762), (1, 1, 0), (0, 0, 0),
                                             (442, 221, 221), (1510, 755, 755), (305, 153, 152)])
def test_intra_state_odd_paisa_goes_to_cgst(tax, cgst, sgst):
    split = tax_split(tax, intra_state=True)
    assert (split.cgst_paise, split.sgst_paise, split.igst_paise) == (cgst, sgst, 0)


def test_inter_state_is_igst():
    split = tax_split(18846, intra_state=False)
    assert (split.cgst_paise, split.sgst_paise, split.igst_paise) == (0, 0, 18846)


def test_place_of_supply_order_of_precedence():
    assert place_of_supply(buyer_gstin_state="27", buyer_billing_state="29", seller_state="29") == "27"
    assert place_of_supply(buyer_gstin_state=None, buyer_billing_state="33", seller_state="29") == "33"
    assert place_of_supply(buyer_gstin_state=None, buyer_billing_state=None, seller_state="29") == "29"
    assert is_intra_state(place_of_supply_code="29", seller_state="29")
    assert not is_intra_state(place_of_supply_code="27", seller_state="29")
    assert not is_intra_state(place_of_supply_code=None, seller_state=None)


@given(st.integers(min_value=1, max_value=10**9), st.integers(min_value=0, max_value=10**8),
       st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=6))
def test_credit_notes_of_a_full_refund_add_up_to_the_invoice(total, tax_seed, parts):
    tax = tax_seed % (total + 1)
    cuts = sorted({min(p, total) for p in parts} | {total})
    credited_tax = credited_cgst = credited_total = 0
    for cut in cuts:
        refund = cut - credited_total
        if refund <= 0:
            continue
        note_tax = credit_note_tax(invoice_tax_paise=tax, invoice_total_paise=total,
                                   refunded_before_paise=credited_total, refund_paise=refund)
        assert 0 <= note_tax <= refund
        split = credit_note_split(tax_paise=note_tax, intra_state=True, credited_tax_before=credited_tax,
                                  credited_cgst_before=credited_cgst)
        assert split.cgst_paise + split.sgst_paise == note_tax and abs(split.cgst_paise - split.sgst_paise) <= 1
        credited_tax += note_tax
        credited_cgst += split.cgst_paise
        credited_total += refund
    invoice_split = tax_split(tax, intra_state=True)
    assert credited_total == total and credited_tax == tax
    assert credited_cgst == invoice_split.cgst_paise  # CGST and SGST each credited exactly


def test_partial_credit_note_takes_the_proportional_tax():
    # ₹100 pack (taxable 84.75, tax 15.25): refund ₹25 → tax 3.81 (15.25 × 0.25 = 3.8125)
    assert credit_note_tax(invoice_tax_paise=1525, invoice_total_paise=10000, refunded_before_paise=0,
                           refund_paise=2500) == 381
    # the rest: 15.25 − 3.81
    assert credit_note_tax(invoice_tax_paise=1525, invoice_total_paise=10000, refunded_before_paise=2500,
                           refund_paise=7500) == 1144


@pytest.mark.parametrize("amount, weights, parts", [
    (100, [1, 1, 1], [34, 33, 33]),
    (104700, [34900, 50000, 19800], [34900, 50000, 19800]),
    (10, [0, 0], [10, 0]),
    (5, [], []),
    (7, [3, -1, 2], [5, -2, 4]),  # 5.25, -1.75, 3.5: the largest remainder gets the paisa
])
def test_allocate_adds_up(amount, weights, parts):
    assert allocate(amount, weights) == parts
    assert sum(parts) == (amount if weights else 0)


@pytest.mark.parametrize("paise, words", [
    (123546, "Rupees One Thousand Two Hundred Thirty Five and Forty Six Paise Only"),
    (18846, "Rupees One Hundred Eighty Eight and Forty Six Paise Only"),
    (2900, "Rupees Twenty Nine Only"),
    (100, "Rupee One Only"),
    (1, "One Paisa Only"),
    (101, "Rupee One and One Paisa Only"),
    (12345678900, "Rupees Twelve Crore Thirty Four Lakh Fifty Six Thousand Seven Hundred Eighty Nine Only"),
    (10000000, "Rupees One Lakh Only"),
    (100000000000, "Rupees One Hundred Crore Only"),
    (1000000000000, "Rupees One Thousand Crore Only"),
    (1001001, "Rupees Ten Thousand Ten and One Paisa Only"),
])
def test_rupees_in_words_indian_numbering(paise, words):
    assert rupees_in_words(paise) == words


def test_number_in_words_edges():
    assert number_in_words(0) == "Zero"
    assert number_in_words(19) == "Nineteen" and number_in_words(20) == "Twenty"
    assert number_in_words(99999) == "Ninety Nine Thousand Nine Hundred Ninety Nine"
    with pytest.raises(ValueError):
        number_in_words(-1)


@pytest.mark.parametrize("paise, text", [(123546, "1,235.46"), (12345678, "1,23,456.78"), (5, "0.05"),
                                         (100000000000, "1,00,00,00,000.00"), (-123546, "-1,235.46")])
def test_indian_digit_grouping(paise, text):
    assert inr(paise) == text


def test_printable_replaces_what_the_font_cannot_draw():
    assert printable("Ravi Kümar ₹ – “ok”") == "Ravi Kümar ₹ – “ok”"
    assert printable("रवि") == "???"


@pytest.mark.parametrize("moment, year", [
    (datetime(2027, 3, 31, 23, 59, 59, tzinfo=IST), 2026),
    (datetime(2027, 4, 1, 0, 0, tzinfo=IST), 2027),
    # 1 April 00:30 IST is still 31 March in UTC: the year follows India's calendar
    (datetime(2027, 3, 31, 19, 0, tzinfo=ZoneInfo("UTC")), 2027),
    (datetime(2027, 3, 31, 18, 29, tzinfo=ZoneInfo("UTC")), 2026),
    (datetime(2026, 1, 15, tzinfo=IST), 2025),
])
def test_financial_year_in_india(moment, year):
    assert financial_year_of(moment) == year


def test_number_format(settings):
    settings.INVOICE_PREFIX = "INV/"
    settings.CREDIT_NOTE_PREFIX = "CN/"
    assert financial_year_label(2026) == "26-27" and financial_year_label(2099) == "99-00"
    assert number_format(series="invoice", financial_year=2026, sequence=42) == "INV/26-27/00042"
    assert number_format(series="credit_note", financial_year=2026, sequence=7) == "CN/26-27/00007"
    assert number_format(series="invoice", financial_year=2026, sequence=123456) == "INV/26-27/123456"
    with pytest.raises(NumberTooLong):
        number_format(series="invoice", financial_year=2026, sequence=12345678)


@pytest.mark.parametrize("prefix, ok", [("INV/", True), ("", True), ("KOSH-", True), ("KOSH/1", False),
                                        ("IN V/", False), ("INV_", False), ("ИНВ/", False), (None, False)])
def test_prefix_problem(prefix, ok):
    assert (prefix_problem(prefix) is None) is ok
