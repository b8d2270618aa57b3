from django.db.models import Exists, OuterRef

from webapp.guidelines.models import Acknowledgement, GuidelineVersion


def current_version_with_ack(*, project_id: int, user) -> GuidelineVersion | None:
    """The project's current version, annotated with `acknowledged` for `user` (one query)."""
    acked = Acknowledgement.objects.filter(version=OuterRef("pk"), user=user)
    return (
        GuidelineVersion.objects.filter(project_id=project_id)
        .annotate(acknowledged=Exists(acked))
        .order_by("-number")
        .first()
    )
