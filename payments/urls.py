from django.urls import include, path

from payments import views, views_v1
from payments.invoices import views as invoice_views

urlpatterns = [
    # Seeds 000 and 003 (one path each, the body decides the envelope)
    path("api/payments/create-order", views.CreateOrderView.as_view(), name="payments-create-order"),
    path("api/payments/verify", views.VerifyView.as_view(), name="payments-verify"),
    path("api/payments/sandbox/pay", views.SandboxPayView.as_view(), name="payments-sandbox-pay"),
    path("api/payments", views.OrdersView.as_view(), name="payments-orders"),
    # Seed 004
    path("api/payments/webhook/razorpay", views.WebhookView.as_view(), name="payments-webhook-razorpay"),
    path("api/v1/payments/webhook/razorpay", views.WebhookView.as_view(), name="v1-payments-webhook-razorpay"),
    path("api/v1/payments/create", views_v1.RoutedCreateView.as_view(), name="v1-payments-create"),
    path("api/v1/payments/verify", views_v1.RoutedVerifyView.as_view(), name="v1-payments-verify"),
    path("api/v1/payments/webhook/cashfree", views_v1.CashfreeWebhookView.as_view(),
         name="v1-payments-webhook-cashfree"),
    path("api/v1/payments", views.StaffOrdersView.as_view(), name="v1-payments"),
    path("api/v1/payments/<str:order_ref>", views.StaffOrderView.as_view(), name="v1-payments-detail"),
    path("api/v1/payments/<str:order_ref>/refund", views.StaffRefundView.as_view(), name="v1-payments-refund"),
    # GST invoices and credit notes (DESIGN §4.7)
    path("api/invoices", invoice_views.InvoicesView.as_view(), name="invoices"),
    path("api/invoices/<str:invoice_id>", invoice_views.InvoiceView.as_view(), name="invoices-detail"),
    path("api/invoices/<str:invoice_id>/pdf", invoice_views.InvoicePdfView.as_view(), name="invoices-pdf"),
    # Seed 002's subscription checkout
    path("", include("payments.subscription_checkout.urls")),
]
