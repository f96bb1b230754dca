from django.contrib import admin

from config.models import IdempotencyRecord


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    """Stored answers to `Idempotency-Key` requests: evidence, so read-only."""

    list_display = ["scope", "key", "status_code", "created_at"]
    list_filter = ["status_code", "created_at"]
    search_fields = ["scope", "key"]
    readonly_fields = ["scope", "key", "request_hash", "status_code", "response_body", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return request.method in ("GET", "HEAD") and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False
