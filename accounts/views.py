from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.throttling import ScopedRateThrottle

from accounts import lockout, services
from accounts import serializers as s
from config import envelopes
from config.api import SuccessAPIView, envelope_serializer
from config.envelopes import success_response
from config.permissions import IsUser
from config.schema import error_responses

TAGS = ["auth"]


def _auth_result(user, tokens) -> dict:
    return {"user": s.UserSerializer(user).data, **tokens}


AuthResult = envelope_serializer("AuthResultEnvelope", s.AuthResultSerializer, envelope=envelopes.SUCCESS)
TokenPair = envelope_serializer("TokenPairEnvelope", s.TokenPairSerializer, envelope=envelopes.SUCCESS)
UserEnvelope = envelope_serializer("UserEnvelope", s.UserSerializer, envelope=envelopes.SUCCESS)


class _PublicAuthView(SuccessAPIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]


REGISTERED_MESSAGE = "Registration received. Log in with your email and password."


class RegisterView(_PublicAuthView):
    """One answer whether or not the email already has an account (no tokens: the client logs
    in next), so the endpoint cannot be used to find out who is a customer."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(tags=TAGS, request=s.RegisterSerializer,
                   responses={201: envelope_serializer("RegisterEnvelope", s.RegisteredSerializer,
                                                       envelope=envelopes.SUCCESS),
                              **error_responses(envelopes.SUCCESS, 400, 429)})
    def post(self, request):
        data = s.RegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.user_register(**data.validated_data)
        email = services.email_normalize(data.validated_data["email"])
        return success_response({"email": email}, status=201, message=REGISTERED_MESSAGE)


class LoginView(_PublicAuthView):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"
    staff_only = False

    @extend_schema(tags=TAGS, request=s.LoginSerializer,
                   responses={200: AuthResult, **error_responses(envelopes.SUCCESS, 400, 401, 403, 429)})
    def post(self, request):
        data = s.LoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        email = data.validated_data["email"]
        # The same lockout as /admin/login/: per account and per address (accounts.lockout).
        if not lockout.login_allowed(request._request, email):
            raise lockout.LoginLockedOut()
        try:
            user, tokens = services.auth_login(**data.validated_data, staff_only=self.staff_only)
        except services.InvalidCredentials:
            lockout.login_failed(request._request, email)
            raise
        return success_response(_auth_result(user, tokens))


class AdminLoginView(LoginView):
    """Seed 004: staff only."""

    staff_only = True


class RefreshView(_PublicAuthView):
    @extend_schema(tags=TAGS, request=s.RefreshSerializer,
                   responses={200: TokenPair, **error_responses(envelopes.SUCCESS, 400, 401)})
    def post(self, request):
        data = s.RefreshSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return success_response(services.auth_refresh(refresh=data.validated_data["refresh"]))


class LogoutView(_PublicAuthView):
    @extend_schema(tags=TAGS, request=s.RefreshSerializer,
                   responses={200: envelope_serializer("LogoutEnvelope", s.serializers.DictField(),
                                                       envelope=envelopes.SUCCESS),
                              **error_responses(envelopes.SUCCESS, 400, 401)})
    def post(self, request):
        data = s.RefreshSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.auth_logout(refresh=data.validated_data["refresh"])
        return success_response({}, message="Logged out.")


class VerifyView(_PublicAuthView):
    @extend_schema(tags=TAGS, request=s.VerifySerializer,
                   responses={200: envelope_serializer("VerifyEnvelope", s.VerifyResultSerializer,
                                                       envelope=envelopes.SUCCESS),
                              **error_responses(envelopes.SUCCESS, 400, 401)})
    def post(self, request):
        data = s.VerifySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.auth_verify(token=data.validated_data["token"])
        return success_response({"valid": True, **result})


class MeView(SuccessAPIView):
    permission_classes = [IsUser]

    @extend_schema(tags=TAGS, responses={200: UserEnvelope, **error_responses(envelopes.SUCCESS, 401)})
    def get(self, request):
        return success_response(s.user_representation(request.user))

    @extend_schema(tags=TAGS, request=s.ProfileUpdateSerializer,
                   responses={200: UserEnvelope, **error_responses(envelopes.SUCCESS, 400, 401)})
    def patch(self, request):
        data = s.ProfileUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_update(user=request.user, **data.validated_data)
        return success_response(s.UserSerializer(user).data)
