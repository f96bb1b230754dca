import decimal

from rest_framework import renderers
from rest_framework.utils.encoders import JSONEncoder


class MoneyJSONEncoder(JSONEncoder):
    """Decimals become JSON numbers: whole values as integers (349), others as-is (1235.46)."""

    def default(self, obj):
        if isinstance(obj, decimal.Decimal):
            if obj == obj.to_integral_value():
                return int(obj)
            # Rupee amounts are quantized to 0.01; float() of such a Decimal prints back exactly.
            return float(obj)
        return super().default(obj)


class JSONRenderer(renderers.JSONRenderer):
    encoder_class = MoneyJSONEncoder
