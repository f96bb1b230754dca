from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.audit_api import AuditLogDetailView, AuditLogListView
from config.views import ApiIndexView, HealthView

urlpatterns = [
    # The hot paths first: Django tries the patterns in order, about a microsecond each.
    path("api/bot/", include("credits.bot_urls")),
    path("api/tokens/", include("subscriptions.token_urls")),
    path("admin/", admin.site.urls),
    path("api/health", HealthView.as_view(), name="health"),
    path("health", HealthView.as_view(), name="health-root"),  # seed 004
    path("api/v1", ApiIndexView.as_view(), name="v1-index"),
    path("api/schema", SpectacularAPIView.as_view(), name="schema"),
    path("api/v1/admin/audit-logs", AuditLogListView.as_view(), name="audit-logs"),
    path("api/v1/admin/audit-logs/<str:event_id>", AuditLogDetailView.as_view(), name="audit-log"),
    path("api/docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("", include("accounts.urls")),
    path("", include("tenants.urls")),
    path("", include("plans.urls")),
    path("", include("subscriptions.urls")),
    path("", include("credits.urls")),
    path("", include("payments.urls")),
]


handler400 = "config.error_pages.bad_request"
handler403 = "config.error_pages.permission_denied"
handler404 = "config.error_pages.page_not_found"
handler500 = "config.error_pages.server_error"
