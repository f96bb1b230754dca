"""Input and output shapes only (no rules)."""

from rest_framework import serializers

from config.api import StrictIntegerField, StrictSerializer, TextField
from config.pagination import page_serializer
from credits.models import CreditTransaction

# One bot call deducts at most this many credits.
MAX_BOT_DEDUCT = 1000
# Staff purchases and allocations.
MAX_STAFF_CREDITS = 10**9


class BotDeductSerializer(StrictSerializer):
    phone_number = TextField(max_length=32)
    credits = StrictIntegerField(min_value=1, max_value=MAX_BOT_DEDUCT, required=False, default=1)
    # What the credits paid for (seed 003 used "image_generation"); the ledger source stays
    # `usage` and this label goes into the row's metadata.
    source = serializers.RegexField(r"^[A-Za-z0-9_.:-]{1,50}$", required=False, allow_null=True)
    reference_id = TextField(max_length=255, required=False, allow_null=True)


_BOT_DEDUCT_COMMON_KEYS = frozenset({"phone_number", "credits"})
_PHONE_MAX_LENGTH = BotDeductSerializer().fields["phone_number"].max_length


def bot_deduct_common_input(data) -> dict | None:
    """The validated data of the body nearly every bot sends, `{"phone_number": "<printable
    ASCII>"}` with perhaps a valid `credits`, checked here directly to the same result the
    serializer gives (its text stripped; credits a JSON integer in range, default 1); None for
    any other body. Building and running the serializer cost more than the rest of the view."""
    if type(data) is dict and data.keys() <= _BOT_DEDUCT_COMMON_KEYS:
        phone = data.get("phone_number")
        credits = data.get("credits", 1)
        if type(phone) is str and type(credits) is int and 1 <= credits <= MAX_BOT_DEDUCT:
            phone = phone.strip()
            if phone and len(phone) <= _PHONE_MAX_LENGTH and phone.isascii() and phone.isprintable():
                return {"phone_number": phone, "credits": credits}
    return None


def bot_deduct_input(data) -> dict:
    """BotDeductSerializer's validated data for `data`, or its ValidationError (which words the
    errors); the common body is checked directly (bot_deduct_common_input)."""
    common = bot_deduct_common_input(data)
    if common is not None:
        return common
    body = BotDeductSerializer(data=data)
    body.is_valid(raise_exception=True)
    return body.validated_data


class StaffCreditsSerializer(StrictSerializer):
    credits = StrictIntegerField(min_value=1, max_value=MAX_STAFF_CREDITS)
    reason = TextField(max_length=500, required=False)
    reference_id = TextField(max_length=255, required=False)


class PurchaseSerializer(StaffCreditsSerializer):
    vendor = TextField(max_length=100, required=False)
    amount_paise = StrictIntegerField(min_value=0, max_value=10**13, required=False)


class AllocateSerializer(StaffCreditsSerializer):
    tenant_id = StrictIntegerField(min_value=1, max_value=2**63 - 1)


class TenantDeductSerializer(StrictSerializer):
    credits = StrictIntegerField(min_value=1, max_value=MAX_STAFF_CREDITS)
    reason = TextField(max_length=500, required=False)
    reference_id = TextField(max_length=255, required=False)


# --- output ---------------------------------------------------------------------------------------

class RemainingCreditsSerializer(serializers.Serializer):
    remaining_credits = serializers.IntegerField()


class BotCreditsSerializer(RemainingCreditsSerializer):
    user_exists = serializers.BooleanField()


class UserProfileSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    phone_number = serializers.CharField(allow_null=True)
    credits = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class HistoryTransactionSerializer(serializers.ModelSerializer):
    user_id = serializers.SerializerMethodField()

    class Meta:
        model = CreditTransaction
        fields = ["id", "user_id", "action", "credits", "balance_after", "source", "reference_id",
                  "created_at"]

    def get_user_id(self, obj) -> int:
        return self.context["user_id"]


class HistorySerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    transactions = HistoryTransactionSerializer(many=True)
    total = serializers.IntegerField()


class WalletBalanceSerializer(serializers.Serializer):
    balance = serializers.IntegerField()
    updated_at = serializers.DateTimeField(allow_null=True)


class TransactionSerializer(serializers.ModelSerializer):
    class Meta:
        model = CreditTransaction
        fields = ["id", "action", "credits", "balance_after", "source", "reference_id", "reason",
                  "transfer_id", "created_at"]


TransactionPageSerializer = page_serializer("TransactionPage", TransactionSerializer)


class WalletSerializer(serializers.Serializer):
    wallet_id = serializers.IntegerField()
    kind = serializers.CharField()
    tenant_id = serializers.IntegerField(allow_null=True)
    balance = serializers.IntegerField()
    updated_at = serializers.DateTimeField()


class WalletMovementSerializer(serializers.Serializer):
    wallet = WalletSerializer()
    transaction = TransactionSerializer()


class AllocationSerializer(serializers.Serializer):
    master_wallet = WalletSerializer()
    tenant_wallet = WalletSerializer()
    debit = TransactionSerializer()
    credit = TransactionSerializer()


class TenantWalletRowSerializer(serializers.Serializer):
    tenant_id = serializers.IntegerField()
    tenant_name = serializers.CharField()
    tenant_slug = serializers.CharField()
    tenant_status = serializers.CharField()
    wallet_id = serializers.IntegerField(allow_null=True)
    balance = serializers.IntegerField()


TenantWalletPageSerializer = page_serializer("TenantWalletPage", TenantWalletRowSerializer)


def wallet_data(wallet) -> dict:
    return {"wallet_id": wallet.pk, "kind": wallet.kind, "tenant_id": wallet.tenant_id,
            "balance": wallet.balance, "updated_at": serializers.DateTimeField().to_representation(
                wallet.updated_at)}
