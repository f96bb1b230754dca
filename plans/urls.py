from django.urls import path

from plans import views

urlpatterns = [
    path("api/rate-plans/public", views.PublicRatePlansView.as_view(), name="rate-plans-public"),
    path("api/rate-plans/calculate-price", views.CalculatePriceView.as_view(), name="rate-plans-calculate-price"),
    path("api/rate-plans/code/<str:code>", views.RatePlanByCodeView.as_view(), name="rate-plans-by-code"),
    path("api/rate-plans/<int:pk>", views.RatePlanDetailView.as_view(), name="rate-plans-detail"),
    path("api/rate-plans", views.RatePlanListView.as_view(), name="rate-plans"),
    path("api/credit-packages", views.CreditPackagesView.as_view(), name="credit-packages"),
]
