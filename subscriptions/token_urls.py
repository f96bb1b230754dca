"""Seed 001's token paths under `/api/tokens/`, included near the top of config.urls: Django
tries URL patterns one by one, and the usage read and the consume are hot paths."""

from django.urls import path

from subscriptions import views

urlpatterns = [
    path("usage", views.TokenUsageView.as_view(), name="tokens-usage"),
    path("set-plan", views.TokenSetPlanView.as_view(), name="tokens-set-plan"),
    path("consume", views.TokenConsumeView.as_view(), name="tokens-consume"),
]
