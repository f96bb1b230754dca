from django.urls import path

from subscriptions.lifecycle import views

urlpatterns = [
    path("api/subscriptions", views.SubscriptionsView.as_view(), name="subscriptions"),
    path("api/subscriptions/my-subscription", views.MySubscriptionView.as_view(), name="subscriptions-mine"),
    path("api/subscriptions/<int:pk>", views.SubscriptionDetailView.as_view(), name="subscriptions-detail"),
    path("api/subscriptions/<int:pk>/cancel", views.CancelView.as_view(), name="subscriptions-cancel"),
    path("api/subscriptions/<int:pk>/suspend", views.SuspendView.as_view(), name="subscriptions-suspend"),
    path("api/subscriptions/<int:pk>/activate", views.ActivateView.as_view(), name="subscriptions-activate"),
    path("api/subscriptions/<int:pk>/renew", views.RenewView.as_view(), name="subscriptions-renew"),
    path("api/subscriptions/<int:pk>/usage", views.UsageView.as_view(), name="subscriptions-usage"),
]
