from django.urls import path

from credits import views

urlpatterns = [
    # Seed 003 (status envelope); the bot's own two paths are in credits.bot_urls
    path("api/users/<str:phone_number>", views.UserProfileView.as_view(), name="user-profile"),
    path("api/credits/history/<str:user_id>", views.CreditHistoryView.as_view(), name="credit-history"),
    # Frontend wallet (success envelope)
    path("api/wallet", views.WalletView.as_view(), name="wallet"),
    path("api/wallet/transactions", views.WalletTransactionsView.as_view(), name="wallet-transactions"),
    # Seed 004 (success envelope)
    path("api/v1/admin/credits/wallet", views.MasterWalletView.as_view(), name="v1-admin-credits-wallet"),
    path("api/v1/admin/credits/purchase", views.MasterPurchaseView.as_view(),
         name="v1-admin-credits-purchase"),
    path("api/v1/admin/credits/tenant-wallets", views.TenantWalletsView.as_view(),
         name="v1-admin-credits-tenant-wallets"),
    path("api/v1/admin/credits/allocate", views.AllocateView.as_view(), name="v1-admin-credits-allocate"),
    path("api/v1/credits/wallet", views.TenantWalletView.as_view(), name="v1-credits-wallet"),
    path("api/v1/credits/deduct", views.TenantDeductView.as_view(), name="v1-credits-deduct"),
]
