"""Files on disk: reproducible bytes, safe writes, the split, the manifest and the dataset card."""
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from exporters import ExportError, ExportRequest, write_export
from tests.exporters import fixture
from tests.exporters.conftest import read_jsonl


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("file_format", ["jsonl", "parquet", "hf"])
@pytest.mark.parametrize("fmt,aggregate", [("trl-standard", "majority"), ("trl-conversational", "dawid-skene"),
                                           ("raw", "none")])
def test_same_request_same_bytes(export, file_format, fmt, aggregate):
    kw = dict(format=fmt, aggregate=aggregate, file_format=file_format, test_fraction=0.4, seed=3,
              provenance={"export_id": 7, "project": "demo"})
    first, m1 = export(**kw)
    second, m2 = export(**kw)
    assert files_of(first) == files_of(second)
    assert m1 == m2
    assert len(files_of(first)) >= 2


def test_manifest_hashes_every_file_and_loads_back(export):
    folder, manifest = export(format="trl-standard", aggregate="majority", file_format="hf", test_fraction=0.4,
                              provenance={"export_id": 7})
    on_disk = files_of(folder)
    assert set(on_disk) == set(manifest["files"]) | {"manifest.json"}
    for name, entry in manifest["files"].items():
        assert entry["sha256"] == hashlib.sha256(on_disk[name]).hexdigest()
        assert entry["bytes"] == len(on_disk[name])
    assert json.loads(on_disk["manifest.json"]) == manifest
    assert manifest["provenance"] == {"export_id": 7}
    assert manifest["guideline_versions"] == [
        {"version": 1, "sha256": "1" * 64, "judgments": 17},
        {"version": 2, "sha256": "2" * 64, "judgments": 1},
        {"version": None, "sha256": None, "judgments": 1}]
    assert manifest["code_version"]["package"] == "0.1.0"
    card = on_disk["README.md"].decode()
    # the same facts in the card: counts, drop reasons, guideline hashes, agreement, data file hashes
    assert "judgments read: 19" in card and "split_vote: 1" in card and "2" * 64 in card
    assert f"{manifest['agreement']['krippendorff_alpha_nominal']['value']:.3f}" in card
    for name in manifest["splits"].values():
        assert manifest["files"][name["path"]]["sha256"] in card


def test_parquet_has_pinned_options_and_row_groups(export):
    folder, _ = export(format="raw", aggregate="none", file_format="parquet")
    meta = pq.ParquetFile(folder / "train.parquet").metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"
    assert b"pandas" not in b"".join(meta.metadata or {})  # no pandas metadata (no index, no timestamps)


def test_split_is_by_prompt_and_follows_the_seed(export):
    seen = []
    for seed in (0, 1, 2, 3):
        folder, manifest = export(format="raw", aggregate="none", ties="keep", test_fraction=0.5, seed=seed)
        train = {r["prompt_id"] for r in read_jsonl(folder / "train.jsonl")}
        test = {r["prompt_id"] for r in read_jsonl(folder / "test.jsonl")}
        assert not train & test and train | test == {1, 2, 3, 4, 5, 6}
        assert manifest["counts"]["rows"]["test"] == len(read_jsonl(folder / "test.jsonl"))
        seen.append(frozenset(test))
    assert len(set(seen)) > 1  # the seed matters


def test_progress_is_called_and_a_raising_callback_leaves_nothing(tmp_path):
    class Cancelled(Exception):
        pass

    calls = []

    def many_groups():  # enough judgments for several progress ticks
        for i in range(4000):
            c = fixture.COMPARISONS[0]._replace(comparison_id=i + 1, prompt_id=i)
            yield c, [j._replace(comparison_id=i + 1, judgment_id=10 * i + k)
                      for k, j in enumerate(fixture.JUDGMENTS[101])]

    request = ExportRequest(format="trl-standard", aggregate="majority", ties="drop", file_format="parquet",
                            scale="seven_point")
    write_export(many_groups, request, tmp_path / "ok", progress=lambda *a: calls.append(a), total_judgments=12000)
    assert calls[0][1:] == (12000, "exporting") and calls[-1][0] == 12000
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)

    def cancel(done, total, message):
        if done >= 5000:
            raise Cancelled

    with pytest.raises(Cancelled):
        write_export(many_groups, request, tmp_path / "cancelled", progress=cancel)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok"]  # no folder, no hidden partial folder


def test_failure_mid_stream_leaves_nothing(tmp_path):
    def broken():
        yield fixture.COMPARISONS[0], fixture.JUDGMENTS[101]
        raise RuntimeError("database went away")

    request = ExportRequest(format="raw", aggregate="none", ties="keep", file_format="hf", scale="seven_point")
    (tmp_path / "out").mkdir()  # an empty folder is accepted ...
    with pytest.raises(RuntimeError):
        write_export(broken, request, tmp_path / "out")
    assert [p.name for p in tmp_path.iterdir()] == ["out"] and not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize("change,field", [
    (dict(format="csv"), "format"), (dict(aggregate="mean"), "aggregate"), (dict(ties="maybe"), "ties"),
    (dict(file_format="xlsx"), "file_format"), (dict(scale="ten"), "scale"), (dict(test_fraction=1.0), "test_fraction"),
    (dict(seed="x"), "seed"), (dict(format="raw", aggregate="majority"), "aggregate"),
    (dict(aggregate="none", ties="keep"), "ties"), (dict(margins={1: 0.5}), "margins"),
    (dict(margins={"1": 0.5, 2: 1, 3: 2}), "margins"),
])
def test_bad_requests_name_the_field_and_write_nothing(tmp_path, change, field):
    base = dict(format="trl-standard", aggregate="majority", ties="drop", file_format="jsonl", scale="seven_point")
    with pytest.raises(ExportError) as err:
        write_export(fixture.groups, ExportRequest(**{**base, **change}), tmp_path / "out")
    assert err.value.field == field
    assert not any(tmp_path.iterdir())


def test_bad_output_and_bad_records(tmp_path):
    request = ExportRequest(format="trl-standard", aggregate="majority", ties="drop", file_format="jsonl",
                            scale="seven_point")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("keep me")
    with pytest.raises(ExportError, match="not empty") as err:
        write_export(fixture.groups, request, tmp_path / "full")
    assert err.value.field == "output" and (tmp_path / "full" / "x").read_text() == "keep me"

    with pytest.raises(ExportError, match="no judgments") as err:
        write_export(lambda: iter(()), request, tmp_path / "empty")
    assert err.value.field == "filters"

    def unordered():
        return iter([(fixture.COMPARISONS[1], fixture.JUDGMENTS[102]), (fixture.COMPARISONS[0], fixture.JUDGMENTS[101])])
    with pytest.raises(ExportError, match="ordered by comparison_id"):
        write_export(unordered, request, tmp_path / "unordered")

    def bad_choice():
        return iter([(fixture.COMPARISONS[0], [fixture.JUDGMENTS[101][0]._replace(choice="left")])])
    with pytest.raises(ExportError, match="judgment 11: choice") as err:
        write_export(bad_choice, request, tmp_path / "choice")
    assert err.value.field == "choice"

    def bad_prompt():
        return iter([(fixture.COMPARISONS[1]._replace(prompt_messages=[{"role": "assistant", "content": "x"}]),
                      fixture.JUDGMENTS[102])])
    with pytest.raises(ExportError, match="comparison 102: prompt_messages must end with a user turn"):
        write_export(bad_prompt, request, tmp_path / "prompt")

    def only_ties():
        return iter([(fixture.COMPARISONS[6], fixture.JUDGMENTS[107])])
    with pytest.raises(ExportError, match="none of the 2 selected judgments made a row"):
        write_export(only_ties, request, tmp_path / "ties")

    import datetime
    with pytest.raises(ExportError, match="provenance must be JSON-serialisable") as err:
        write_export(fixture.groups, request, tmp_path / "prov", provenance={"at": datetime.datetime.now()})
    assert err.value.field == "provenance"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full"]


def test_exporters_import_without_django():
    code = ("import sys, exporters, exporters.export, exporters.stats, prefkit.agreement; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('django', 'webapp', 'rm_training', 'torch')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stdout + result.stderr


def test_manifest_agreement_equals_the_krippendorff_package_on_the_fixture(export, monkeypatch):
    import krippendorff
    import numpy as np

    from exporters import stats

    raters = sorted({j.rater for js in fixture.JUDGMENTS.values() for j in js})
    labels = {"a": 0, "b": 1, "tie": 2, "both_bad": 3}
    data = np.full((len(raters), len(fixture.COMPARISONS)), np.nan)
    for col, c in enumerate(fixture.COMPARISONS):
        for j in fixture.JUDGMENTS[c.comparison_id]:
            data[raters.index(j.rater), col] = labels[j.choice]
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")

    _, manifest = export(format="raw", aggregate="none", ties="keep")
    alpha = manifest["agreement"]["krippendorff_alpha_nominal"]
    assert alpha["value"] == round(expected, 6) and alpha["computed_by"] == "krippendorff"
    assert alpha["n"] == 7 and alpha["ci_low"] < alpha["value"] < alpha["ci_high"]
    # above the package's size limit the pattern formula takes over with the same number
    monkeypatch.setattr(stats, "PACKAGE_ALPHA_MAX_UNITS", 0)
    _, manifest = export(format="raw", aggregate="none", ties="keep")
    alpha = manifest["agreement"]["krippendorff_alpha_nominal"]
    assert alpha["value"] == round(expected, 6) and alpha["computed_by"] == "prefkit.agreement"
    # pairwise: 101 (a a b) 1/3, 102 (a t t) 1/3, 103 3/3, 104 0/1, 105 1/3, 106 1/3, 107 1/1 -> 8/17
    assert manifest["agreement"]["raw_pairwise"]["value"] == round(8 / 17, 6)
    # position, by hand: of the 12 a/b judgments with a known order, 11, 32, 41, 53 and 63 chose the left one
    assert manifest["position_bias"]["p_left"]["value"] == round(5 / 12, 6)


def test_a_split_without_rows_gets_no_file_and_the_folder_still_loads(export, tmp_path):
    import datasets

    folder, manifest = export(format="trl-conversational", aggregate="majority", file_format="hf",
                              test_fraction=0.001)
    assert manifest["counts"]["rows"] == {"train": 4, "test": 0}
    assert list(manifest["splits"]) == ["train"] and not (folder / "data" / "test-00000-of-00001.parquet").exists()
    assert set(datasets.load_dataset(str(folder), cache_dir=str(tmp_path / "c"))) == {"train"}
