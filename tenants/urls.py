from django.urls import path

from tenants import views

# Seed 004 (DESIGN §4.6). The tenant's staff (`:id/users`) are served by accounts (users live there).
urlpatterns = [
    path("api/v1/tenants", views.TenantListView.as_view(), name="v1-tenants"),
    path("api/v1/tenants/<str:tenant_id>", views.TenantDetailView.as_view(), name="v1-tenant"),
    path("api/v1/tenants/<str:tenant_id>/suspend", views.TenantSuspendView.as_view(), name="v1-tenant-suspend"),
    path("api/v1/tenants/<str:tenant_id>/reactivate", views.TenantReactivateView.as_view(),
         name="v1-tenant-reactivate"),
    path("api/v1/tenants/<str:tenant_id>/stats", views.TenantStatsView.as_view(), name="v1-tenant-stats"),
    path("api/v1/tenants/<str:tenant_id>/api-keys", views.TenantApiKeysView.as_view(), name="v1-tenant-api-keys"),
    path("api/v1/tenants/<str:tenant_id>/api-keys/<str:key_id>/revoke", views.TenantApiKeyRevokeView.as_view(),
         name="v1-tenant-api-key-revoke"),
]
