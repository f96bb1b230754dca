"""Invoices in the admin: read-only, with a PDF; an order shows its invoice and credit notes."""

import pytest
from django.test import Client

from payments.invoices.services import credit_note_issue, invoice_issue
from payments.models import Refund
from payments.tests.invoicing import paid_order, telephony_plan, use_seller

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(db):
    from accounts.models import User

    admin = User.objects.create_superuser(email="root@example.com", password="a-long-admin-passphrase")
    client = Client()
    client.force_login(admin)
    return client


@pytest.fixture
def invoice_and_note(settings, user, catalog):
    use_seller(settings)
    order = paid_order(user, plan=telephony_plan(), amount_paise=41182)
    invoice = invoice_issue(order=order)
    refund = Refund.objects.create(order=order, gateway_refund_id="rfnd_admin", amount_paise=1000,
                                   status="processed")
    return invoice, credit_note_issue(refund=refund)


def test_invoice_admin_is_read_only_with_a_pdf(admin_client, invoice_and_note):
    invoice, note = invoice_and_note
    listing = admin_client.get("/admin/payments/invoice/")
    assert listing.status_code == 200 and invoice.number in listing.content.decode()
    assert admin_client.get("/admin/payments/invoice/?q=INV").status_code == 200
    page = admin_client.get(f"/admin/payments/invoice/{invoice.pk}/change/")
    assert page.status_code == 200
    assert f"/admin/payments/invoice/{invoice.pk}/pdf/" in page.content.decode()
    assert 'name="_save"' not in page.content.decode()
    pdf = admin_client.get(f"/admin/payments/invoice/{invoice.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert admin_client.get("/admin/payments/invoice/999999/pdf/").status_code == 404
    assert admin_client.get("/admin/payments/invoice/add/").status_code == 403
    assert admin_client.post(f"/admin/payments/invoice/{invoice.pk}/delete/").status_code == 403


def test_the_order_page_lists_its_invoice_and_credit_notes(admin_client, invoice_and_note):
    invoice, note = invoice_and_note
    page = admin_client.get(f"/admin/payments/paymentorder/{invoice.order_id}/change/").content.decode()
    assert invoice.number in page and note.number in page
    assert f"/admin/payments/invoice/{note.pk}/pdf/" in page


def test_the_pdf_needs_the_admin(invoice_and_note):
    invoice, _ = invoice_and_note
    response = Client().get(f"/admin/payments/invoice/{invoice.pk}/pdf/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
