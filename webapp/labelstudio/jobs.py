"""Label Studio pull and push as jobs (the "labelstudio-pull" and "labelstudio-push" kinds).

The token never goes into Job.params, the audit trail or a log: the request seals it (encrypted
with a key derived from SECRET_KEY, then signed with django.core.signing) into a
PendingLabelStudioToken row owned by the job; the worker unseals it and deletes the row when the
attempt ends, whatever the ending (the job's cleanup deletes it too).
"""
import base64
import hashlib
import hmac
import os

from django.conf import settings
from django.core import signing
from django.db import transaction

from prefkit.labelstudio import LabelStudioError
from webapp.runs.services import JobOutcome, job_create

PULL_JOB_KIND = "labelstudio-pull"
PUSH_JOB_KIND = "labelstudio-push"
_SALT = "webapp.labelstudio.token"


def _keystream(nonce: bytes, size: int) -> bytes:
    key = hashlib.sha256(f"{_SALT}:{settings.SECRET_KEY}".encode()).digest()
    blocks = (hmac.new(key, nonce + i.to_bytes(4, "big"), hashlib.sha256).digest() for i in range(size // 32 + 1))
    return b"".join(blocks)[:size]


def seal_token(token: str) -> str:
    """Encrypt (HMAC-SHA256 keystream, fresh random nonce) and sign the token."""
    data = token.encode()
    nonce = os.urandom(16)
    cipher = bytes(x ^ y for x, y in zip(data, _keystream(nonce, len(data)), strict=True))
    return signing.dumps(base64.urlsafe_b64encode(nonce + cipher).decode(), salt=_SALT)


def unseal_token(sealed: str) -> str:
    raw = base64.urlsafe_b64decode(signing.loads(sealed, salt=_SALT))
    nonce, cipher = raw[:16], raw[16:]
    return bytes(x ^ y for x, y in zip(cipher, _keystream(nonce, len(cipher)), strict=True)).decode()


@transaction.atomic
def labelstudio_job_request(*, kind: str, project, actor, url: str, token: str, ls_project_id: int | None = None):
    """Create a pull or push job; the token is kept sealed beside the job, never in its params."""
    from webapp.labelstudio.models import PendingLabelStudioToken

    url = url.strip().rstrip("/")
    if not url:
        raise LabelStudioError("give the Label Studio URL")
    if not token:
        raise LabelStudioError("give a Label Studio access token")
    params = {"url": url}
    if ls_project_id is not None:
        params["ls_project"] = ls_project_id
    job = job_create(kind=kind, project=project, actor=actor, params=params)
    PendingLabelStudioToken.objects.create(job=job, sealed=seal_token(token))
    return job


def _take_token(job) -> str:
    from webapp.labelstudio.models import PendingLabelStudioToken

    pending = PendingLabelStudioToken.objects.filter(job=job).first()
    if pending is None:
        raise LabelStudioError("the access token is no longer held (the job was interrupted): request it again")
    return unseal_token(pending.sealed)


def forget_token(job) -> None:
    from webapp.labelstudio.models import PendingLabelStudioToken

    PendingLabelStudioToken.objects.filter(job=job).delete()


def pull_job_run(job, ctx) -> None:
    """All or nothing: the judgments and the job's success commit together; a cancel seen at a
    progress tick rolls everything back."""
    from webapp.labelstudio.services import labelstudio_pull

    try:
        token = _take_token(job)
        with transaction.atomic():
            result = labelstudio_pull(project=job.project, url=job.params["url"], token=token,
                                      ls_project_id=int(job.params["ls_project"]), actor=job.requested_by,
                                      progress=ctx.progress)
            forget_token(job)  # in the success's transaction: a finished job never still holds its token
            ctx.succeed(JobOutcome(result={
                "tasks": result.tasks, "annotations": result.annotations, "created": result.created,
                "already_present": result.already_present, "cancelled": result.cancelled,
                "repeats": len(result.repeats), "comparisons_created": result.comparisons_created}))
    finally:
        forget_token(job)


def push_job_run(job, ctx) -> None:
    """Cancel is honoured before anything is created in Label Studio; once the remote project
    exists the push record is written with it (a remote project cannot be taken back)."""
    from webapp.labelstudio.services import labelstudio_push

    try:
        token = _take_token(job)
        with transaction.atomic():
            push = labelstudio_push(project=job.project, url=job.params["url"], token=token, actor=job.requested_by,
                                    progress=ctx.progress)
            version = push.guideline_version
            forget_token(job)  # in the success's transaction: a finished job never still holds its token
            ctx.succeed(JobOutcome(result={
                "label_studio_project": push.ls_project_id, "tasks": len(push.tasks), "push_id": push.pk,
                "guideline_version": version.number if version else None}))
    finally:
        forget_token(job)
