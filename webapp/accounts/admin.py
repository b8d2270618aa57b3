from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from webapp.accounts.models import ApiToken, Profile, Role
from webapp.accounts.services import profile_attach, role_change, token_revoke

User = get_user_model()


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    readonly_fields = ("pseudonym",)
    fields = ("role", "pseudonym")


class WorkbenchUserAdmin(UserAdmin):
    inlines = [ProfileInline]
    list_display = ("username", "email", "role", "is_active", "last_login")
    # Staff and superuser flags follow the role (see accounts.services._apply_role).
    readonly_fields = ("is_staff", "is_superuser", "last_login", "date_joined")

    @admin.display(description="role")
    def role(self, user):
        return getattr(getattr(user, "profile", None), "role", "")

    def save_formset(self, request, form, formset, change):
        if formset.model is not Profile:
            return super().save_formset(request, form, formset, change)
        # The role changes only through the services, which set the flags and write the audit row.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        role = next((f.cleaned_data["role"] for f in formset.forms if f.cleaned_data.get("role")), Role.RATER)
        if Profile.objects.filter(user=form.instance).exists():
            role_change(user=form.instance, role=role, actor=request.user)
        else:
            profile_attach(user=form.instance, role=role, actor=request.user)


admin.site.unregister(User)
admin.site.register(User, WorkbenchUserAdmin)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "created_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("prefix", "user__username")
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # tokens are made with `manage.py create_user --token`, which shows them once

    def has_change_permission(self, request, obj=None):
        return False  # revoking is the only change, and it goes through token_revoke (the action)

    def has_delete_permission(self, request, obj=None):
        return False  # a revoked token stays, so the audit trail's references to it resolve

    @admin.action(description="Revoke the selected tokens", permissions=["view"])
    def revoke(self, request, queryset):
        revoked = sum(token_revoke(token=token, actor=request.user) for token in queryset)
        self.message_user(request, f"Revoked {revoked} token(s); the others were already revoked.")
