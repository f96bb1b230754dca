from django.urls import path

from payments.subscription_checkout import views

urlpatterns = [
    path("api/subscriptions/create-with-payment", views.CreateWithPaymentView.as_view(),
         name="subscriptions-create-with-payment"),
    path("api/subscriptions/verify-payment", views.VerifyPaymentView.as_view(),
         name="subscriptions-verify-payment"),
    path("api/subscriptions/<int:pk>/pay", views.PayView.as_view(), name="subscriptions-pay"),
    path("api/subscriptions/<int:pk>/change-plan", views.ChangePlanView.as_view(),
         name="subscriptions-change-plan"),
]
