"""Invoices and credit notes, and the counters that number them (DESIGN §4.7).

Imported by `payments.models`, so they belong to the payments app. Amounts are integer paise.
An invoice is a legal document: once issued it never changes. Seller and buyer are stored as
they were at issue time (snapshots), never read live again; corrections are credit notes.
"""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class InvoiceIsAppendOnly(Exception):
    """Raised on any attempt to change or delete an issued invoice through the ORM."""


_UPDATE_REFUSED = "Invoices cannot be changed once issued; issue a credit note instead."
_DELETE_REFUSED = "Invoices cannot be deleted; issue a credit note instead."


class InvoiceQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise InvoiceIsAppendOnly(_UPDATE_REFUSED)

    def delete(self):
        raise InvoiceIsAppendOnly(_DELETE_REFUSED)

    def bulk_update(self, objs, fields, batch_size=None):
        raise InvoiceIsAppendOnly(_UPDATE_REFUSED)

    def update_or_create(self, *args, **kwargs):
        raise InvoiceIsAppendOnly(_UPDATE_REFUSED)

    def _update(self, values):
        raise InvoiceIsAppendOnly(_UPDATE_REFUSED)

    def _raw_delete(self, using):
        raise InvoiceIsAppendOnly(_DELETE_REFUSED)


class Invoice(models.Model):
    """A GST tax invoice for a paid order, or a credit note for one of its refunds."""

    class Kind(models.TextChoices):
        INVOICE = "invoice", "Tax invoice"
        CREDIT_NOTE = "credit_note", "Credit note"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    # INVOICE_PREFIX/CREDIT_NOTE_PREFIX + "26-27" + "/" + sequence: at most 16 characters (Rule 46).
    number = models.CharField(max_length=16, unique=True)
    financial_year = models.PositiveSmallIntegerField(help_text="Year the financial year starts, e.g. 2026")
    sequence = models.PositiveIntegerField()
    issued_at = models.DateTimeField(default=timezone.now, db_index=True)

    order = models.ForeignKey("payments.PaymentOrder", on_delete=models.PROTECT, related_name="invoices")
    refund = models.ForeignKey("payments.Refund", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="credit_notes")
    original = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="credit_notes", help_text="The invoice a credit note corrects")
    # Whose invoice it is (the order's buyer), and their tenant, for access and filters.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="invoices")
    tenant = models.ForeignKey("tenants.Tenant", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="invoices")

    seller = models.JSONField(encoder=DjangoJSONEncoder, help_text="{name, address, state, stateCode, gstin}")
    buyer = models.JSONField(encoder=DjangoJSONEncoder,
                             help_text="{name, address, state, stateCode, gstin, email, phone}")
    place_of_supply_code = models.CharField(max_length=2, blank=True, default="")
    place_of_supply = models.CharField(max_length=60, blank=True, default="")
    gst_rate = models.DecimalField(max_digits=5, decimal_places=2, help_text="Percent, e.g. 18.00")
    # [{description, sac, quantity, taxable_paise}]
    lines = models.JSONField(encoder=DjangoJSONEncoder)
    taxable_paise = models.BigIntegerField()
    cgst_paise = models.BigIntegerField(default=0)
    sgst_paise = models.BigIntegerField(default=0)
    igst_paise = models.BigIntegerField(default=0)
    total_paise = models.BigIntegerField()
    currency = models.CharField(max_length=3, default="INR")
    created_at = models.DateTimeField(default=timezone.now)

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-issued_at"], name="invoice_user_issued"),
            models.Index(fields=["kind", "issued_at"], name="invoice_kind_issued"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["invoice", "credit_note"]), name="invoice_kind_valid"),
            # Exactly one invoice per paid order, whatever the race (verify, webhook, reconcile).
            models.UniqueConstraint(fields=["order"], condition=Q(kind="invoice"),
                                    name="invoice_one_per_order"),
            models.UniqueConstraint(fields=["refund"], condition=Q(refund__isnull=False),
                                    name="credit_note_one_per_refund"),
            models.UniqueConstraint(fields=["kind", "financial_year", "sequence"],
                                    name="invoice_sequence_unique_per_series_year"),
            models.CheckConstraint(
                condition=Q(kind="invoice", refund__isnull=True, original__isnull=True)
                | Q(kind="credit_note", refund__isnull=False, original__isnull=False),
                name="invoice_credit_note_has_refund_and_original",
            ),
            models.CheckConstraint(condition=Q(sequence__gt=0), name="invoice_sequence_positive"),
            models.CheckConstraint(
                condition=Q(taxable_paise__gte=0, cgst_paise__gte=0, sgst_paise__gte=0, igst_paise__gte=0,
                            total_paise__gt=0),
                name="invoice_amounts_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(total_paise=F("taxable_paise") + F("cgst_paise") + F("sgst_paise") + F("igst_paise")),
                name="invoice_total_adds_up",
            ),
            # Intra-state: CGST + SGST, equal but for one odd paisa; inter-state: IGST alone.
            models.CheckConstraint(
                condition=Q(igst_paise=0, cgst_paise__gte=F("sgst_paise") - 1, cgst_paise__lte=F("sgst_paise") + 1)
                | Q(cgst_paise=0, sgst_paise=0),
                name="invoice_cgst_sgst_or_igst",
            ),
        ]

    def __str__(self):
        return self.number

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise InvoiceIsAppendOnly(_UPDATE_REFUSED)
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise InvoiceIsAppendOnly(_DELETE_REFUSED)

    @property
    def tax_paise(self) -> int:
        return self.cgst_paise + self.sgst_paise + self.igst_paise

    @property
    def is_intra_state(self) -> bool:
        return self.igst_paise == 0 and self.cgst_paise + self.sgst_paise > 0


class InvoiceCounter(models.Model):
    """The last number handed out in one series (invoice or credit note) and financial year.

    Numbers come from this row locked FOR UPDATE inside the transaction that issues the
    invoice: a rollback gives the number back, so the series has no gaps (a database sequence
    would burn numbers on rollback).
    """

    series = models.CharField(max_length=20, choices=Invoice.Kind.choices)
    financial_year = models.PositiveSmallIntegerField()
    last_sequence = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["series", "financial_year"], name="invoicecounter_unique"),
        ]

    def __str__(self):
        return f"{self.series} {self.financial_year}: {self.last_sequence}"
