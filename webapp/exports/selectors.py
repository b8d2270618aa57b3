"""Which judgments an export reads, streamed as the `exporters` records.

Filters are parsed once here (the page, the API and the command share them). Superseded judgments
never count. Raters appear only by pseudonym.
"""
import datetime as dt
from collections.abc import Iterator
from dataclasses import asdict, dataclass

from django.db import connection
from django.db.models import CharField, Count, Exists, F, Func, OuterRef, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from exporters import ComparisonRecord, JudgmentRecord
from prefkit.probes import METADATA_KEY as PROBE_KEY
from webapp.accounts.models import Profile
from webapp.comparisons.models import Comparison, ExternalRater, Judgment
from webapp.core.errors import ValidationFailed
from webapp.exports import rows, sql
from webapp.guidelines.models import GuidelineVersion, QuizItem

ORIGINS = ("here", "import", "external")
INCLUDE_CHOICES = ("any", "with", "without")  # gold / quiz / probe items: keep all, only those, or none of them
ROUNDS = ("current", "all")
FILTER_FIELDS = ("origin", "guideline_versions", "since", "until", "exclude_raters", "min_judgments", "gold", "quiz",
                 "rounds", "probes", "repeats")
_CHUNK = 2000  # judgments fetched per round trip (a server-side cursor on PostgreSQL)
_COMPARISONS_PER_FETCH = 500


@dataclass(frozen=True)
class ExportFilters:
    origin: tuple[str, ...] = ()  # empty: every origin
    guideline_versions: tuple[int, ...] = ()  # empty: every version
    since: str = ""  # ISO date or datetime, on the submission time; inclusive
    until: str = ""  # a date includes that whole day
    exclude_raters: tuple[str, ...] = ()  # pseudonyms
    min_judgments: int = 1  # comparisons with at least this many selected judgments
    gold: str = "any"
    quiz: str = "any"
    rounds: str = "all"
    probes: str = "without"  # sycophancy probes mixed into the queue (metadata.probe) are not training data
    repeats: str = "without"  # judgments made on consistency re-serves (Judgment.repeat): left out by default

    def as_dict(self) -> dict:
        return {name: list(value) if isinstance(value, tuple) else value for name, value in asdict(self).items()}


def parse_filters(values: dict, *, project) -> ExportFilters:
    """Read filter values (lists may also come as comma-separated strings); raise ValidationFailed naming the field."""
    unknown = set(values) - set(FILTER_FIELDS)
    if unknown:
        raise ValidationFailed(f"unknown filter {sorted(unknown)[0]!r}; known: {', '.join(FILTER_FIELDS)}",
                               field=sorted(unknown)[0])
    origin = tuple(_words(values.get("origin"), "origin"))
    for value in origin:
        if value not in ORIGINS:
            raise ValidationFailed(f"origin must be among {', '.join(ORIGINS)}; got {value!r}", field="origin")
    versions = tuple(_integers(values.get("guideline_versions"), "guideline_versions"))
    known_versions = set(GuidelineVersion.objects.filter(project=project).values_list("number", flat=True))
    for number in versions:
        if number not in known_versions:
            raise ValidationFailed(f"guideline_versions: project {project.slug} has no guideline v{number}",
                                   field="guideline_versions")
    raters = tuple(_words(values.get("exclude_raters"), "exclude_raters"))
    known_raters = set(Profile.objects.filter(pseudonym__in=raters).values_list("pseudonym", flat=True)) | set(
        ExternalRater.objects.filter(project=project, pseudonym__in=raters).values_list("pseudonym", flat=True))
    for name in raters:
        if name not in known_raters:
            raise ValidationFailed(f"exclude_raters: no rater with pseudonym {name!r}", field="exclude_raters")
    filters = ExportFilters(
        origin=origin, guideline_versions=versions, since=_text(values.get("since")), until=_text(values.get("until")),
        exclude_raters=raters, min_judgments=_min_judgments(values.get("min_judgments")),
        gold=_choice(values.get("gold"), "gold", INCLUDE_CHOICES, "any"),
        quiz=_choice(values.get("quiz"), "quiz", INCLUDE_CHOICES, "any"),
        rounds=_choice(values.get("rounds"), "rounds", ROUNDS, "all"),
        probes=_choice(values.get("probes"), "probes", INCLUDE_CHOICES, "without"),
        repeats=_choice(values.get("repeats"), "repeats", INCLUDE_CHOICES, "without"),
    )
    start, end = _moment(filters.since, "since", end_of_day=False), _moment(filters.until, "until", end_of_day=True)
    if start and end and start > end:
        raise ValidationFailed("until is before since: the date range is empty", field="until")
    return filters


def selected_judgments(project, filters: ExportFilters):
    """The judgments an export reads (before min_judgments, which counts per comparison)."""
    # NOT EXISTS, not Django's LEFT JOIN ... IS NULL for superseded_by__isnull: PostgreSQL estimates
    # the latter at one row and, for a cursor, picked a nested loop that read the table per comparison.
    corrected = Judgment.objects.filter(supersedes_id=OuterRef("pk"))
    qs = Judgment.objects.filter(comparison__project=project).filter(~Exists(corrected))
    if filters.repeats != "any":
        qs = qs.filter(repeat=filters.repeats == "with")
    if filters.origin:
        qs = qs.filter(origin__in=filters.origin)
    if filters.guideline_versions:
        qs = qs.filter(guideline_version__number__in=filters.guideline_versions)
    start = _moment(filters.since, "since", end_of_day=False)
    end = _moment(filters.until, "until", end_of_day=True)
    if start:
        qs = qs.filter(submitted_at__gte=start)
    if end:
        qs = qs.filter(submitted_at__lte=end)
    if filters.exclude_raters:
        qs = qs.exclude(Q(rater__profile__pseudonym__in=filters.exclude_raters)
                        | Q(external_rater__pseudonym__in=filters.exclude_raters))
    if filters.gold != "any":
        has_gold = ~Q(comparison__gold="")
        qs = qs.filter(has_gold if filters.gold == "with" else ~has_gold)
    if filters.quiz != "any":
        quiz_ids = QuizItem.objects.filter(quiz__version__project=project).values("comparison_id")
        qs = qs.filter(comparison_id__in=quiz_ids) if filters.quiz == "with" else qs.exclude(comparison_id__in=quiz_ids)
    if filters.probes != "any":
        probe_ids = Comparison.objects.filter(project=project, metadata__has_key=PROBE_KEY).values("id")
        qs = qs.filter(comparison_id__in=probe_ids) if filters.probes == "with" else qs.exclude(comparison_id__in=probe_ids)
    if filters.rounds == "current":
        # Judgments made elsewhere have no assignment: they count as the first round's.
        qs = qs.filter(Q(assignment__round=F("comparison__round"))
                       | Q(assignment__isnull=True, comparison__round=1))
    return qs


def selection_counts(project, filters: ExportFilters) -> tuple[int, int]:
    """(judgments, comparisons) the export will read, with min_judgments applied."""
    per_comparison = (selected_judgments(project, filters).values("comparison_id").annotate(n=Count("id"))
                      .filter(n__gte=filters.min_judgments).values_list("n", flat=True))
    counts = list(per_comparison)
    return sum(counts), len(counts)


class IsoUtc(Func):
    """A timestamp as ISO 8601 UTC text, made by the database: parsing datetimes into Python and
    formatting them again was a third of the selector's time."""

    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection,
                           template="""to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')""")

    def as_sqlite(self, compiler, connection, **extra):  # stored as 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC
        return self.as_sql(compiler, connection, template="replace(%(expressions)s, ' ', 'T') || 'Z'")


def export_groups(project, filters: ExportFilters):
    """A zero-argument callable that streams (comparison, its selected judgments) by comparison id,
    as `exporters.write_export` wants; it may be called more than once. On PostgreSQL the rows
    come through one hand-written query (webapp/exports/sql.py) built from the querysets below."""
    if connection.vendor == "postgresql":
        return sql.export_groups(judgment_rows(project, filters), comparison_rows, min_judgments=filters.min_judgments)
    return orm_export_groups(project, filters)


def judgment_rows(project, filters: ExportFilters):
    """The selected judgments as value rows in rows.JUDGMENT_FIELDS order, by comparison id then id."""
    return (selected_judgments(project, filters)
            .annotate(served_iso=IsoUtc("served_at"), submitted_iso=IsoUtc("submitted_at"),
                      # raters here by their profile's pseudonym, raters elsewhere by theirs
                      rater_pseudonym=Coalesce("rater__profile__pseudonym", "external_rater__pseudonym"),
                      made_in_round=Coalesce("assignment__round", Value(1)))
            .order_by("comparison_id", "id").values_list(*rows.JUDGMENT_FIELDS))


def comparison_rows(comparisons):
    """Value rows in rows.COMPARISON_FIELDS order for a Comparison queryset."""
    is_quiz = Exists(QuizItem.objects.filter(comparison_id=OuterRef("pk")))
    return comparisons.annotate(is_quiz=is_quiz).values_list(*rows.COMPARISON_FIELDS)


def orm_export_groups(project, filters: ExportFilters):
    """export_groups through the ORM (SQLite; and the reference the PostgreSQL path is tested against)."""

    def groups() -> Iterator[tuple[ComparisonRecord, list[JudgmentRecord]]]:
        values = judgment_rows(project, filters).iterator(chunk_size=_CHUNK)
        pending: list[tuple[int, list[JudgmentRecord]]] = []
        for comparison_id, judgments in _grouped(values):
            if len(judgments) >= filters.min_judgments:
                pending.append((comparison_id, judgments))
            if len(pending) >= _COMPARISONS_PER_FETCH:
                yield from _with_comparisons(pending)
                pending = []
        yield from _with_comparisons(pending)

    return groups


def _grouped(values) -> Iterator[tuple[int, list[JudgmentRecord]]]:
    current, judgments = None, []
    for row in values:
        record = rows.judgment_record(row)
        if record.comparison_id != current and judgments:
            yield current, judgments
            judgments = []
        current = record.comparison_id
        judgments.append(record)
    if judgments:
        yield current, judgments


def _with_comparisons(pending):
    if not pending:
        return
    ids = [comparison_id for comparison_id, _ in pending]
    by_id = {row[0]: row for row in comparison_rows(Comparison.objects.filter(pk__in=ids))}
    for comparison_id, judgments in pending:
        yield rows.comparison_record(by_id[comparison_id]), judgments


def guideline_versions_used(project, filters: ExportFilters) -> list[dict]:
    numbers = selected_judgments(project, filters).values("guideline_version_id").distinct()
    return [{"number": v.number, "sha256": v.sha256, "published_at": v.published_at.isoformat()}
            for v in GuidelineVersion.objects.filter(pk__in=numbers).order_by("number")]


def _words(value, name: str) -> list[str]:
    if value in (None, "", []):
        return []
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValidationFailed(f"{name} must be a list of strings", field=name)
    return list(dict.fromkeys(value))


def _integers(value, name: str) -> list[int]:
    words = _words([str(v) for v in value] if isinstance(value, (list, tuple)) else value, name)
    try:
        return sorted({int(word) for word in words})
    except ValueError:
        raise ValidationFailed(f"{name} must be whole numbers; got {value!r}", field=name) from None


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ("" if value is None else str(value))


def _choice(value, name: str, allowed: tuple[str, ...], default: str) -> str:
    if value in (None, ""):
        return default
    if value not in allowed:
        raise ValidationFailed(f"{name} must be one of {', '.join(allowed)}; got {value!r}", field=name)
    return value


def _min_judgments(value) -> int:
    if value in (None, ""):
        return 1
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if isinstance(value, bool) or isinstance(value, float) or number < 1:
        raise ValidationFailed(f"min_judgments must be a whole number of at least 1; got {value!r}",
                               field="min_judgments")
    return number


def _moment(text: str, name: str, *, end_of_day: bool) -> dt.datetime | None:
    if not text:
        return None
    try:
        if "T" not in text and " " not in text:
            day = parse_date(text)
            moment = dt.datetime.combine(day, dt.time.max if end_of_day else dt.time.min) if day else None
        else:
            moment = parse_datetime(text)
    except ValueError:
        moment = None
    if moment is None:
        raise ValidationFailed(f"{name}: {text!r} is not an ISO date (2024-05-01) or datetime (2024-05-01T13:45)",
                               field=name)
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, dt.timezone.utc)
