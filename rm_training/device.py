"""Pick the device, precision and thread count from what the machine has, checked rather than assumed."""
from __future__ import annotations

import os
import types
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """Return the CPU feature flags the kernel reports (empty where /proc/cpuinfo is absent)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def bf16_supported() -> bool:
    """Return True where bf16 math is fast: CUDA with bf16, or a CPU with AVX512-BF16 or AMX.

    Without those instructions torch still runs bf16 on CPU, but emulated and slower than fp32.
    """
    import torch

    if torch.cuda.is_available():
        return torch.cuda.is_bf16_supported()
    return bool({"avx512_bf16", "amx_bf16"} & cpu_flags())


def use_bf16(precision: str) -> bool:
    """Resolve a config's precision ("auto", "bf16", "fp32") to a yes/no, refusing bf16 where unsupported."""
    if precision == "fp32":
        return False
    if precision == "bf16":
        if not bf16_supported():
            raise ValueError("precision 'bf16' asked for, but this machine has no bf16 support "
                             "(no CUDA bf16, no avx512_bf16/amx_bf16 CPU flag); use 'auto' or 'fp32'")
        return True
    if precision == "auto":
        return bf16_supported()
    raise ValueError(f"precision must be 'auto', 'bf16' or 'fp32', not {precision!r}")


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def set_threads(threads: int | None) -> int:
    """Use every core this process may run on (torch's default can differ under cgroups); return it."""
    import torch

    count = threads or usable_cpus()
    torch.set_num_threads(count)
    return count


def load_classifier(path, **kwargs):
    """Load a one-output sequence classifier (a reward model) from a local folder, as every loader here does.

    Hub kernels off: from 5.25 transformers kernelizes on CUDA by default with code fetched from the Hub,
    and loading fails offline or without the `kernels` package (seen on an H200); CPU runs are unaffected.
    """
    from transformers import AutoModelForSequenceClassification

    return AutoModelForSequenceClassification.from_pretrained(path, num_labels=1, use_kernels=False, **kwargs)


def keep_head_in_fp32(model) -> list[str]:
    """Run the reward head (the pooler, where the model has one, and the classifier) outside bf16 autocast.

    Under autocast the head's Linear layers round their output to bf16, whose 8 significant bits space
    values near a trained reward of 2 by 0.016: two replies a reward model tells apart by less come out
    equal (an exact tie, which counts as wrong), and in training the loss sees the same rounded
    differences. The encoder's last LayerNorm already returns fp32, so the head costs one matrix-vector
    product per sequence more in fp32, nothing measurable. Weights are untouched (the state dict and saved
    folders are the same); returns the names of the modules changed.
    """
    import torch

    base = getattr(model, getattr(model, "base_model_prefix", ""), None)
    named = [("pooler", getattr(base, "pooler", None))]
    named += [(name, getattr(model, name, None)) for name in ("pre_classifier", "classifier", "score")]
    changed = []
    for name, module in named:
        weights = next(module.parameters(), None) if isinstance(module, torch.nn.Module) else None
        if weights is None or not weights.dtype.is_floating_point or "forward" in vars(module):
            continue  # no weights, int8, or already wrapped
        # Bound to the module, not closing over its forward: a deep copy of the model rebinds to the copy.
        module.forward = types.MethodType(_forward_outside_autocast, module)
        changed.append(name)
    return changed


def _forward_outside_autocast(module, *args, **kwargs):
    """The module's own forward with autocast off and floating inputs cast to its weights' dtype."""
    import torch

    dtype = next(module.parameters()).dtype
    device_type = next((a.device.type for a in args if torch.is_tensor(a)), "cpu")
    args = [a.to(dtype) if torch.is_tensor(a) and a.is_floating_point() else a for a in args]
    with torch.autocast(device_type, enabled=False):
        return type(module).forward(module, *args, **kwargs)
