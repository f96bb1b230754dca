from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.views import HealthView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/health", HealthView.as_view(), name="health"),
    path("api/schema", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("", include("accounts.urls")),
    path("", include("tenants.urls")),
    path("", include("plans.urls")),
    path("", include("subscriptions.urls")),
    path("", include("credits.urls")),
    path("", include("payments.urls")),
]


def server_error(request, *args, **kwargs):
    return JsonResponse({"success": False, "error": {"code": "server_error",
                                                     "message": "Internal server error."}},
                        status=500)


def not_found(request, exception=None, *args, **kwargs):
    return JsonResponse({"success": False, "error": {"code": "not_found", "message": "Not found."}},
                        status=404)


handler500 = server_error
handler404 = not_found
