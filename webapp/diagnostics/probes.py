"""Which sycophancy probe suites a project's reward-model diagnostics run: the suites shipped in
fixtures/probes (prefkit.probes), by name."""

from prefkit import probes


def suites_for(project) -> dict[str, list[probes.ProbeItem]]:
    """The probe suites to score a project's reward models on, by suite name."""
    return probes.built_in_suites()
