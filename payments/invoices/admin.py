"""Invoices in the admin: read-only (they are legal documents), each with its PDF."""

from django.contrib import admin
from django.http import Http404, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html

from config.money import rupees
from payments.invoices.models import Invoice
from payments.invoices.pdf import invoice_pdf
from payments.invoices.views import pdf_filename


class _InvoiceColumns:
    """What the invoice list and an order's invoice inline share: no adding or changing, the
    amounts in rupees and a link to the PDF."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="taxable ₹")
    def taxable(self, obj):
        return rupees(obj.taxable_paise)

    @admin.display(description="tax ₹")
    def tax(self, obj):
        return rupees(obj.tax_paise)

    @admin.display(description="total ₹")
    def total(self, obj):
        return rupees(obj.total_paise)

    @admin.display(description="PDF")
    def pdf(self, obj):
        if not obj.pk:
            return "—"
        return format_html('<a href="{}">PDF</a>', reverse("admin:payments_invoice_pdf", args=[obj.pk]))


@admin.register(Invoice)
class InvoiceAdmin(_InvoiceColumns, admin.ModelAdmin):
    list_display = ["number", "kind", "issued_at", "buyer_name", "buyer_gstin", "place_of_supply",
                    "taxable", "tax", "total", "order", "pdf"]
    list_filter = ["kind", "financial_year", "gst_rate"]
    search_fields = ["number", "order__gateway_order_id", "user__email", "user__phone", "buyer__gstin",
                     "buyer__name"]
    list_select_related = ["order"]
    date_hierarchy = "issued_at"
    readonly_fields = ["pdf"]
    exclude = ["user", "tenant"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Invoice._meta.fields if field.name not in self.exclude] + ["pdf"]

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="buyer")
    def buyer_name(self, obj):
        return obj.buyer.get("name", "")

    @admin.display(description="buyer GSTIN")
    def buyer_gstin(self, obj):
        return obj.buyer.get("gstin") or "—"

    def get_urls(self):
        return [path("<int:invoice_id>/pdf/", self.admin_site.admin_view(self.pdf_view),
                     name="payments_invoice_pdf"), *super().get_urls()]

    def pdf_view(self, request, invoice_id: int):
        invoice = Invoice.objects.select_related("order", "original").filter(pk=invoice_id).first()
        if invoice is None or not self.has_view_permission(request, invoice):
            raise Http404
        response = HttpResponse(invoice_pdf(invoice), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{pdf_filename(invoice)}"'
        return response


class InvoiceInline(_InvoiceColumns, admin.TabularInline):
    """An order's invoice and credit notes, on the order's page."""

    model = Invoice
    fk_name = "order"
    extra = 0
    can_delete = False
    fields = ["number_link", "kind", "issued_at", "taxable", "tax", "total", "pdf"]
    readonly_fields = fields
    ordering = ["issued_at", "id"]

    @admin.display(description="number")
    def number_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:payments_invoice_change", args=[obj.pk]),
                           obj.number)
