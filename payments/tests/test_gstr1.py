"""manage.py export_gstr1: the month's sections reconcile to its invoices and credit notes."""

import csv
from datetime import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from payments.invoices.models import Invoice
from payments.invoices.services import credit_note_issue, invoice_issue
from payments.models import Refund
from payments.tests.invoicing import (
    IST,
    MAHARASHTRA_BUYER_GSTIN,
    paid_order,
    telephony_plan,
    with_billing_profile,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("invoice_seller")]
JULY = datetime(2026, 7, 10, 12, 0, tzinfo=IST)


def _buyer(**profile):
    from accounts.tests.factories import UserFactory

    return with_billing_profile(UserFactory(), **profile)


def _invoice(user, amount, at=JULY):
    return invoice_issue(order=paid_order(user, plan=telephony_plan(), amount_paise=amount), issued_at=at)


def _credit(invoice, amount, at=JULY):
    refund = Refund.objects.create(order=invoice.order, gateway_refund_id=f"rfnd_{invoice.pk}_{amount}",
                                   amount_paise=amount, status="processed")
    return credit_note_issue(refund=refund, issued_at=at)


def _read(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _rupees(rows, column):
    return sum((Decimal(row[column]) for row in rows), Decimal(0))


def test_sections_reconcile_to_the_invoices(tmp_path, catalog):
    b2b = _invoice(_buyer(company="Umbrella Logistics LLP", state="Maharashtra", gstin=MAHARASHTRA_BUYER_GSTIN),
                   123546)
    local = _invoice(_buyer(state="Karnataka"), 41182)
    local_2 = _invoice(_buyer(state="Karnataka"), 146556)
    far = _invoice(_buyer(state="Tamil Nadu"), 41182)
    big = _invoice(_buyer(state="Gujarat"), 12980000)  # ₹1,29,800 inter-state to a consumer: B2CL
    _invoice(_buyer(state="Karnataka"), 41182, at=datetime(2026, 8, 1, 0, 0, tzinfo=IST))  # next month
    _invoice(_buyer(state="Karnataka"), 41182, at=datetime(2026, 6, 30, 23, 59, tzinfo=IST))  # last month
    notes = [_credit(b2b, 23546), _credit(local, 41182), _credit(big, 1180000)]
    out = StringIO()
    call_command("export_gstr1", "--month", "2026-07", "--out", str(tmp_path), stdout=out)
    files = {name: _read(tmp_path / f"gstr1-2026-07-{name}.csv")
             for name in ("b2b", "b2cl", "b2cs", "cdnr", "cdnur", "summary")}

    assert [row["Invoice Number"] for row in files["b2b"]] == [b2b.number]
    row = files["b2b"][0]
    assert (row["GSTIN/UIN of Recipient"], row["Receiver Name"], row["Invoice date"], row["Invoice Value"],
            row["Place Of Supply"], row["Reverse Charge"], row["Rate"], row["Taxable Value"]) == (
        MAHARASHTRA_BUYER_GSTIN, "Umbrella Logistics LLP", "10-Jul-2026", "1235.46", "27-Maharashtra", "N", "18",
        "1047.00")
    assert [row["Invoice Number"] for row in files["b2cl"]] == [big.number]
    assert files["b2cl"][0]["Place Of Supply"] == "24-Gujarat" and files["b2cl"][0]["Taxable Value"] == "110000.00"
    # b2cs: consumer invoices net of their credit notes, by place of supply and rate
    b2cs = {(row["Place Of Supply"], row["Rate"]): row["Taxable Value"] for row in files["b2cs"]}
    assert b2cs == {("29-Karnataka", "18"): "1242.00",  # 349 + 1242 − 349 (refunded)
                    ("33-Tamil Nadu", "18"): "349.00"}
    assert [row["Note Number"] for row in files["cdnr"]] == [notes[0].number]
    assert files["cdnr"][0]["Note Type"] == "C" and files["cdnr"][0]["Note Value"] == "235.46"
    assert [row["Note Number"] for row in files["cdnur"]] == [notes[2].number]
    assert files["cdnur"][0]["UR Type"] == "B2CL"

    # reconciliation to the paisa
    july = Invoice.objects.filter(issued_at__gte=datetime(2026, 7, 1, tzinfo=IST),
                                  issued_at__lt=datetime(2026, 8, 1, tzinfo=IST))
    invoices, credit_notes = july.filter(kind="invoice"), july.filter(kind="credit_note")
    taxable = sum(i.taxable_paise for i in invoices)
    b2cs_notes = [n for n in notes if n not in (notes[0], notes[2])]
    reported = (_rupees(files["b2b"], "Taxable Value") + _rupees(files["b2cl"], "Taxable Value")
                + _rupees(files["b2cs"], "Taxable Value"))
    assert reported * 100 == taxable - sum(n.taxable_paise for n in b2cs_notes)
    assert (_rupees(files["cdnr"], "Taxable Value") + _rupees(files["cdnur"], "Taxable Value")) * 100 == sum(
        n.taxable_paise for n in credit_notes) - sum(n.taxable_paise for n in b2cs_notes)
    assert _rupees(files["b2b"], "Invoice Value") * 100 == b2b.total_paise
    summary = {row["Section"]: row for row in files["summary"]}
    for name, docs in (("all invoices", invoices), ("all credit notes", credit_notes)):
        assert int(summary[name]["Documents"]) == docs.count()
        for column, field in (("Taxable Value", "taxable_paise"), ("Integrated Tax", "igst_paise"),
                              ("Central Tax", "cgst_paise"), ("State/UT Tax", "sgst_paise"), ("Total", "total_paise")):
            assert Decimal(summary[name][column]) * 100 == sum(getattr(d, field) for d in docs), (name, column)
    sections = ("b2b", "b2cl", "b2cs")
    assert sum(Decimal(summary[s]["Total"]) for s in sections) * 100 == (
        sum(i.total_paise for i in invoices) - sum(n.total_paise for n in b2cs_notes))
    assert local_2.number and far.number
    assert "all invoices: 5" in out.getvalue()


def test_an_empty_month_writes_headers_only(tmp_path):
    call_command("export_gstr1", "--month", "2026-01", "--out", str(tmp_path), stdout=StringIO())
    with open(tmp_path / "gstr1-2026-01-b2b.csv", encoding="utf-8") as handle:
        assert handle.read().startswith("GSTIN/UIN of Recipient,Receiver Name,Invoice Number")
    assert len(_read(tmp_path / "gstr1-2026-01-b2cs.csv")) == 0


@pytest.mark.parametrize("month", ["2026-13", "2026-7", "July", "", "2026-00"])
def test_a_bad_month_is_refused(tmp_path, month):
    with pytest.raises(CommandError):
        call_command("export_gstr1", "--month", month, "--out", str(tmp_path), stdout=StringIO())
