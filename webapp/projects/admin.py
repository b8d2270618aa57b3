from django.contrib import admin

from webapp.projects.models import Membership, Project
from webapp.projects.services import (
    EDITABLE_SETTINGS,
    membership_add,
    membership_remove,
    project_create,
    project_settings_change,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ()
    readonly_fields = ("added_at",)


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "overlap", "scale", "lease_minutes", "created_at")
    search_fields = ("slug", "name")
    inlines = [MembershipInline]

    def get_readonly_fields(self, request, obj=None):
        # Changing overlap or scale mid-collection would make earlier judgments incomparable.
        return ("slug", "overlap", "scale", "created_by", "created_at") if obj else ("created_by", "created_at")

    def save_model(self, request, obj, form, change):
        if change:
            # Through the audited service; the form already validated the values, and the fields
            # that may not change (overlap, scale, slug) are read-only here.
            changes = {name: form.cleaned_data[name] for name in form.changed_data if name in EDITABLE_SETTINGS}
            project_settings_change(project=obj, actor=request.user, **changes)
            return
        created = project_create(
            slug=obj.slug, name=obj.name, actor=request.user, overlap=obj.overlap, scale=obj.scale,
            allow_both_bad=obj.allow_both_bad, rationale_required=obj.rationale_required,
            lease_minutes=obj.lease_minutes, description=obj.description,
            overlap_counts_external=obj.overlap_counts_external, consistency_fraction=obj.consistency_fraction,
            consistency_min_gap=obj.consistency_min_gap,
        )
        obj.pk, obj._state.adding = created.pk, False

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        memberships = formset.save(commit=False)
        for removed in formset.deleted_objects:
            membership_remove(project=form.instance, user=removed.user, actor=request.user)
        for membership in memberships:
            if membership.pk is None:
                membership_add(project=form.instance, user=membership.user, actor=request.user)
