"""What the credit endpoints share: OpenAPI parameters, the ledger key derived from the HTTP
Idempotency-Key, who is calling, and seed 004's wording of a short balance."""

import hashlib
from contextlib import contextmanager

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from config import envelopes
from config.api import envelope_serializer
from config.idempotency import HEADER as IDEMPOTENCY_HEADER
from config.idempotency import HEADER_META_KEY as IDEMPOTENCY_META_KEY
from config.idempotency import caller_identity
from config.permissions import is_api_key_request
from config.policy import principal_of
from credits import messages
from credits import serializers as s
from credits.models import CreditTransaction
from credits.services import InsufficientCredits

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
    description="Same key + same body replays the first answer; another body → 409.",
)
LEDGER_KEY_MAX_LENGTH = CreditTransaction._meta.get_field("idempotency_key").max_length

PHONE_PARAMETER = OpenApiParameter("phone_number", OpenApiTypes.STR, OpenApiParameter.PATH,
                                   description="Any common format; normalized to E.164.")

# Seed 004's answers, shared by the staff and tenant endpoints.
WalletEnvelope = envelope_serializer("CreditWalletEnvelope", s.WalletSerializer,
                                     envelope=envelopes.SUCCESS)
MovementEnvelope = envelope_serializer("CreditMovementEnvelope", s.WalletMovementSerializer,
                                       envelope=envelopes.SUCCESS)


def caller_principal(request):
    """Who the selectors' visibility rules see (config.policy's Principal)."""
    return principal_of(request)


def ledger_key(request, scope: str) -> str | None:
    """The HTTP Idempotency-Key also keys the ledger row, so the effect stays single even after the
    stored HTTP answer has expired.

    Ledger keys are unique per wallet, and several callers share a wallet (a tenant's API keys
    act on the same users and tenant wallet; staff share the master wallet), so the key carries
    the caller as `config.idempotency.caller_identity` names them (DESIGN §6: keys are scoped per
    caller): `bot-deduct:key:7:<key>`. It is never cut: a composed key too long for the column
    becomes `sha256:<scope>:<caller>:<digest of the whole composed key>`. No plain key starts with
    `sha256:` (scopes are fixed words), so the two forms never meet and distinct keys stay distinct.
    """
    key = request.META.get(IDEMPOTENCY_META_KEY)
    key = key.strip() if key else ""
    if not key:
        return None
    caller = caller_identity(request)
    composed = f"{scope}:{caller}:{key}"
    if len(composed) <= LEDGER_KEY_MAX_LENGTH:
        return composed
    return f"sha256:{scope}:{caller}:{hashlib.sha256(composed.encode()).hexdigest()}"


def key_metadata(request, extra: dict | None = None) -> dict:
    metadata = {"api_key": request.auth.prefix} if is_api_key_request(request) else {}
    metadata.update(extra or {})
    return metadata


@contextmanager
def short_balance_worded(holder: str):
    """Seed 004's endpoints name the wallet that is short, instead of seed 003's sentence:
    "The master wallet holds 3 credits; 5 requested." """
    try:
        yield
    except InsufficientCredits as exc:
        raise InsufficientCredits(
            balance=exc.balance, requested=exc.requested,
            message=f"{holder} {messages.short_balance_phrase(exc.balance, exc.requested)}",
        ) from exc
