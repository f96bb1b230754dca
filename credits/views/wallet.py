"""The frontend's wallet (JWT, success envelope): my balance and my ledger."""

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema

from config import envelopes
from config.api import SuccessAPIView, envelope_serializer
from config.envelopes import success_response
from config.errors import InvalidInput
from config.pagination import PAGE_PARAMETERS, page_params
from config.permissions import IsUser
from config.schema import error_responses
from credits import selectors
from credits import serializers as s
from credits.models import CreditTransaction

WALLET_TAGS = ["wallet"]
SUCCESS = envelopes.SUCCESS


class TransactionFilter(django_filters.FilterSet):
    """`?action=debit&source=usage&created_after=2024-01-01&created_before=2024-01-31` (dates inclusive)."""

    action = django_filters.ChoiceFilter(choices=CreditTransaction.Action.choices)
    source = django_filters.ChoiceFilter(choices=CreditTransaction.Source.choices)
    created = django_filters.DateFromToRangeFilter(field_name="created_at")

    class Meta:
        model = CreditTransaction
        fields: list = []


def parse_transaction_filters(params) -> dict:
    """The filters of `?action=&source=&created_after=&created_before=` as the selector's keyword
    arguments; a bad value → 400 naming the parameter."""
    filterset = TransactionFilter(params, queryset=CreditTransaction.objects.none())
    if not filterset.is_valid():
        fields = {name: [str(e) for e in errors] for name, errors in filterset.errors.items()}
        name, errors = next(iter(fields.items()))
        raise InvalidInput(f"{name}: {errors[0]}", code="invalid_query", fields=fields)
    data = filterset.form.cleaned_data
    created = data.get("created")  # a slice of aware datetimes: day start to day end, inclusive
    return {"action": data.get("action") or None, "source": data.get("source") or None,
            "created_from": created.start if created else None,
            "created_to": created.stop if created else None}


class WalletView(SuccessAPIView):
    permission_classes = [IsUser]

    @extend_schema(tags=WALLET_TAGS,
                   responses={200: envelope_serializer("WalletBalanceEnvelope", s.WalletBalanceSerializer,
                                                       envelope=SUCCESS),
                              **error_responses(SUCCESS, 401, 403)})
    def get(self, request):
        balance, updated_at = selectors.wallet_balance(user=request.user)
        return success_response(s.WalletBalanceSerializer({"balance": balance,
                                                           "updated_at": updated_at}).data)


class WalletTransactionsView(SuccessAPIView):
    permission_classes = [IsUser]

    @extend_schema(
        tags=WALLET_TAGS,
        parameters=[
            OpenApiParameter("action", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False,
                             enum=CreditTransaction.Action.values),
            OpenApiParameter("source", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False,
                             enum=CreditTransaction.Source.values),
            OpenApiParameter("created_after", OpenApiTypes.DATE, OpenApiParameter.QUERY, required=False,
                             description="From this day (inclusive, UTC)."),
            OpenApiParameter("created_before", OpenApiTypes.DATE, OpenApiParameter.QUERY, required=False,
                             description="To this day (inclusive, UTC)."),
            *PAGE_PARAMETERS,
        ],
        responses={200: envelope_serializer("WalletTransactionsEnvelope", s.TransactionPageSerializer,
                                            envelope=SUCCESS),
                   **error_responses(SUCCESS, 400, 401, 403)},
    )
    def get(self, request):
        page, page_size = page_params(request.query_params)
        filters = parse_transaction_filters(request.query_params)
        page_data = selectors.wallet_transactions_page(user=request.user, page=page,
                                                       page_size=page_size, **filters)
        return success_response(s.TransactionPageSerializer(page_data).data)
