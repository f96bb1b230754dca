"""Seed 002's checkout end to end — create-with-payment → sandbox pay → verify-payment — issues
exactly one correct tax invoice (DESIGN §4.1, §4.7): the order's lines as the checkout stored
them, GST split by the place of supply."""

import pytest

from payments.invoices.models import Invoice
from payments.models import PaymentOrder
from payments.tests.invoicing import (
    KARNATAKA_SELLER_GSTIN,
    MAHARASHTRA_BUYER_GSTIN,
    telephony_plan,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("invoice_seller")]

ADDONS = {"extraTollFreeNumbers": 2, "extraExtensions": 5}
MAHARASHTRA_BUYER = {"firstName": "John", "lastName": "Doe", "phone": "+919876543210", "company": "ABC Corp",
                     "address": "123 Main St", "city": "Mumbai", "state": "Maharashtra", "country": "IN",
                     "postalCode": "400001", "gstNumber": MAHARASHTRA_BUYER_GSTIN}
KARNATAKA_BUYER = {"firstName": "Ravi", "lastName": "Kumar", "phone": "+919845012345", "address": "4 Brigade Road",
                   "city": "Bengaluru", "state": "Karnataka", "country": "IN", "postalCode": "560025"}


def _buy_starter(client, customer_data, *, billing_cycle="quarterly"):
    created = client.post("/api/subscriptions/create-with-payment", {
        "planId": telephony_plan("STARTER").pk, "billingCycle": billing_cycle, "addons": ADDONS,
        "customerData": customer_data,
    }, format="json")
    assert created.status_code == 201, created.content
    data = created.json()["data"]
    checkout = client.post("/api/payments/sandbox/pay", {"order_id": data["orderId"]}, format="json").json()
    verified = client.post("/api/subscriptions/verify-payment", {**checkout, "subscriptionId": data["subscriptionId"]},
                           format="json")
    assert verified.status_code == 200, verified.content
    order = PaymentOrder.objects.get(gateway_order_id=data["orderId"])
    # A replayed verify changes nothing: still one invoice.
    again = client.post("/api/subscriptions/verify-payment", {**checkout, "subscriptionId": data["subscriptionId"]},
                        format="json")
    assert again.status_code == 200, again.content
    invoices = list(Invoice.objects.filter(order=order))
    assert len(invoices) == 1
    return order, invoices[0]


def test_quarterly_starter_to_a_maharashtra_business_is_one_igst_invoice(auth_client, sandbox):
    order, invoice = _buy_starter(auth_client, MAHARASHTRA_BUYER)
    assert (order.amount_paise, order.tax_paise) == (123546, 18846)
    assert invoice.kind == Invoice.Kind.INVOICE and invoice.number.startswith("INV/")
    assert (invoice.taxable_paise, invoice.cgst_paise, invoice.sgst_paise, invoice.igst_paise,
            invoice.total_paise) == (104700, 0, 0, 18846, 123546)
    assert invoice.place_of_supply == "27-Maharashtra" and invoice.is_intra_state is False
    # The base plan only: on a quarterly cycle the add-ons are pay-as-you-go, billed later.
    assert invoice.lines == [{"description": "Starter Plan (quarterly)", "sac": "998419", "quantity": 1,
                              "taxable_paise": 104700}]
    assert invoice.buyer["name"] == "ABC Corp" and invoice.buyer["gstin"] == MAHARASHTRA_BUYER_GSTIN
    assert invoice.buyer["address"] == "123 Main St, Mumbai 400001, Maharashtra, India"
    assert invoice.seller["gstin"] == KARNATAKA_SELLER_GSTIN and invoice.seller["stateCode"] == "29"

    body = auth_client.get(f"/api/invoices/{invoice.pk}").json()["data"]
    assert (body["taxableValue"], body["igst"], body["cgst"], body["sgst"], body["total"]) == (
        1047, 188.46, 0, 0, 1235.46)
    assert body["placeOfSupply"] == "27-Maharashtra" and body["orderId"] == order.gateway_order_id
    assert body["lines"] == [{"description": "Starter Plan (quarterly)", "sac": "998419", "quantity": 1,
                              "taxableValue": 1047}]


def test_quarterly_starter_to_a_karnataka_consumer_splits_cgst_and_sgst(auth_client, sandbox):
    _, invoice = _buy_starter(auth_client, KARNATAKA_BUYER)
    assert (invoice.taxable_paise, invoice.cgst_paise, invoice.sgst_paise, invoice.igst_paise,
            invoice.total_paise) == (104700, 9423, 9423, 0, 123546)
    assert invoice.place_of_supply == "29-Karnataka" and invoice.is_intra_state is True
    assert invoice.buyer["name"] == "Ravi Kumar" and invoice.buyer["gstin"] == ""


def test_monthly_starter_lists_the_one_time_add_ons(auth_client, sandbox):
    """On a monthly cycle the add-ons are one-time charges in the upfront subtotal, so the invoice
    lists them: 349 + 2 × 199 + 5 × 99 = 1242, GST 223.56 split in Karnataka."""
    order, invoice = _buy_starter(auth_client, KARNATAKA_BUYER, billing_cycle="monthly")
    assert order.amount_paise == 146556
    assert [(line["quantity"], line["taxable_paise"]) for line in invoice.lines] == [(1, 34900), (2, 39800),
                                                                                      (5, 49500)]
    assert invoice.lines[0]["description"] == "Starter Plan (monthly)"
    assert (invoice.taxable_paise, invoice.cgst_paise, invoice.sgst_paise, invoice.total_paise) == (
        124200, 11178, 11178, 146556)
