from django.db import transaction

from webapp.audit.services import audit_record
from webapp.core import clock
from webapp.core.errors import Conflict, NotFound, ValidationFailed
from webapp.guidelines.models import Acknowledgement, GuidelineVersion

MAX_GUIDELINE_CHARS = 200_000
MAX_NOTE_CHARS = GuidelineVersion._meta.get_field("change_note").max_length


def normalize_guideline_text(body_md: str) -> str:
    """Return the text with LF line endings: browsers send CRLF, files may hold either, and the
    published text (so its SHA-256) must not depend on where it came from."""
    return body_md.replace("\r\n", "\n").replace("\r", "\n")


@transaction.atomic
def guideline_publish(*, project, body_md: str, change_note: str, author,
                      based_on: int | None = None) -> GuidelineVersion:
    """Publish the next version of a project's guideline. Published versions never change.

    The rules hold for every caller (page, command, API, admin): line endings become LF; the text
    must not be empty, too long, or identical to the current version; the change note must fit its
    column (it is refused, not cut). `based_on`, the version an editor was opened on, refuses
    to publish over a version someone else published meanwhile.
    """
    body_md = normalize_guideline_text(body_md)
    change_note = change_note.strip()
    _check_publishable(body_md, change_note)
    # Lock the project row so two publishers cannot take the same number.
    type(project).objects.select_for_update().filter(pk=project.pk).first()
    current = GuidelineVersion.objects.current_for(project)
    _check_against_current(current, body_md, based_on)
    version = GuidelineVersion(
        project=project, number=current.number + 1 if current else 1, body_md=body_md, change_note=change_note,
        author=author, published_at=clock.now(),
    )
    version.save(force_insert=True)
    audit_record(actor=author, action="guideline.published", obj=version, project_id=project.pk,
                 payload={"number": version.number, "sha256": version.sha256, "change_note": version.change_note})
    return version


def _check_publishable(body_md: str, change_note: str) -> None:
    if not body_md.strip():
        raise ValidationFailed("the guideline is empty: write the text raters should follow", field="body_md")
    if len(body_md) > MAX_GUIDELINE_CHARS:
        raise ValidationFailed(f"the guideline is {len(body_md)} characters; the limit is {MAX_GUIDELINE_CHARS}",
                               field="body_md")
    if len(change_note) > MAX_NOTE_CHARS:
        raise ValidationFailed(f"the change note is {len(change_note)} characters; keep it under {MAX_NOTE_CHARS}",
                               field="change_note")


def _check_against_current(current: GuidelineVersion | None, body_md: str, based_on: int | None) -> None:
    if current is None:
        return
    if based_on is not None and based_on != current.number:
        raise Conflict(f"v{current.number} was published by {current.author or 'someone'} while you were editing; "
                       f"compare your text with v{current.number} and publish again", field="based_on")
    if body_md == current.body_md:
        raise Conflict(f"this text is identical to v{current.number} (sha256 {current.sha256}); "
                       "there is nothing to publish", field="body_md")


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
