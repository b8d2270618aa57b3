"""The diagnostics report on a project's judgments: the LLMFAO crowd judgments imported with
import_judgments are the reference case; the CLI JSON keeps its stable core."""
import csv
import io
import json
import os
from pathlib import Path

import krippendorff
import numpy as np
import pytest
from django.core.management import CommandError, call_command

SHARED_DATA = Path(os.environ.get("WB_SHARED_DATA", "/work/shared/data"))
CROWD = SHARED_DATA / "llmfao_crowd_comparisons_dev.csv"
STABLE_CORE = ("agreement.krippendorff_alpha_nominal", "agreement.fleiss_kappa", "agreement.raw_pairwise",
               "position_bias.overall_p_left", "length_bias.overall_p_longer")
pytestmark = pytest.mark.skipif(not CROWD.exists(), reason="LLMFAO dev data not present")


def dig(report, path):
    for part in path.split("."):
        report = report[part]
    return report


def run_json(*args) -> dict:
    out = io.StringIO()
    call_command("diagnostics", "--project", "demo", "--json", "--resamples", "200", *args, stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture
def llmfao(world):
    call_command("import_comparisons", str(SHARED_DATA / "llmfao_pairs_dev.jsonl"), "--project", "demo",
                 stdout=io.StringIO())
    call_command("import_judgments", str(CROWD), "--project", "demo", "--source", "llmfao-crowd",
                 stdout=io.StringIO())
    return world


def test_cli_json_on_the_imported_llmfao_crowd_equals_the_reference_figures(llmfao):
    report = run_json()
    for path in STABLE_CORE:
        fig = dig(report, path)
        assert set(fig) >= {"value", "ci_low", "ci_high", "n"}, path
    rows = list(csv.DictReader(CROWD.open()))
    assert report["n_judgments"] == len(rows)
    assert report["n_raters"] == len({r["worker"] for r in rows})
    # The figures from shared/data/README.md, and the krippendorff package on the file itself.
    pairs = sorted({r["id"] for r in rows})
    counts = np.zeros((len(pairs), 3))
    code = {"left": 0, "right": 1, "tie": 2}
    for r in rows:
        counts[pairs.index(r["id"]), code[r["winner"]]] += 1
    alpha = report["agreement"]["krippendorff_alpha_nominal"]
    assert alpha["value"] == pytest.approx(krippendorff.alpha(value_counts=counts, level_of_measurement="nominal"),
                                           abs=1e-6)
    assert alpha["ci_low"] < alpha["value"] < alpha["ci_high"]
    assert report["agreement"]["raw_pairwise"]["value"] == pytest.approx(0.523, abs=5e-4)
    assert report["agreement"]["raw_pairwise_no_ties"]["value"] == pytest.approx(0.711, abs=5e-4)
    # All imported: one origin in the breakdown, guideline version unknown; the file says which
    # model was shown on the left, so position bias is measured on every decided judgment.
    assert list(report["by_origin"]) == ["import"]
    assert report["by_origin"]["import"]["agreement"]["krippendorff_alpha_nominal"] == alpha
    assert list(report["by_guideline_version"]) == ["unknown"]
    assert report["position_bias"]["overall_p_left"]["n"] > 500
    assert report["length_bias"]["overall_p_longer"]["n"] > 1500
    assert len(report["raters"]) == report["n_raters"]
    assert all(r["dawid_skene"]["value"] is not None for r in report["raters"])


def test_filters_select_judgments_and_csv_lists_every_figure(llmfao):
    assert run_json("--origin", "here")["n_judgments"] == 0
    full = run_json()
    one = max(full["raters"], key=lambda r: r["n_judgments"])
    only = run_json("--rater", one["rater"])
    assert only["n_judgments"] == one["n_judgments"] and only["n_raters"] == 1
    out = io.StringIO()
    call_command("diagnostics", "--project", "demo", "--csv", "--resamples", "50", stdout=out)
    rows = {r["metric"]: r for r in csv.DictReader(io.StringIO(out.getvalue()))}
    assert float(rows["agreement.raw_pairwise"]["value"]) == pytest.approx(0.523, abs=5e-4)
    assert f"raters[{one['rater']}].loo_majority" in rows


def test_bad_options_name_the_field(llmfao):
    with pytest.raises(CommandError, match="since"):
        call_command("diagnostics", "--project", "demo", "--since", "yesterday")
    with pytest.raises(CommandError, match="no project"):
        call_command("diagnostics", "--project", "nope")
