"""Reading the audit trail: who may see which events, and the filters of the log pages and exports."""
import datetime as dt

from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from webapp.accounts.models import Profile, Role
from webapp.audit.models import AuditEvent
from webapp.core.errors import Forbidden, ValidationFailed
from webapp.projects.models import Project
from webapp.projects.selectors import projects_visible_to, role_of

FILTER_FIELDS = ("actor", "action", "object_type", "object_id", "project", "from", "to")


def events_visible_to(user):
    """Return the events `user` may read: admins all, leads their projects' events; raise Forbidden otherwise."""
    role = role_of(user)
    if role == Role.ADMIN:
        return AuditEvent.objects.all()
    if role == Role.LEAD:
        return AuditEvent.objects.filter(project_id__in=projects_visible_to(user).values("pk"))
    raise Forbidden("only data leads and admins can read the audit log")


def pseudonymizes_raters(user) -> bool:
    """Whether `user` must see raters by pseudonym only: everyone but admins (as on the provenance pages)."""
    return role_of(user) != Role.ADMIN


def rater_pseudonyms(actor_ids) -> dict[int, str]:
    """Map those of `actor_ids` (ids, or a values() queryset) who are raters to their pseudonyms (one query)."""
    return dict(Profile.objects.filter(user_id__in=actor_ids, role=Role.RATER).values_list("user_id", "pseudonym"))


def filter_events(qs, params, *, pseudonymous_raters: bool = False):
    """Narrow `qs` by the log filters in `params` (a QueryDict or dict); blank values are ignored.

    `actor` matches a username or a rater's pseudonym; with `pseudonymous_raters` it matches raters
    by pseudonym only, so a lead cannot look up what a named rater did. `from` and `to` take ISO
    dates or datetimes (naive ones are UTC); a date in `to` includes that whole day.
    Raise ValidationFailed for a value that cannot be read.
    """
    value = {name: (params.get(name) or "").strip() for name in FILTER_FIELDS}
    if value["actor"]:
        qs = qs.filter(_actor_matches(value["actor"], pseudonymous_raters))
    if value["action"]:
        qs = qs.filter(action=value["action"])
    if value["object_type"]:
        qs = qs.filter(object_type=value["object_type"])
    if value["object_id"]:
        qs = qs.filter(object_id=value["object_id"])
    if value["project"]:
        # An unknown slug matches nothing rather than erroring, so slugs cannot be probed.
        qs = qs.filter(project_id__in=Project.objects.filter(slug=value["project"]).values("pk"))
    start = _parse_moment(value["from"], field="from", end_of_day=False)
    end = _parse_moment(value["to"], field="to", end_of_day=True)
    if start and end and start > end:
        raise ValidationFailed("the time range ends before it starts", field="to")
    if start:
        qs = qs.filter(at__gte=start)
    if end:
        qs = qs.filter(at__lte=end)
    return qs


def _actor_matches(name: str, pseudonymous_raters: bool) -> Q:
    by_pseudonym = Q(actor__profile__pseudonym=name, actor__profile__role=Role.RATER)
    by_username = Q(actor_label=name)
    if pseudonymous_raters:
        by_username &= ~Q(actor__profile__role=Role.RATER)
    return by_pseudonym | by_username


def distinct_actions(qs) -> list[str]:
    return list(qs.order_by("action").values_list("action", flat=True).distinct())


def _is_date(text: str) -> bool:
    return bool(text) and "T" not in text and " " not in text


def _parse_moment(text: str, *, field: str, end_of_day: bool) -> dt.datetime | None:
    if not text:
        return None
    try:
        if _is_date(text):
            day = parse_date(text)
            moment = dt.datetime.combine(day, dt.time.max if end_of_day else dt.time.min) if day else None
        else:
            moment = parse_datetime(text)
    except ValueError:  # well-formed but impossible, e.g. 2024-02-30
        moment = None
    if moment is None:
        raise ValidationFailed(f"{field}: {text!r} is not an ISO date (2024-05-01) or datetime (2024-05-01T13:45)",
                               field=field)
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, dt.timezone.utc)
