"""What the numbers were measured on: CPU, cores, memory, load, Python and library versions.

Library versions come from the installed distributions' metadata, so recording them imports
nothing (in particular not TensorFlow).
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import sys
from importlib import metadata

DISTRIBUTIONS = ("inkcast", "numpy", "ai-edge-litert", "onnxruntime", "tensorflow", "tf-keras", "matplotlib")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def usable_cores() -> int:
    """Cores this process may run on (the affinity mask, which containers and taskset narrow)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def load_average() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def mem_total_mb() -> float | None:
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def proc_status_mb(key: str = "VmHWM") -> float | None:
    """A memory line of /proc/self/status in MB: ``VmHWM`` = this address space's peak RSS.

    (Not ``ru_maxrss``: Linux carries it over fork+exec, so a child reports its parent's peak.)"""
    try:
        with open("/proc/self/status", encoding="utf-8") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in DISTRIBUTIONS:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def machine_info() -> dict:
    return {
        "cpu_model": cpu_model(),
        "cores_usable": usable_cores(),
        "cores_total": os.cpu_count(),
        "memory_mb": mem_total_mb(),
        "platform": platform.platform(),
        "python_executable": sys.executable,
        "versions": versions(),
        "load_average_start": load_average(),
        "started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
