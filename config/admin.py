from django.contrib import admin

from config.models import AuditEvent, IdempotencyRecord


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


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit log (DESIGN §4.6): append-only, so no add, change or delete, here or anywhere."""

    list_display = ["id", "created_at", "actor_label", "action", "object_type", "object_id", "tenant_id",
                    "ip"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor_label", "action", "object_id", "request_id", "reason"]
    readonly_fields = ["created_at", "actor", "actor_label", "action", "object_type", "object_id",
                       "tenant_id", "before", "after", "reason", "ip", "request_id"]
    fields = readonly_fields
    list_select_related = ["actor"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
