"""Pick the device, precision and thread count from what the machine has, checked rather than assumed."""
from __future__ import annotations

import os
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
