"""Read a selection of a project's judgments into the arrays prefkit.diagnostics works on.

One values_list query per table, straight into numpy: no model instances, no per-row Python
beyond unpacking the tuples.
"""
import datetime as dt
from dataclasses import asdict, dataclass

import numpy as np
from django.db.models import OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Length

from prefkit import diagnostics as dg, probes
from webapp.comparisons.models import Comparison, Judgment
from webapp.core.errors import ValidationFailed

ORIGINS = tuple(Judgment.Origin.values)
CHOICE_CODE = {name: i for i, name in enumerate(dg.CHOICES)}
PROBE_KEY = probes.METADATA_KEY  # comparison.metadata["probe"] = {"suite": name, "sycophantic": "a" | "b", "item": id}


@dataclass(frozen=True)
class Selection:
    """Which judgments a report covers (all of the project's current ones by default)."""
    guideline_version: int | None = None   # the version's number
    rater: str | None = None               # a pseudonym (accounts and external raters alike)
    origin: str | None = None              # here | import | external
    since: dt.datetime | None = None       # submitted at or after
    until: dt.datetime | None = None       # submitted before

    def as_dict(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in asdict(self).items()}


def parse_selection(values: dict) -> Selection:
    """The page's query string, the job's params and the command's options share these names."""
    def text(name):
        value = values.get(name)
        return str(value).strip() if value not in (None, "") else None

    origin = text("origin")
    if origin is not None and origin not in ORIGINS:
        raise ValidationFailed(f"origin must be one of {', '.join(ORIGINS)}", field="origin")
    version = text("guideline_version")
    if version is not None:
        try:
            version = int(version)
        except ValueError:
            raise ValidationFailed("guideline_version must be a version number", field="guideline_version") from None
    return Selection(guideline_version=version, rater=text("rater"), origin=origin,
                     since=_when(text("since"), "since"), until=_when(text("until"), "until"))


def _when(value, name):
    if value is None:
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(f"{name} must be an ISO 8601 date or time, e.g. 2026-01-31", field=name) from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def judgments(project, selection: Selection, *, repeats: bool = False):
    """The current (not superseded) judgments of the selection: the regular ones, or (`repeats`)
    those made on consistency re-serves, which no agreement, majority or bias figure counts."""
    qs = Judgment.objects.filter(comparison__project=project, superseded_by__isnull=True, repeat=repeats)
    if selection.guideline_version is not None:
        qs = qs.filter(guideline_version__number=selection.guideline_version)
    if selection.rater:
        qs = qs.filter(Q(rater__profile__pseudonym=selection.rater) | Q(external_rater__pseudonym=selection.rater))
    if selection.origin:
        qs = qs.filter(origin=selection.origin)
    if selection.since:
        qs = qs.filter(submitted_at__gte=selection.since)
    if selection.until:
        qs = qs.filter(submitted_at__lt=selection.until)
    return qs


@dataclass
class Loaded:
    data: dg.RaterData
    origin: np.ndarray            # per judgment, index into ORIGINS
    guideline: np.ndarray         # per judgment, guideline version number, 0 when unknown
    comparison_ids: np.ndarray    # per unit
    repeats: dg.RepeatPairs       # the selection's re-serves, each beside the rater's first judgment


def _repeat_rows(project, selection: Selection) -> list[tuple]:
    """(comparison id, rater, first choice, repeat choice, first version, repeat version) of each
    re-serve judged in the selection; the first is the current judgment of the original assignment."""
    first = Judgment.objects.filter(assignment_id=OuterRef("assignment__repeat_of_id"),
                                    superseded_by__isnull=True).order_by("-id")
    rows = (judgments(project, selection, repeats=True).order_by()
            .annotate(first_choice=Subquery(first.values("choice")[:1]),
                      first_version=Subquery(first.values("guideline_version__number")[:1]))
            .filter(first_choice__isnull=False)
            .values_list("comparison_id", "rater__profile__pseudonym", "first_choice", "choice", "first_version",
                         "guideline_version__number"))
    return list(rows)


def load(project, selection: Selection, *, chunk: int = 50_000) -> Loaded:
    """The selection as arrays: units are all the project's comparisons, judgments the selection's."""
    comp_rows = (Comparison.objects.filter(project=project).order_by("id")
                 .annotate(len_a=Length("response_a__text"), len_b=Length("response_b__text"))
                 .values_list("id", "len_a", "len_b", "gold", "metadata"))
    ids, len_a, len_b, gold, syc_side, syc_suite, suites = [], [], [], [], [], [], []
    for cid, la, lb, g, meta in comp_rows.iterator(chunk_size=chunk):
        ids.append(cid)
        len_a.append(la)
        len_b.append(lb)
        gold.append(CHOICE_CODE.get(g, -1))
        probe = (meta or {}).get(PROBE_KEY) if isinstance(meta, dict) else None
        if isinstance(probe, dict) and probe.get("sycophantic") in ("a", "b") and probe.get("suite"):
            if probe["suite"] not in suites:
                suites.append(probe["suite"])
            syc_side.append(CHOICE_CODE[probe["sycophantic"]])
            syc_suite.append(suites.index(probe["suite"]))
        else:
            syc_side.append(-1)
            syc_suite.append(-1)
    comparison_ids = np.asarray(ids, dtype=np.int64)

    rows = (judgments(project, selection).order_by()
            .annotate(rater_name=Coalesce("rater__profile__pseudonym", "external_rater__pseudonym"))
            .values_list("comparison_id", "rater_name", "choice", "strength", "display_order", "active_ms",
                         "origin", "guideline_version__number"))
    cols = list(zip(*rows.iterator(chunk_size=chunk))) or [()] * 8
    comp, names, choice, strength, order, active, origin, version = cols
    unit = np.searchsorted(comparison_ids, np.asarray(comp, dtype=np.int64))
    r_comp, r_names, r_first, r_second, r_first_version, r_version = (
        list(zip(*_repeat_rows(project, selection))) or [()] * 6)
    # Raters are numbered over both, so a rater whose only judgments in the selection are re-serves has a row too.
    all_names = np.asarray(list(names) + list(r_names), dtype=object).astype(str)
    rater_names, all_rater = np.unique(all_names, return_inverse=True)
    rater, repeat_rater = all_rater.ravel()[:len(names)], all_rater.ravel()[len(names):]
    origin_code = {o: i for i, o in enumerate(ORIGINS)}
    data = dg.RaterData(
        unit=unit.astype(np.int64), rater=rater.astype(np.int64),
        choice=_choice_codes(choice),
        strength=np.array([np.nan if s is None else s for s in strength], dtype=np.float64),
        left_is_a=np.fromiter((1 if o == "AB" else 0 if o == "BA" else -1 for o in order), dtype=np.int64,
                              count=len(order)),
        active_ms=np.array([np.nan if a is None else a for a in active], dtype=np.float64),
        len_a=np.asarray(len_a, dtype=np.int64), len_b=np.asarray(len_b, dtype=np.int64),
        gold=np.asarray(gold, dtype=np.int64), syc_side=np.asarray(syc_side, dtype=np.int64),
        syc_suite=np.asarray(syc_suite, dtype=np.int64), rater_names=[str(n) for n in rater_names],
        suite_names=suites,
    )
    repeats = dg.RepeatPairs(
        unit=np.searchsorted(comparison_ids, np.asarray(r_comp, dtype=np.int64)).astype(np.int64),
        rater=repeat_rater.astype(np.int64), first=_choice_codes(r_first), second=_choice_codes(r_second),
        first_version=_version_numbers(r_first_version), second_version=_version_numbers(r_version))
    return Loaded(data=data, origin=np.fromiter((origin_code[o] for o in origin), dtype=np.int64, count=len(origin)),
                  guideline=_version_numbers(version), comparison_ids=comparison_ids, repeats=repeats)


def _choice_codes(choices) -> np.ndarray:
    return np.fromiter((CHOICE_CODE[c] for c in choices), dtype=np.int64, count=len(choices))


def _version_numbers(numbers) -> np.ndarray:
    return np.array([0 if v is None else v for v in numbers], dtype=np.int64)
