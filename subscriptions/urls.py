from django.urls import include, path

from subscriptions import views

urlpatterns = [
    path("api/tokens/usage", views.TokenUsageView.as_view(), name="tokens-usage"),
    path("api/tokens/set-plan", views.TokenSetPlanView.as_view(), name="tokens-set-plan"),
    path("api/tokens/consume", views.TokenConsumeView.as_view(), name="tokens-consume"),
    # Seed 002's subscriptions (checkout: payments)
    path("", include("subscriptions.lifecycle.urls")),
]
