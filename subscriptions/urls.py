from django.urls import include, path

urlpatterns = [
    # Seed 001's /api/tokens/ paths: subscriptions.token_urls, near the top of config.urls.
    # Seed 002's subscriptions (checkout: payments)
    path("", include("subscriptions.lifecycle.urls")),
]
