"""Refresh tokens whose outstanding-token rows hold a digest, never the token itself.

simplejwt's blacklist app writes every refresh token it issues, rotates or blacklists in full
into `token_blacklist_outstandingtoken.token`; anyone who can read that table could use them.
Revocation only needs the `jti` (the blacklist is keyed by it), so this subclass writes
`sha256:<hex digest>` in that column instead: enough to recognise a token one holds, useless to
someone who reads the table. The three methods below are simplejwt 5.5's, with that one change.
"""

import hashlib

from django.contrib.auth import get_user_model
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import BlacklistMixin
from rest_framework_simplejwt.tokens import RefreshToken as SimpleJWTRefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

DIGEST_PREFIX = "sha256:"


def token_digest(raw_token: str) -> str:
    return DIGEST_PREFIX + hashlib.sha256(raw_token.encode()).hexdigest()


class RefreshToken(SimpleJWTRefreshToken):
    def _outstanding_row(self, user=None) -> OutstandingToken:
        if user is None:
            user_id = self.payload.get(api_settings.USER_ID_CLAIM)
            user = get_user_model().objects.filter(**{api_settings.USER_ID_FIELD: user_id}).first()
        row, _ = OutstandingToken.objects.get_or_create(
            jti=self.payload[api_settings.JTI_CLAIM],
            defaults={"user": user, "created_at": self.current_time, "token": token_digest(str(self)),
                      "expires_at": datetime_from_epoch(self.payload["exp"])},
        )
        return row

    @classmethod
    def for_user(cls, user) -> "RefreshToken":
        # Skip BlacklistMixin.for_user (it stores the token in clear); Token.for_user builds it.
        token = super(BlacklistMixin, cls).for_user(user)
        token._outstanding_row(user)
        return token

    def outstand(self):
        return self._outstanding_row(), True

    def blacklist(self):
        return BlacklistedToken.objects.get_or_create(token=self._outstanding_row())


class RefreshSerializer(TokenRefreshSerializer):
    """Rotation (blacklist the old refresh, record the new one) with our RefreshToken."""

    token_class = RefreshToken
