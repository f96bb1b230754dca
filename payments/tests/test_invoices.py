"""Tax invoices and credit notes: issued by fulfilment and refunds, right to the paisa,
append-only, numbered per financial year without gaps."""

import os
import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction

from config.gst import gstin_is_valid, state_name
from payments.invoices.checks import invoice_seller_deploy_check, invoice_settings_check
from payments.invoices.models import Invoice, InvoiceCounter, InvoiceIsAppendOnly
from payments.invoices.parties import buyer_snapshot, seller_snapshot
from payments.invoices.services import credit_note_issue, invoice_issue
from payments.models import PaymentOrder, Refund
from payments.services import order_create, order_verify
from payments.tests.invoicing import (
    IST,
    KARNATAKA_SELLER_GSTIN,
    MAHARASHTRA_BUYER_GSTIN,
    paid_order,
    telephony_plan,
    use_seller,
    with_billing_profile,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("invoice_seller")]


def the_invoice(order) -> Invoice:
    return Invoice.objects.get(order=order, kind="invoice")


def amounts(invoice):
    return (invoice.taxable_paise, invoice.cgst_paise, invoice.sgst_paise, invoice.igst_paise, invoice.total_paise)


# --- issued by fulfilment -----------------------------------------------------------------------

def test_a_paid_token_plan_gets_one_tax_inclusive_invoice(user, sandbox):
    order = order_create(user=user, plan_code="standard")
    checkout = sandbox.pay(order_id=order.gateway_order_id, amount_paise=order.amount_paise, currency="INR")
    order, _ = order_verify(order=order, payment_id=checkout["razorpay_payment_id"],
                            signature=checkout["razorpay_signature"])
    invoice = the_invoice(order)
    # ₹29 inclusive of 18%: taxable 24.58, tax 4.42. No billing profile: place of supply is the
    # seller's state (Karnataka), so CGST + SGST.
    assert amounts(invoice) == (2458, 221, 221, 0, 2900)
    assert invoice.place_of_supply == "29-Karnataka" and invoice.gst_rate == Decimal("18.00")
    assert invoice.lines == [{"description": "Standard token plan (10,000 tokens/month, 30 days)", "sac": "998315",
                              "quantity": 1, "taxable_paise": 2458}]
    assert invoice.number == f"INV/{invoice.financial_year % 100:02d}-{(invoice.financial_year + 1) % 100:02d}/00001"
    assert invoice.seller["gstin"] == KARNATAKA_SELLER_GSTIN and invoice.seller["stateCode"] == "29"
    assert invoice.buyer["name"] == user.name and invoice.buyer["gstin"] == ""
    assert invoice.user == user and invoice.issued_at >= order.fulfilled_at
    # a replayed verify changes nothing
    order_verify(order=order, payment_id=checkout["razorpay_payment_id"], signature=checkout["razorpay_signature"])
    assert Invoice.objects.count() == 1


def test_a_credit_pack_invoice_puts_the_odd_paisa_in_cgst(user, sandbox, package):
    order = order_create(user=user, package_id=package.pk)
    checkout = sandbox.pay(order_id=order.gateway_order_id, amount_paise=order.amount_paise, currency="INR")
    order, _ = order_verify(order=order, payment_id=checkout["razorpay_payment_id"],
                            signature=checkout["razorpay_signature"])
    invoice = the_invoice(order)
    assert amounts(invoice) == (8475, 763, 762, 0, 10000)  # tax 15.25 → 7.63 + 7.62
    assert invoice.lines[0]["description"] == "Premium Pack (100 credits)"


def test_seed_002_example_maharashtra_buyer_karnataka_seller_igst_to_the_paisa(user, catalog):
    """Quarterly STARTER with 2 extra toll-free numbers and 5 extensions: the add-ons are PAYG
    on a quarterly cycle, so the subtotal is the quarterly price ₹1,047; IGST ₹188.46."""
    with_billing_profile(user, company="Umbrella Logistics LLP", first_name="Asha", last_name="Rao",
                         address="Unit 7, Andheri Kurla Road", city="Mumbai", postal_code="400059",
                         state="Maharashtra", gstin=MAHARASHTRA_BUYER_GSTIN, phone="+919820012345")
    order = paid_order(user, plan=telephony_plan("STARTER"), amount_paise=123546, billing_cycle="quarterly",
                       lines=[{"description": "Starter Plan (quarterly)", "quantity": 1, "amountPaise": 104700}])
    invoice = invoice_issue(order=order)
    assert amounts(invoice) == (104700, 0, 0, 18846, 123546)
    assert invoice.place_of_supply_code == "27" and invoice.place_of_supply == "27-Maharashtra"
    assert invoice.buyer == {"name": "Umbrella Logistics LLP", "gstin": MAHARASHTRA_BUYER_GSTIN,
                             "address": "Unit 7, Andheri Kurla Road, Mumbai 400059, Maharashtra, India",
                             "state": "Maharashtra", "stateCode": "27", "email": user.email,
                             "phone": "+919820012345"}
    assert invoice.lines == [{"description": "Starter Plan (quarterly)", "sac": "998419", "quantity": 1,
                              "taxable_paise": 104700}]


def test_a_subscription_without_lines_derives_the_taxable_value(user, catalog):
    with_billing_profile(user, state="Maharashtra", gstin=MAHARASHTRA_BUYER_GSTIN)
    order = paid_order(user, plan=telephony_plan("STARTER"), amount_paise=123546, billing_cycle="quarterly")
    invoice = invoice_issue(order=order)
    assert amounts(invoice) == (104700, 0, 0, 18846, 123546)
    assert invoice.lines[0]["description"] == "Starter Plan subscription (quarterly)"


def test_subscription_lines_are_listed_and_tax_is_on_their_sum(user, catalog):
    # Monthly STARTER with 2 extra numbers and 5 extensions (one-time on a monthly cycle):
    # 349 + 398 + 495 = 1242, GST 223.56, total 1465.56. A consumer in Karnataka: intra-state.
    with_billing_profile(user, first_name="Ravi", last_name="Kumar", state="Karnataka")
    lines = [{"description": "Starter Plan (monthly)", "quantity": 1, "amountPaise": 34900},
             {"description": "Extra Toll-Free Numbers (one-time)", "quantity": 2, "amountPaise": 39800},
             {"description": "Extra Extensions (one-time)", "quantity": 5, "amountPaise": 49500}]
    invoice = invoice_issue(order=paid_order(user, plan=telephony_plan(), amount_paise=146556, lines=lines))
    assert amounts(invoice) == (124200, 11178, 11178, 0, 146556)
    assert [line["taxable_paise"] for line in invoice.lines] == [34900, 39800, 49500]
    assert invoice.buyer["name"] == "Ravi Kumar" and invoice.place_of_supply == "29-Karnataka"


def test_lines_that_disagree_with_the_amount_paid_fall_back_to_one_line(user, catalog, caplog):
    lines = [{"description": "Starter Plan (monthly)", "quantity": 1, "amountPaise": 50000}]
    invoice = invoice_issue(order=paid_order(user, plan=telephony_plan(), amount_paise=41182, lines=lines))
    assert invoice.total_paise == 41182 and invoice.taxable_paise == 34900  # 411.82 ÷ 1.18
    assert len(invoice.lines) == 1 and "do not match" in caplog.text


@pytest.mark.parametrize("profile, place, intra", [
    ({"state": "Tamil Nadu"}, "33-Tamil Nadu", False),             # billing state, no GSTIN
    ({"state": "KA"}, "29-Karnataka", True),
    ({"state": "Atlantis"}, "29-Karnataka", True),                  # unknown: the seller's state
    ({"state": "Karnataka", "gstin": MAHARASHTRA_BUYER_GSTIN}, "27-Maharashtra", False),  # GSTIN wins
    ({"state": "Maharashtra", "gstin": "27AAPFU0939F1ZW"}, "27-Maharashtra", False),  # bad GSTIN: B2C
])
def test_place_of_supply(user, catalog, profile, place, intra):
    with_billing_profile(user, **profile)
    invoice = invoice_issue(order=paid_order(user, plan=telephony_plan(), amount_paise=41182))
    assert invoice.place_of_supply == place
    assert invoice.is_intra_state is intra
    assert (invoice.igst_paise == 0) is intra and invoice.cgst_paise + invoice.sgst_paise + invoice.igst_paise == 6282
    if profile.get("gstin") == "27AAPFU0939F1ZW":
        assert invoice.buyer["gstin"] == ""


def test_a_seller_without_gstin_uses_seller_state_or_charges_igst(settings, user, catalog):
    use_seller(settings, gstin="", state="Karnataka")
    assert seller_snapshot()["stateCode"] == "29"
    invoice = invoice_issue(order=paid_order(user, plan=telephony_plan(), amount_paise=41182))
    assert invoice.is_intra_state and invoice.seller["gstin"] == ""
    use_seller(settings, gstin="", state="")
    invoice = invoice_issue(order=paid_order(user, plan=telephony_plan(), amount_paise=41182))
    assert invoice.igst_paise == 6282 and invoice.place_of_supply == ""  # nothing known: IGST


def test_buyer_snapshot_without_a_profile(user):
    assert buyer_snapshot(user) == {"name": user.name, "address": "", "state": "", "stateCode": "",
                                    "gstin": "", "email": user.email, "phone": ""}
    user.name = ""
    assert buyer_snapshot(user)["name"] == user.email


# --- credit notes -------------------------------------------------------------------------------

def refund_url(order):
    return f"/api/v1/payments/{order.pk}/refund"


def paid_package_order(fake, user, package):
    order = order_create(user=user, package_id=package.pk)
    checkout = fake.pay(order.gateway_order_id)
    order, _ = order_verify(order=order, payment_id=checkout["razorpay_payment_id"],
                            signature=checkout["razorpay_signature"])
    return order


def test_partial_then_full_refund_credit_notes_add_up_to_the_invoice(staff_client, user, fake_razorpay, package):
    order = paid_package_order(fake_razorpay, user, package)
    invoice = the_invoice(order)
    assert amounts(invoice) == (8475, 763, 762, 0, 10000)
    first = staff_client.post(refund_url(order), {"amount": 2500, "reason": "part"}, format="json")
    assert first.status_code == 201, first.content
    note = Invoice.objects.get(kind="credit_note", refund__gateway_refund_id=first.json()["data"]["refund"]["refund_id"])
    # ₹25 back: tax 15.25 × 25% = 3.8125 → 3.81 (1.91 + 1.90); taxable 21.19
    assert amounts(note) == (2119, 191, 190, 0, 2500)
    assert note.original == invoice and note.number.startswith("CN/") and note.number.endswith("/00001")
    assert note.buyer == invoice.buyer and note.place_of_supply == invoice.place_of_supply
    rest = staff_client.post(refund_url(order), {"reason": "rest"}, format="json")
    assert rest.status_code == 201
    notes = list(Invoice.objects.filter(kind="credit_note").order_by("sequence"))
    assert [n.sequence for n in notes] == [1, 2]
    assert amounts(notes[1]) == (6356, 572, 572, 0, 7500)
    for index in range(5):
        assert sum(amounts(n)[index] for n in notes) == amounts(invoice)[index]
    assert sum(n.lines[0]["taxable_paise"] for n in notes) == invoice.lines[0]["taxable_paise"]


def test_a_full_refund_of_an_inter_state_invoice_credits_all_igst(user, catalog):
    with_billing_profile(user, state="Maharashtra", gstin=MAHARASHTRA_BUYER_GSTIN)
    order = paid_order(user, plan=telephony_plan(), amount_paise=123546)
    invoice = invoice_issue(order=order)
    refund = Refund.objects.create(order=order, gateway_refund_id="rfnd_full", amount_paise=123546,
                                   status="processed")
    note = credit_note_issue(refund=refund)
    assert amounts(note) == amounts(invoice) == (104700, 0, 0, 18846, 123546)
    assert credit_note_issue(refund=refund) == note  # once per refund
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.create(**{f.attname: getattr(note, f.attname) for f in Invoice._meta.concrete_fields
                                  if f.attname not in ("id", "number", "sequence")}, number="CN/X", sequence=99)


def test_a_refund_made_at_the_gateway_gets_its_credit_note(user, fake_razorpay, package):
    from payments.gateways import GatewayRefund
    from payments.services import refund_sync_from_gateway

    order = paid_package_order(fake_razorpay, user, package)
    result = refund_sync_from_gateway(remote=GatewayRefund(id="rfnd_dash", payment_id=order.gateway_payment_id,
                                                           amount_paise=10000, status="processed"),
                                      event_status="processed")
    assert result == "refund recorded"
    note = Invoice.objects.get(kind="credit_note")
    assert note.refund.gateway_refund_id == "rfnd_dash" and amounts(note) == amounts(the_invoice(order))


def test_refund_of_an_order_paid_before_invoicing_issues_its_invoice_first(user, catalog):
    order = paid_order(user, plan=telephony_plan(), amount_paise=41182)
    refund = Refund.objects.create(order=order, gateway_refund_id="rfnd_old", amount_paise=1000, status="processed")
    note = credit_note_issue(refund=refund)
    assert note.original == the_invoice(order) and note.total_paise == 1000


# --- append-only, unique, numbering ----------------------------------------------------------------

def test_invoices_are_append_only_in_python(user, catalog):
    invoice = invoice_issue(order=paid_order(user, plan=telephony_plan(), amount_paise=41182))
    invoice.total_paise = 1
    with pytest.raises(InvoiceIsAppendOnly):
        invoice.save()
    for attempt in (lambda: Invoice.objects.filter(pk=invoice.pk).update(total_paise=1),
                    lambda: Invoice.objects.filter(pk=invoice.pk).delete(), invoice.delete):
        with pytest.raises(InvoiceIsAppendOnly):
            attempt()
    assert Invoice.objects.get().total_paise == 41182


@pytest.mark.postgres_only  # the trigger exists on PostgreSQL only
def test_invoices_are_append_only_in_postgresql(user, catalog):
    invoice_issue(order=paid_order(user, plan=telephony_plan(), amount_paise=41182))
    for sql in ("UPDATE payments_invoice SET total_paise = 1", "DELETE FROM payments_invoice"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert Invoice.objects.get().total_paise == 41182


def test_one_invoice_per_order_is_a_database_constraint(user, catalog):
    order = paid_order(user, plan=telephony_plan(), amount_paise=41182)
    invoice = invoice_issue(order=order)
    assert invoice_issue(order=order) == invoice
    copy = {f.attname: getattr(invoice, f.attname) for f in Invoice._meta.concrete_fields
            if f.attname not in ("id", "number", "sequence")}
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.create(**copy, number="INV/XX/1", sequence=999)


def test_an_unpaid_order_has_no_invoice(user, catalog):
    from config.errors import Conflict

    order = paid_order(user, plan=telephony_plan(), amount_paise=41182)
    PaymentOrder.objects.filter(pk=order.pk).update(status="created", gateway_payment_id=None, fulfilled_at=None)
    order.refresh_from_db()
    with pytest.raises(Conflict):
        invoice_issue(order=order)


def test_financial_year_boundary_in_india(user, catalog):
    plan = telephony_plan()
    march = invoice_issue(order=paid_order(user, plan=plan, amount_paise=41182),
                          issued_at=datetime(2027, 3, 31, 23, 59, tzinfo=IST))
    april = invoice_issue(order=paid_order(user, plan=plan, amount_paise=41182),
                          issued_at=datetime(2027, 4, 1, 0, 0, tzinfo=IST))
    late_march = invoice_issue(order=paid_order(user, plan=plan, amount_paise=41182),
                               issued_at=datetime(2027, 3, 31, 23, 59, 59, tzinfo=IST))
    assert (march.number, april.number, late_march.number) == ("INV/26-27/00001", "INV/27-28/00001",
                                                               "INV/26-27/00002")
    assert (march.financial_year, april.financial_year) == (2026, 2027)
    assert set(InvoiceCounter.objects.values_list("financial_year", "last_sequence")) == {(2026, 2), (2027, 1)}


def test_a_rollback_gives_the_number_back(user, catalog):
    plan = telephony_plan()
    with pytest.raises(RuntimeError), transaction.atomic():
        invoice_issue(order=paid_order(user, plan=plan, amount_paise=41182))
        raise RuntimeError("fulfilment failed after the invoice")
    invoice = invoice_issue(order=paid_order(user, plan=plan, amount_paise=41182))
    assert invoice.sequence == 1


def test_prefixes_come_from_settings(settings, user, catalog):
    settings.INVOICE_PREFIX = "KS-"
    invoice = invoice_issue(order=paid_order(user, plan=telephony_plan(), amount_paise=41182),
                            issued_at=datetime(2026, 7, 1, tzinfo=IST))
    assert invoice.number == "KS-26-27/00001" and len(invoice.number) <= 16


# --- backfill -------------------------------------------------------------------------------------

def test_issue_missing_invoices_backfills_in_payment_order_and_is_idempotent(user, catalog):
    plan = telephony_plan()
    late = paid_order(user, plan=plan, amount_paise=41182, paid_at=datetime(2026, 5, 2, tzinfo=IST))
    early = paid_order(user, plan=plan, amount_paise=123546, paid_at=datetime(2026, 5, 1, tzinfo=IST))
    Refund.objects.create(order=late, gateway_refund_id="rfnd_back", amount_paise=41182, status="processed")
    Refund.objects.create(order=late, gateway_refund_id="rfnd_failed", amount_paise=100, status="failed")
    dry = _command("issue_missing_invoices", "--dry-run")
    assert "Would issue 2 invoice(s) and 1 credit note(s)" in dry and not Invoice.objects.exists()
    out = _command("issue_missing_invoices", "--verbose-invoices")
    assert "Issued 2 invoice(s) and 1 credit note(s)" in out
    assert the_invoice(early).sequence == 1 and the_invoice(late).sequence == 2
    assert Invoice.objects.get(kind="credit_note").refund.gateway_refund_id == "rfnd_back"
    assert "Issued 0 invoice(s) and 0 credit note(s)" in _command("issue_missing_invoices")
    assert Invoice.objects.count() == 3


def _command(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


# --- settings checks -----------------------------------------------------------------------------

def test_checks_refuse_a_bad_gstin_or_prefix_and_warn_without_gstin(settings):
    assert invoice_settings_check(None) == []
    settings.SELLER_GSTIN = "29AAGCB7383J1Z3"
    settings.INVOICE_PREFIX = "INVOICE/"
    settings.CREDIT_NOTE_PREFIX = "INVOICE/"
    assert [problem.id for problem in invoice_settings_check(None)] == [
        "payments.E010", "payments.E011", "payments.E011", "payments.E012"]
    assert invoice_seller_deploy_check(None) == []
    settings.SELLER_GSTIN = ""
    settings.SELLER_STATE = "Atlantis"
    settings.SELLER_ADDRESS = ""
    assert [p.id for p in invoice_settings_check(None)] == ["payments.E011", "payments.E011", "payments.E012",
                                                            "payments.W011"]
    assert [p.id for p in invoice_seller_deploy_check(None)] == ["payments.W010", "payments.W012"]
    settings.SELLER_GSTIN, settings.SELLER_ADDRESS = settings.DEMO_SELLER["SELLER_GSTIN"], "1 MG Road"
    assert [p.id for p in invoice_seller_deploy_check(None)] == ["payments.W013"]


def _import_settings(*, show="SELLER_GSTIN", **env):
    root = Path(__file__).resolve().parents[2]
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("SELLER_")}
    return subprocess.run(
        [sys.executable, "-c", f"import django; from django.conf import settings; print(settings.{show})"],
        cwd=root, env={**inherited, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True, text=True,
    )


def test_make_run_invoices_name_a_demo_seller_but_production_never_does():
    """DEBUG on and no SELLER_*: an obviously made-up seller with a valid Karnataka GSTIN, so dev
    invoices have a place of supply. DEBUG off: nothing made up (check --deploy warns instead)."""
    show = "SELLER_NAME, settings.SELLER_ADDRESS, settings.SELLER_GSTIN, sep='|'"
    dev = _import_settings(show=show, DEBUG="true")
    assert dev.returncode == 0, dev.stderr
    name, address, gstin = dev.stdout.strip().split("|")
    assert name == "Kosh Demo" and "Bengaluru" in address and gstin == "29DEMOC0000D1ZA"
    assert gstin_is_valid(gstin) and state_name(gstin[:2]) == "Karnataka"
    production = _import_settings(show=show, DEBUG="false", SECRET_KEY="k" * 50, JWT_SECRET="j" * 50)
    assert production.returncode == 0, production.stderr
    assert production.stdout.strip() == "Kosh||"
    # Any SELLER_* given in development: the environment is used as it is, nothing demo mixed in.
    configured = _import_settings(show=show, DEBUG="true", SELLER_NAME="Acme Telecom")
    assert configured.stdout.strip() == "Acme Telecom||"


def test_an_invalid_seller_gstin_stops_start_up():
    bad = _import_settings(SELLER_GSTIN="29AAGCB7383J1Z3")
    assert bad.returncode != 0 and "SELLER_GSTIN 29AAGCB7383J1Z3 is not a valid GSTIN" in bad.stderr
    good = _import_settings(SELLER_GSTIN=" 29aagcb7383j1z4 ")
    assert good.returncode == 0 and good.stdout.strip() == KARNATAKA_SELLER_GSTIN
