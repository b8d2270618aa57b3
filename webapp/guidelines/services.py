from django.db import transaction

from webapp.audit.services import audit_record
from webapp.core import clock
from webapp.core.errors import Conflict, NotFound, ValidationFailed
from webapp.guidelines.models import Acknowledgement, GuidelineVersion

MAX_GUIDELINE_CHARS = 200_000


@transaction.atomic
def guideline_publish(*, project, body_md: str, change_note: str, author) -> GuidelineVersion:
    """Publish the next version of a project's guideline. Published versions never change."""
    if not body_md.strip():
        raise ValidationFailed("the guideline body is empty", field="body_md")
    if len(body_md) > MAX_GUIDELINE_CHARS:
        raise ValidationFailed(f"the guideline is {len(body_md)} characters; the limit is {MAX_GUIDELINE_CHARS}", field="body_md")
    # Lock the project row so two publishers cannot take the same number.
    type(project).objects.select_for_update().filter(pk=project.pk).first()
    last = GuidelineVersion.objects.filter(project=project).order_by("-number").values_list("number", flat=True).first()
    version = GuidelineVersion(
        project=project, number=(last or 0) + 1, body_md=body_md, change_note=change_note.strip()[:500],
        author=author, published_at=clock.now(),
    )
    version.save(force_insert=True)
    audit_record(actor=author, action="guideline.published", obj=version, project_id=project.pk,
                 payload={"number": version.number, "sha256": version.sha256, "change_note": version.change_note})
    return version


@transaction.atomic
def guideline_acknowledge(*, user, project, number: int) -> Acknowledgement:
    """Record that `user` read version `number`, which must be the project's current one."""
    current = GuidelineVersion.objects.current_for(project)
    if current is None:
        raise NotFound("this project has no published guideline yet")
    if number != current.number:
        raise Conflict(f"version {number} is not the current guideline (v{current.number}); read and acknowledge v{current.number}")
    ack, created = Acknowledgement.objects.get_or_create(user=user, version=current, defaults={"at": clock.now()})
    if created:
        audit_record(actor=user, action="guideline.acknowledged", obj=ack, project_id=project.pk,
                     payload={"version": current.number, "sha256": current.sha256})
    return ack
