"""Quick checks of a training request that load no weights: what a form or a command can ask before
it queues a run. train() makes the same checks again (through load_base) before any step."""
from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never download anything at run time


class BaseModelError(ValueError):
    """A base model that cannot be trained from; the message says why."""


def first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def check_base_model(base_model: str, max_length: int):
    """Read the base's config (not its weights); raise BaseModelError if it cannot be loaded, is a
    classifier with several outputs, or supports fewer positions than `max_length`. Return the config."""
    base_config = _read_config(base_model)
    labels = getattr(base_config, "num_labels", 1)
    architectures = getattr(base_config, "architectures", None) or []
    if any(a.endswith("ForSequenceClassification") for a in architectures) and labels != 1:
        raise BaseModelError(f"base model {base_model!r} is a classifier with {labels} outputs, not a reward "
                             f"model or a bare encoder; pick a model with one output or none")
    if max_length < 8:
        raise BaseModelError(f"max_length {max_length} is too short to hold a prompt and a response")
    limit = getattr(base_config, "max_position_embeddings", None) or getattr(base_config, "n_positions", None)
    if limit and max_length > limit:
        raise BaseModelError(f"max_length {max_length} is beyond what {base_model!r} supports ({limit} positions)")
    return base_config


def _read_config(base_model: str):
    """A local folder's config.json read as JSON (milliseconds: a web form can afford it), else
    transformers' AutoConfig (hub ids in the local cache; importing transformers takes seconds)."""
    folder = Path(base_model).expanduser()
    if folder.is_dir() and (folder / "config.json").is_file():
        try:
            values = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise BaseModelError(f"base model {base_model!r} cannot be loaded: config.json is not valid JSON "
                                 f"({first_line(error)})") from None
        if not isinstance(values, dict):
            raise BaseModelError(f"base model {base_model!r} cannot be loaded: config.json is not a JSON object")
        values.setdefault("num_labels", len(values.get("id2label") or {}) or 2)
        if not values.get("architectures") or not any(a.endswith("ForSequenceClassification")
                                                      for a in values["architectures"]):
            values["num_labels"] = 1  # a bare encoder gets a fresh one-output head
        return SimpleNamespace(**values)
    from transformers import AutoConfig

    try:
        return AutoConfig.from_pretrained(base_model)
    except (OSError, ValueError) as error:
        raise BaseModelError(f"base model {base_model!r} cannot be loaded: {first_line(error)}") from None
