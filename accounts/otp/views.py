"""Phone sign-in endpoints (DESIGN §4.9, success envelope). Thin: parse → service → serialize."""

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.throttling import BaseThrottle, ScopedRateThrottle

from accounts import serializers as account_serializers
from accounts.otp import serializers as s
from accounts.otp import services
from config import envelopes
from config.api import SuccessAPIView, envelope_serializer
from config.envelopes import success_response
from config.permissions import IsUser
from config.schema import error_responses

TAGS = ["auth"]
START_MESSAGE = "If this number can receive messages, a code is on its way."


def client_address(request) -> str:
    """The address DRF's throttles count by (they honour REST_FRAMEWORK's NUM_PROXIES)."""
    return BaseThrottle().get_ident(request) or "unknown"


class PhoneStartView(SuccessAPIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=TAGS, request=s.PhoneStartSerializer,
        description="Send a 6-digit code to the number (valid 5 minutes). The answer is the same "
                    "whether or not the number belongs to anyone. Limits: OTP_START_RATE per client "
                    "address, 3 codes per number per 15 minutes (429 with Retry-After).",
        responses={200: envelope_serializer("PhoneStartEnvelope", s.PhoneStartResultSerializer,
                                            envelope=envelopes.SUCCESS),
                   **error_responses(envelopes.SUCCESS, 400, 403, 429, 502, 503)},
    )
    def post(self, request):
        data = s.PhoneStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.phone_code_start(phone=data.validated_data["phone_number"],
                                           tenant_slug=data.validated_data.get("tenant"),
                                           address=client_address(request))
        return success_response(result, message=START_MESSAGE)


class PhoneVerifyView(SuccessAPIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(
        tags=TAGS, request=s.PhoneVerifySerializer,
        description="Sign in with the code: the tenant's user with this number (created with the "
                    "tenant's free signup credits if new, as the bot would) and a token pair. At most "
                    "5 tries per code.",
        responses={200: envelope_serializer("PhoneVerifyEnvelope", account_serializers.AuthResultSerializer,
                                            envelope=envelopes.SUCCESS),
                   **error_responses(envelopes.SUCCESS, 400, 403, 429)},
    )
    def post(self, request):
        data = s.PhoneVerifySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user, tokens = services.phone_sign_in(phone=data.validated_data["phone_number"],
                                              tenant_slug=data.validated_data.get("tenant"),
                                              code=data.validated_data["code"])
        return success_response({"user": account_serializers.UserSerializer(user).data, **tokens})


class PhoneAttachView(SuccessAPIView):
    permission_classes = [IsUser]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(
        tags=TAGS, request=s.PhoneVerifySerializer,
        description="Attach a number proven by a code to the signed-in account. If the bot already "
                    "has a user with that number in the tenant, it is merged into this account in one "
                    "transaction: credits (a paired ledger transfer), orders, subscriptions and history "
                    "move here. 409 when both accounts have a live subscription in one product (cancel "
                    "one first) or the number belongs to another email account.",
        responses={200: envelope_serializer("PhoneAttachEnvelope", s.PhoneAttachResultSerializer,
                                            envelope=envelopes.SUCCESS),
                   **error_responses(envelopes.SUCCESS, 400, 401, 403, 409, 429)},
    )
    def post(self, request):
        data = s.PhoneVerifySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user, summary = services.phone_attach(user=request.user, phone=data.validated_data["phone_number"],
                                              tenant_slug=data.validated_data.get("tenant"),
                                              code=data.validated_data["code"],
                                              address=client_address(request))
        return success_response({"user": account_serializers.UserSerializer(user).data, **summary})
