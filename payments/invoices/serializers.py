"""The invoice JSON of DESIGN §4.7 (amounts in rupees, two decimals)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.money import rupees
from config.pagination import page_serializer


@extend_schema_field(OpenApiTypes.DECIMAL)
class RupeesField(serializers.Field):
    """Integer paise in the model, rupees (Decimal, 0.01) in the JSON."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        return rupees(value)


class PartyOut(serializers.Serializer):
    name = serializers.CharField()
    address = serializers.CharField()
    state = serializers.CharField()
    stateCode = serializers.CharField()
    gstin = serializers.CharField(help_text="Empty for an unregistered buyer")


class InvoiceLineOut(serializers.Serializer):
    description = serializers.CharField()
    sac = serializers.CharField()
    quantity = serializers.IntegerField()
    taxableValue = RupeesField(source="taxable_paise")


class InvoiceOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text="invoice | credit_note")
    number = serializers.CharField()
    issuedAt = serializers.DateTimeField(source="issued_at")
    seller = PartyOut()
    buyer = PartyOut()
    placeOfSupply = serializers.CharField(source="place_of_supply", help_text='e.g. "27-Maharashtra"')
    lines = InvoiceLineOut(many=True)
    taxableValue = RupeesField(source="taxable_paise")
    gstRate = serializers.DecimalField(source="gst_rate", max_digits=5, decimal_places=2, coerce_to_string=False)
    cgst = RupeesField(source="cgst_paise")
    sgst = RupeesField(source="sgst_paise")
    igst = RupeesField(source="igst_paise")
    total = RupeesField(source="total_paise")
    currency = serializers.CharField()
    orderId = serializers.CharField(source="order.gateway_order_id", help_text="The gateway order id")
    originalInvoiceNumber = serializers.CharField(source="original.number", allow_null=True,
                                                  help_text="A credit note's invoice; null for an invoice")


InvoicesPageOut = page_serializer("InvoicesPage", InvoiceOut)
