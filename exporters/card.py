"""The Hugging Face dataset card (README.md): YAML `configs` + `dataset_info`, then the manifest facts."""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import yaml


def write_card(path: Path, manifest: dict, files: dict, schema: pa.Schema, sinks: dict, paths: dict) -> None:
    from datasets import Features  # the library's own mapping from Arrow types to card features

    splits = list(paths)
    header = {
        "configs": [{"config_name": "default",
                     "data_files": [{"split": s, "path": paths[s]} for s in splits]}],
        "dataset_info": {
            "features": Features.from_arrow_schema(schema)._to_yaml_list(),
            "splits": [{"name": s, "num_bytes": int(sinks[s].nbytes), "num_examples": int(sinks[s].rows)}
                       for s in splits],
            "download_size": int(sum(files[paths[s]]["bytes"] for s in splits)),
            "dataset_size": int(sum(sinks[s].nbytes for s in splits)),
        },
        "tags": ["preference", "trl", "human-feedback"],
    }
    request = manifest["request"]
    counts = manifest["counts"]
    agreement = manifest["agreement"]
    lines = [
        "---", yaml.safe_dump(header, sort_keys=False, allow_unicode=True).rstrip(), "---", "",
        "# Preference dataset", "",
        f"Exported by the Preference Workbench: format `{request['format']}`, aggregation "
        f"`{request['aggregate']}`, ties `{request['ties']}`, scale `{request['scale']}`.", "",
        "```python",
        "from datasets import load_dataset",
        'ds = load_dataset("path/to/this/folder")',
        "```", "",
        "## Counts", "",
        f"- judgments read: {counts['judgments_read']} (comparisons: {counts['comparisons_read']})",
        f"- rows written: {counts['rows_written']} ({', '.join(f'{k}: {v}' for k, v in counts['rows'].items())})",
        f"- dropped judgments: {_reasons(counts['dropped_judgments'])}",
        f"- dropped comparisons: {_reasons(counts['dropped_comparisons'])}", "",
        "## Guideline versions", "",
        "| version | sha256 | judgments |", "|---|---|---|",
        *[f"| {g['version'] if g['version'] is not None else 'unknown'} | `{g['sha256'] or 'unknown'}` "
          f"| {g['judgments']} |" for g in manifest["guideline_versions"]], "",
        "## Agreement of the selected judgments", "",
        f"Bootstrap over comparisons, {agreement['bootstrap']['resamples']} resamples, "
        f"{int(agreement['bootstrap']['level'] * 100)} % interval.", "",
        "| figure | value | interval | comparisons |", "|---|---|---|---|",
        *[_figure_row(name, agreement[name]) for name in
          ("raw_pairwise", "raw_pairwise_without_ties", "krippendorff_alpha_nominal")], "",
        "## Bias", "",
        "| figure | value | interval | judgments | p (vs 0.5) |", "|---|---|---|---|---|",
        _figure_row("position: chose the left response", manifest["position_bias"]["p_left"], p=True),
        _figure_row("length: chose the longer response", manifest["length_bias"]["p_longer"], p=True), "",
        "## Margins", "",
        f"Strength to `margin`: {json.dumps(manifest['margins']['mapping'])}; no strength: "
        f"{manifest['margins']['no_strength']}.", "",
        "## Provenance", "",
        "```json", json.dumps({"request": request, "code_version": manifest["code_version"],
                               "provenance": manifest["provenance"]}, indent=2, ensure_ascii=False), "```", "",
        "## Files", "",
        "| file | rows | sha256 |", "|---|---|---|",
        *[f"| `{name}` | {entry.get('rows', '')} | `{entry['sha256']}` |" for name, entry in sorted(files.items())],
        "", "`manifest.json` beside this card holds the same facts and the SHA-256 of this card.", "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


def _reasons(reasons: dict) -> str:
    return ", ".join(f"{k}: {v}" for k, v in reasons.items()) or "none"


def _figure_row(name: str, fig: dict, p: bool = False) -> str:
    def fmt(x):
        return "n/a" if x is None else f"{x:.3f}"
    row = f"| {name} | {fmt(fig['value'])} | [{fmt(fig['ci_low'])}, {fmt(fig['ci_high'])}] | {fig['n']} |"
    return row + (f" {fmt(fig.get('p_value'))} |" if p else "")
