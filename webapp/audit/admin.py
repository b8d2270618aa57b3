from django.contrib import admin

from webapp.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("seq", "at", "actor_label", "action", "object_type", "object_id", "project_id", "ip")
    list_filter = ("action",)
    search_fields = ("actor_label", "object_id", "action")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
