from django.contrib import admin

from webapp.audit.models import AuditEvent
from webapp.core.admin import ReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("seq", "at", "actor_label", "action", "object_type", "object_id", "project_id", "ip")
    list_filter = ("action",)
    search_fields = ("actor_label", "object_id", "action")
