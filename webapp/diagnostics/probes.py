"""Which sycophancy probe suites a project has: the suites shipped in fixtures/probes
(prefkit.probes), plus the ones its leads uploaded (models.ProbeSuite). An uploaded suite named
like a shipped one takes its place for that project. Reads only; the writes are in services.py."""
from collections import Counter
from dataclasses import dataclass

from prefkit import probes
from webapp.comparisons.models import Comparison
from webapp.diagnostics.models import ProbeSuite

PROBE_SUITE_FIELD = f"metadata__{probes.METADATA_KEY}__suite"


def suites_for(project) -> dict[str, list[probes.ProbeItem]]:
    """The probe suites to score a project's reward models on, by suite name: the shipped ones,
    then the project's own (replacing a shipped one of the same name). None: the shipped ones."""
    suites = probes.built_in_suites()
    if project is not None:
        for suite in ProbeSuite.objects.filter(project=project).order_by("name"):
            suites[suite.name] = suite.probe_items()
    return suites


def queued_item_ids(project, suite_name: str) -> set[str]:
    """Item ids of the suite already mixed into the project's queue."""
    return {str(item) for item in Comparison.objects.filter(project=project, **{PROBE_SUITE_FIELD: suite_name})
            .values_list(f"metadata__{probes.METADATA_KEY}__item", flat=True)}


@dataclass(frozen=True)
class SuiteRow:
    """One line of the diagnostics page's list of suites."""
    name: str
    items: int
    source: str                     # shipped | uploaded
    uploaded: ProbeSuite | None     # the upload, when source is uploaded
    overrides_built_in: bool
    queued: int                     # comparisons of this suite in the project's queue


def suite_rows(project) -> list[SuiteRow]:
    shipped = probes.built_in_suites()
    uploaded = {s.name: s for s in ProbeSuite.objects.filter(project=project).select_related("uploaded_by")}
    queued = Counter(Comparison.objects.filter(project=project, metadata__has_key=probes.METADATA_KEY)
                     .values_list(PROBE_SUITE_FIELD, flat=True))
    rows = [SuiteRow(name, len(items), "shipped", None, False, queued[name])
            for name, items in shipped.items() if name not in uploaded]
    rows += [SuiteRow(name, s.item_count, "uploaded", s, name in shipped, queued[name]) for name, s in uploaded.items()]
    return sorted(rows, key=lambda r: (r.source != "shipped" and not r.overrides_built_in, r.name))
