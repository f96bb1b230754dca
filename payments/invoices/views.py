"""Invoice API (DESIGN §4.7): `GET /api/invoices`, `/api/invoices/:id`, `/api/invoices/:id/pdf`.

Thin: who may see what is decided in `invoices_for_caller` alone; someone else's invoice
answers 404, like a missing one.
"""

import re
from datetime import date

from django.db.models import Q
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.negotiation import BaseContentNegotiation

from config import envelopes
from config.api import SuccessAPIView, envelope_serializer
from config.envelopes import success_response
from config.errors import InvalidInput
from config.ids import positive_id
from config.pagination import PAGE_PARAMETERS, page_params, paginate
from config.permissions import IsUser
from config.policy import ALL_TENANTS, principal_of, tenant_scope
from config.schema import error_responses
from payments.invoices import selectors
from payments.invoices.models import Invoice
from payments.invoices.pdf import invoice_pdf
from payments.invoices.serializers import InvoiceOut, InvoicesPageOut

TAGS = ["invoices"]
KINDS = tuple(Invoice.Kind.values)
DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def invoices_for_caller(request):
    """The invoices `request`'s caller may see: platform staff all, tenant staff those of the
    tenant's users, anyone else their own (config.policy's "invoice.list_all")."""
    invoices = selectors.invoices_all()
    scope = tenant_scope(principal_of(request), "invoice.list_all")
    if scope is ALL_TENANTS:
        return invoices
    if scope is not None:
        return invoices.filter(user__tenant_id=scope)
    # Invoices never change, so those of an account merged into this one (phone sign-in,
    # DESIGN §4.9) keep their buyer and are shown here.
    return invoices.filter(Q(user=request.user) | Q(user__merged_into=request.user))


def _date_param(params, name: str) -> date | None:
    raw = params.get(name)
    if not raw:
        return None
    if DATE_PATTERN.fullmatch(raw):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    raise InvalidInput(f"{name} must be a date, YYYY-MM-DD.", code="invalid_query", fields={name: ["Invalid."]})


def _filters(params) -> dict:
    kind = params.get("kind") or None
    if kind is not None and kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}.", code="invalid_query",
                           fields={"kind": ["Invalid."]})
    user_id = None
    if params.get("user"):
        user_id = positive_id(params["user"])
        if user_id is None:
            raise InvalidInput("user must be a user id.", code="invalid_query", fields={"user": ["Invalid."]})
    return {"kind": kind, "issued_from": _date_param(params, "from"), "issued_to": _date_param(params, "to"),
            "user_id": user_id}


FILTER_PARAMETERS = [
    OpenApiParameter("kind", OpenApiTypes.STR, enum=list(KINDS), required=False),
    OpenApiParameter("from", OpenApiTypes.DATE, required=False, description="Issued on or after (India)"),
    OpenApiParameter("to", OpenApiTypes.DATE, required=False, description="Issued on or before (India)"),
    OpenApiParameter("user", OpenApiTypes.INT, required=False, description="Buyer's user id (staff)"),
]


class InvoicesView(SuccessAPIView):
    permission_classes = [IsUser]

    @extend_schema(
        tags=TAGS, operation_id="invoices_list", parameters=[*FILTER_PARAMETERS, *PAGE_PARAMETERS],
        responses={200: envelope_serializer("InvoicesPageEnvelope", InvoicesPageOut, envelope=envelopes.SUCCESS),
                   **error_responses(envelopes.SUCCESS, 400, 401, 403)},
        description="Your invoices and credit notes, newest first; staff see everyone's (a tenant's staff: "
                    "its users').",
    )
    def get(self, request):
        page, page_size = page_params(request.query_params)
        invoices = selectors.invoices_filter(invoices_for_caller(request), **_filters(request.query_params))
        result = paginate(invoices, page=page, page_size=page_size)
        result["results"] = InvoiceOut(result["results"], many=True).data
        return success_response(result)


class InvoiceView(SuccessAPIView):
    permission_classes = [IsUser]

    @extend_schema(
        tags=TAGS, operation_id="invoices_retrieve",
        responses={200: envelope_serializer("InvoiceEnvelope", InvoiceOut, envelope=envelopes.SUCCESS),
                   **error_responses(envelopes.SUCCESS, 401, 403, 404)},
    )
    def get(self, request, invoice_id: str):
        invoice = selectors.invoice_get(invoices=invoices_for_caller(request), invoice_id=positive_id(invoice_id))
        return success_response(InvoiceOut(invoice).data)


class _AnyAccept(BaseContentNegotiation):
    """The PDF is the answer whatever Accept says; errors still render as JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None


class InvoicePdfView(SuccessAPIView):
    permission_classes = [IsUser]
    content_negotiation_class = _AnyAccept

    @extend_schema(
        tags=TAGS, operation_id="invoices_pdf",
        responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="A4 PDF"),
                   **error_responses(envelopes.SUCCESS, 401, 403, 404)},
    )
    def get(self, request, invoice_id: str):
        invoice = selectors.invoice_get(invoices=invoices_for_caller(request), invoice_id=positive_id(invoice_id))
        response = HttpResponse(invoice_pdf(invoice), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{pdf_filename(invoice)}"'
        return response


def pdf_filename(invoice: Invoice) -> str:
    return invoice.number.replace("/", "-") + ".pdf"
