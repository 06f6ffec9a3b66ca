"""Numeric precision that fits the hardware: bf16 where the device computes it fast, fp32 otherwise.

`auto` resolves to bf16 on a CUDA device that supports it and on a CPU with bf16 matrix units (Intel AMX
or AVX512-BF16: torch's oneDNN kernels use them), and to fp32 elsewhere (e.g. an AMD EPYC with AVX2 only,
where bf16 is emulated and slower than fp32). `fp32` and `bf16` force the choice.

`VALIND_CPU_BF16=1|0` overrides the CPU detection (the test suite sets 0, so results do not depend on
which CPU runs the tests; tests that exercise bf16 ask for it explicitly).
"""

from __future__ import annotations

import functools
import os
import platform
from typing import Literal

Precision = Literal["auto", "fp32", "bf16"]
PRECISIONS = ("auto", "fp32", "bf16")
BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")  # /proc/cpuinfo flags of CPUs with fast bf16 matrix arithmetic


def _cpuinfo() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return ""


def cpu_flags(cpuinfo: str | None = None) -> set[str]:
    """The CPU's feature flags (from /proc/cpuinfo; empty where it is not readable)."""
    text = _cpuinfo() if cpuinfo is None else cpuinfo
    for line in text.splitlines():
        if line.startswith("flags") and ":" in line:
            return set(line.split(":", 1)[1].split())
    return set()


@functools.lru_cache(maxsize=1)
def cpu_model() -> str:
    """The CPU's model name, for every speed figure (e.g. 'AMD EPYC', 'Intel(R) Xeon(R) Platinum 8480+')."""
    for line in _cpuinfo().splitlines():
        if line.startswith("model name") and ":" in line:
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown CPU"


def cpu_has_fast_bf16(cpuinfo: str | None = None) -> bool:
    """Whether the CPU has bf16 matrix units (AMX-BF16 or AVX512-BF16), unless VALIND_CPU_BF16 says otherwise."""
    forced = os.environ.get("VALIND_CPU_BF16")
    if forced in ("0", "1") and cpuinfo is None:
        return forced == "1"
    return bool(cpu_flags(cpuinfo) & set(BF16_CPU_FLAGS))


def device_has_fast_bf16(device: str | None = None) -> bool:
    """bf16 is fast on `device` ('cuda' / 'cpu'; default: CUDA when available, else the CPU)."""
    import torch  # heavy: only when a precision is resolved

    cuda = torch.cuda.is_available() if device is None else str(device).startswith("cuda")
    if cuda:
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    return cpu_has_fast_bf16()


def resolve_precision(setting: str = "auto", device: str | None = None) -> Literal["fp32", "bf16"]:
    """`auto` -> bf16 where the device has fast bf16, else fp32; `fp32` / `bf16` as given."""
    if setting not in PRECISIONS:
        raise ValueError(f"precision {setting!r}: use one of {', '.join(PRECISIONS)}")
    if setting == "auto":
        return "bf16" if device_has_fast_bf16(device) else "fp32"
    return setting  # type: ignore[return-value]


def torch_dtype(setting: str = "auto", device: str | None = None):
    """The torch dtype of a resolved precision."""
    import torch

    return torch.bfloat16 if resolve_precision(setting, device) == "bf16" else torch.float32


def describe(device: str | None = None) -> str:
    """One line naming the device and what `auto` picks there, for logs and benchmark headers."""
    import torch

    if (device or ("cuda" if torch.cuda.is_available() else "cpu")).startswith("cuda"):
        name = torch.cuda.get_device_name(0)
    else:
        flags = sorted(cpu_flags() & set(BF16_CPU_FLAGS))
        name = f"{cpu_model()} ({os.cpu_count()} cores; bf16 units: {', '.join(flags) or 'none'})"
    return f"{name}; precision auto -> {resolve_precision('auto', device)}"
