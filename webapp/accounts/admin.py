from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from webapp.accounts.models import ApiToken, Profile, Role
from webapp.accounts.services import role_change

User = get_user_model()


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    readonly_fields = ("pseudonym",)
    fields = ("role", "pseudonym")


class WorkbenchUserAdmin(UserAdmin):
    inlines = [ProfileInline]
    list_display = ("username", "email", "role", "is_active", "last_login")

    @admin.display(description="role")
    def role(self, user):
        return getattr(getattr(user, "profile", None), "role", "")

    def save_related(self, request, form, formsets, change):
        # Role changes go through the service so is_staff/permissions follow and the audit row is written.
        previous = Profile.objects.filter(user=form.instance).values_list("role", flat=True).first()
        for formset in formsets:
            if formset.model is Profile:
                for inline_form in formset.forms:
                    new_role = inline_form.cleaned_data.get("role")
                    if previous and new_role and new_role != previous:
                        role_change(user=form.instance, role=new_role, actor=request.user)
                        return super().save_related(request, form, [f for f in formsets if f.model is not Profile], change)
        super().save_related(request, form, formsets, change)
        if not previous:
            profile = Profile.objects.filter(user=form.instance).first()
            if profile is None:
                Profile.objects.create(user=form.instance, role=Role.RATER)


admin.site.unregister(User)
admin.site.register(User, WorkbenchUserAdmin)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "created_at", "revoked_at")
    readonly_fields = ("user", "key_hash", "prefix", "created_at")

    def has_add_permission(self, request):
        return False  # tokens are made with `manage.py create_user --token`, which shows them once
