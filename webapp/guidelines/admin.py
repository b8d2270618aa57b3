from django.contrib import admin

from webapp.guidelines.models import Acknowledgement, GuidelineVersion


@admin.register(GuidelineVersion)
class GuidelineVersionAdmin(admin.ModelAdmin):
    """Read-only: versions are published with the service (publish page or command), never edited."""

    list_display = ("project", "number", "sha256", "author", "published_at", "change_note")
    list_filter = ("project",)
    readonly_fields = ("project", "number", "body_md", "sha256", "change_note", "author", "published_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Acknowledgement)
class AcknowledgementAdmin(admin.ModelAdmin):
    list_display = ("user", "version", "at")
    list_filter = ("version__project",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
