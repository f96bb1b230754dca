"""GET /api/invoices, /api/invoices/:id and /api/invoices/:id/pdf (DESIGN §4.7)."""

import io
from datetime import datetime

import pytest
from pypdf import PdfReader

from payments.invoices.services import credit_note_issue, invoice_issue
from payments.models import Refund
from payments.tests.invoicing import (
    IST,
    KARNATAKA_SELLER_GSTIN,
    MAHARASHTRA_BUYER_GSTIN,
    paid_order,
    telephony_plan,
    with_billing_profile,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("invoice_seller")]


@pytest.fixture
def seed_002_invoice(user, catalog):
    with_billing_profile(user, company="Umbrella Logistics LLP", address="Unit 7, Andheri Kurla Road",
                         city="Mumbai", postal_code="400059", state="Maharashtra", gstin=MAHARASHTRA_BUYER_GSTIN)
    order = paid_order(user, plan=telephony_plan(), amount_paise=123546, billing_cycle="quarterly",
                       lines=[{"description": "Starter Plan (quarterly)", "quantity": 1, "amountPaise": 104700}])
    return invoice_issue(order=order, issued_at=datetime(2026, 7, 14, 15, 30, tzinfo=IST))


def test_the_invoice_json(auth_client, seed_002_invoice):
    response = auth_client.get(f"/api/invoices/{seed_002_invoice.pk}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["success"] is True
    assert body["data"] == {
        "id": seed_002_invoice.pk, "kind": "invoice", "number": "INV/26-27/00001",
        "issuedAt": "2026-07-14T10:00:00Z",
        "seller": {"name": "Kosh Telecom Private Limited", "address": "12 MG Road, Bengaluru 560001",
                   "state": "Karnataka", "stateCode": "29", "gstin": KARNATAKA_SELLER_GSTIN},
        "buyer": {"name": "Umbrella Logistics LLP",
                  "address": "Unit 7, Andheri Kurla Road, Mumbai 400059, Maharashtra, India",
                  "state": "Maharashtra", "stateCode": "27", "gstin": MAHARASHTRA_BUYER_GSTIN},
        "placeOfSupply": "27-Maharashtra",
        "lines": [{"description": "Starter Plan (quarterly)", "sac": "998419", "quantity": 1,
                   "taxableValue": 1047}],
        "taxableValue": 1047, "gstRate": 18, "cgst": 0, "sgst": 0, "igst": 188.46, "total": 1235.46,
        "currency": "INR", "orderId": seed_002_invoice.order.gateway_order_id, "originalInvoiceNumber": None,
    }


def test_list_is_mine_paginated_and_filtered(auth_client, user, seed_002_invoice):
    from accounts.tests.factories import UserFactory

    other = UserFactory()
    invoice_issue(order=paid_order(other, plan=telephony_plan(), amount_paise=41182))
    refund = Refund.objects.create(order=seed_002_invoice.order, gateway_refund_id="rfnd_api", amount_paise=23546,
                                   status="processed")
    note = credit_note_issue(refund=refund, issued_at=datetime(2026, 8, 2, 9, 0, tzinfo=IST))
    page = auth_client.get("/api/invoices").json()["data"]
    assert page["count"] == 2 and page["page"] == 1 and page["total_pages"] == 1 and page["page_size"] == 20
    assert [item["number"] for item in page["results"]] == [note.number, seed_002_invoice.number]
    assert page["results"][0]["originalInvoiceNumber"] == "INV/26-27/00001"
    assert page["results"][0]["kind"] == "credit_note" and page["results"][0]["total"] == 235.46

    def numbers(query):
        response = auth_client.get(f"/api/invoices?{query}")
        assert response.status_code == 200, response.content
        return [item["number"] for item in response.json()["data"]["results"]]

    assert numbers("kind=invoice") == [seed_002_invoice.number]
    assert numbers("kind=credit_note") == [note.number]
    assert numbers("from=2026-08-01") == [note.number]
    assert numbers("to=2026-07-14") == [seed_002_invoice.number]   # the whole day, in India
    assert numbers("from=2026-07-15&to=2026-08-01") == []
    assert numbers(f"user={other.pk}") == []                        # only ever mine
    assert numbers("page_size=1&page=2") == [seed_002_invoice.number]


@pytest.mark.parametrize("query", ["kind=bill", "from=2026-13-01", "to=yesterday", "from=2026-W01-1",
                                   "user=abc", "user=-1", "page=0", "page_size=1000"])
def test_bad_filters_are_400(auth_client, query):
    response = auth_client.get(f"/api/invoices?{query}")
    assert response.status_code == 400 and response.json()["success"] is False


def test_staff_see_everyones_and_filter_by_user(staff_client, user, seed_002_invoice):
    from accounts.tests.factories import UserFactory

    other = UserFactory()
    theirs = invoice_issue(order=paid_order(other, plan=telephony_plan(), amount_paise=41182))
    page = staff_client.get("/api/invoices").json()["data"]
    assert page["count"] == 2
    only = staff_client.get(f"/api/invoices?user={other.pk}").json()["data"]["results"]
    assert [item["id"] for item in only] == [theirs.pk]
    assert staff_client.get(f"/api/invoices/{seed_002_invoice.pk}").status_code == 200
    assert staff_client.get(f"/api/invoices/{seed_002_invoice.pk}/pdf").status_code == 200


def test_tenant_staff_see_only_their_tenants_invoices(client_for, seed_002_invoice):
    """The rule of subscriptions (`staff_scope`): staff of a tenant act on that tenant's users only."""
    from accounts.tests.factories import UserFactory
    from tenants.tests.factories import TenantFactory

    tenant = TenantFactory()
    customer = UserFactory(tenant=tenant)
    ours = invoice_issue(order=paid_order(customer, plan=telephony_plan(), amount_paise=41182))
    outsider = invoice_issue(order=paid_order(UserFactory(tenant=TenantFactory()), plan=telephony_plan(),
                                              amount_paise=41182))
    tenant_staff = client_for(UserFactory(is_staff=True, tenant=tenant))
    page = tenant_staff.get("/api/invoices").json()["data"]
    assert [item["id"] for item in page["results"]] == [ours.pk]
    assert tenant_staff.get(f"/api/invoices?user={customer.pk}").json()["data"]["count"] == 1
    for invoice in (seed_002_invoice, outsider):  # no tenant; another tenant
        assert tenant_staff.get(f"/api/invoices/{invoice.pk}").status_code == 404
        assert tenant_staff.get(f"/api/invoices/{invoice.pk}/pdf").status_code == 404
    assert tenant_staff.get(f"/api/invoices/{ours.pk}/pdf").status_code == 200
    # Their tenant's customer still sees only their own.
    assert client_for(customer).get("/api/invoices").json()["data"]["count"] == 1
    assert client_for(customer).get(f"/api/invoices/{outsider.pk}").status_code == 404


def test_someone_elses_invoice_is_not_found(client_for, seed_002_invoice):
    from accounts.tests.factories import UserFactory

    stranger = client_for(UserFactory())
    for path in (f"/api/invoices/{seed_002_invoice.pk}", f"/api/invoices/{seed_002_invoice.pk}/pdf"):
        response = stranger.get(path)
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert stranger.get("/api/invoices").json()["data"]["count"] == 0


@pytest.mark.parametrize("invoice_id", ["0", "abc", "99999999", "9" * 30, "-1", "1.0"])
def test_bad_or_unknown_ids_are_404(auth_client, invoice_id):
    assert auth_client.get(f"/api/invoices/{invoice_id}").status_code == 404
    assert auth_client.get(f"/api/invoices/{invoice_id}/pdf").status_code == 404


def test_callers_that_are_not_people(api_client, bot_client, seed_002_invoice):
    assert api_client.get("/api/invoices").status_code == 401
    assert api_client.get(f"/api/invoices/{seed_002_invoice.pk}/pdf").status_code == 401
    assert bot_client.get("/api/invoices").status_code == 401  # JWT only: an API key is not a person


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_pdf_of_the_seed_002_example(auth_client, seed_002_invoice):
    response = auth_client.get(f"/api/invoices/{seed_002_invoice.pk}/pdf", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="INV-26-27-00001.pdf"'
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width) * 25.4 / 72), round(float(box.height) * 25.4 / 72)) == (210, 297)  # A4
    text = _pdf_text(response.content)
    for expected in ("TAX INVOICE", "INV/26-27/00001", "14 Jul 2026", KARNATAKA_SELLER_GSTIN,
                     MAHARASHTRA_BUYER_GSTIN, "27-Maharashtra", "998419", "1,047.00", "IGST @ 18%", "188.46",
                     "₹ 1,235.46", "Rupees One Thousand Two Hundred Thirty Five and Forty Six Paise Only",
                     "Tax is not payable on reverse charge", "Authorised signatory", "Umbrella Logistics LLP"):
        assert expected in text, expected
    assert "CGST" not in text


def test_the_pdf_of_an_intra_state_credit_note(auth_client, user, catalog):
    with_billing_profile(user, first_name="Ravi", last_name="Kumar", state="Karnataka")
    order = paid_order(user, plan=telephony_plan(), amount_paise=41182)
    invoice = invoice_issue(order=order)
    refund = Refund.objects.create(order=order, gateway_refund_id="rfnd_pdf", amount_paise=41182, status="processed")
    note = credit_note_issue(refund=refund)
    text = _pdf_text(auth_client.get(f"/api/invoices/{note.pk}/pdf").content)
    for expected in ("CREDIT NOTE", note.number, invoice.number, "CGST @ 9%", "SGST @ 9%", "31.41", "Unregistered",
                     "Rupees Four Hundred Eleven and Eighty Two Paise Only", "Ravi Kumar"):
        assert expected in text, expected
