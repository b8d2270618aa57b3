from django.core.exceptions import ValidationError
from django.db import transaction

from webapp.audit.services import audit_record
from webapp.core.errors import Conflict, ValidationFailed
from webapp.projects.models import Membership, Project, Scale


@transaction.atomic
def project_create(*, slug: str, name: str, actor, overlap: int = 3, scale: str = Scale.BINARY_TIE,
                   allow_both_bad: bool = False, rationale_required: bool = False, lease_minutes: int = 10,
                   description: str = "", overlap_counts_external: bool = False, consistency_fraction: float = 0.0,
                   consistency_min_gap: int = 20) -> Project:
    """Create a project; its creator becomes a member."""
    if Project.objects.filter(slug=slug).exists():
        raise Conflict(f"project {slug!r} already exists", field="slug")
    if scale not in Scale.values:
        raise ValidationFailed(f"scale must be one of {', '.join(Scale.values)}", field="scale")
    project = Project(slug=slug, name=name, overlap=overlap, scale=scale, allow_both_bad=allow_both_bad,
                      rationale_required=rationale_required, lease_minutes=lease_minutes,
                      description=description, created_by=actor, overlap_counts_external=overlap_counts_external,
                      consistency_fraction=consistency_fraction, consistency_min_gap=consistency_min_gap)
    _validate(project)
    project.save()
    if actor is not None:
        Membership.objects.create(project=project, user=actor)
    audit_record(actor=actor, action="project.created", obj=project, project_id=project.pk,
                 payload={"slug": slug, "overlap": overlap, "scale": scale, "allow_both_bad": allow_both_bad,
                          "rationale_required": rationale_required, "lease_minutes": lease_minutes,
                          "overlap_counts_external": overlap_counts_external,
                          "consistency_fraction": consistency_fraction, "consistency_min_gap": consistency_min_gap})
    return project


# What may change once a project collects judgments. Overlap and scale may not: earlier judgments
# would become incomparable with later ones. The slug is in every URL and export. The consistency
# re-serves may: they never enter the overlap (Assignment.repeat_of).
EDITABLE_SETTINGS = ("name", "description", "allow_both_bad", "rationale_required", "lease_minutes",
                     "consistency_fraction", "consistency_min_gap")


@transaction.atomic
def project_settings_change(*, project: Project, actor, **changes) -> dict:
    """Change some of a project's settings (EDITABLE_SETTINGS); return {field: {"from", "to"}} of
    what actually changed, which the audit event records too."""
    refused = sorted(set(changes) - set(EDITABLE_SETTINGS))
    if refused:
        raise ValidationFailed(f"{refused[0]} cannot change once a project exists", field=refused[0])
    locked = Project.objects.select_for_update().get(pk=project.pk)
    diff = {name: {"from": getattr(locked, name), "to": value}
            for name, value in changes.items() if getattr(locked, name) != value}
    if not diff:
        return {}
    for name, change in diff.items():
        setattr(locked, name, change["to"])
    _validate(locked)
    locked.save(update_fields=list(diff))
    audit_record(actor=actor, action="project.settings_changed", obj=locked, project_id=locked.pk, payload=diff)
    for name in diff:
        setattr(project, name, getattr(locked, name))
    return diff


def _validate(project: Project) -> None:
    try:
        project.full_clean(exclude=["created_by"])
    except ValidationError as error:
        field, problems = next(iter(error.message_dict.items()))
        raise ValidationFailed(f"{field}: {' '.join(problems)}", field=field) from None


@transaction.atomic
def membership_add(*, project, user, actor) -> Membership:
    membership, created = Membership.objects.get_or_create(project=project, user=user)
    if created:
        # Leads read their projects' events: name members by pseudonym, never by username.
        audit_record(actor=actor, action="membership.added", obj=membership, project_id=project.pk,
                     payload={"member": user.profile.pseudonym})
    return membership


@transaction.atomic
def membership_remove(*, project, user, actor) -> None:
    membership = Membership.objects.filter(project=project, user=user).first()
    if membership is not None:
        membership_id = membership.pk
        membership.delete()
        audit_record(actor=actor, action="membership.removed", object_type="projects.membership",
                     object_id=str(membership_id), project_id=project.pk, payload={"member": user.profile.pseudonym})
