"""Resources: memory of running servers (sampled from /proc), model size, training time."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Dict, Iterable, List, Optional

from bench.settings import MODEL

TRAIN_RECORD = MODEL.with_name(MODEL.name.replace(".tar.gz", ".train-seconds"))


def _status_kb(pid: int, field: str) -> Optional[int]:
    """A ``kB`` field (``VmHWM``, ``VmRSS``) of ``/proc/<pid>/status``; ``None`` once the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _children(pid: int) -> List[int]:
    found: List[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text().split()
            found += [int(child) for child in text]
    except OSError:
        pass
    return found


def process_tree(pid: int) -> List[int]:
    """``pid`` and all its descendants (Sanic workers, for instance)."""
    tree, queue = [], [pid]
    while queue:
        current = queue.pop()
        tree.append(current)
        queue += _children(current)
    return tree


class MemorySampler:
    """Samples the memory of named process trees in a background thread.

    For each name it keeps the largest resident set of the whole tree seen at
    once (``peak_rss_mb``) and the sum of the high-water marks the kernel keeps
    for each process of the tree (``hwm_mb``, ``VmHWM``: the exact peak of a
    single process, an upper bound for several).
    """

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self._roots: Dict[str, int] = {}
        self._peak_rss: Dict[str, int] = {}
        self._hwm: Dict[str, Dict[int, int]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)

    def watch(self, name: str, pid: int) -> None:
        """Start sampling the process tree of ``pid`` under ``name``."""
        with self._lock:
            self._roots[name] = pid
            self._peak_rss.setdefault(name, 0)
            self._hwm.setdefault(name, {})

    def forget(self, name: str) -> None:
        """Take one last sample of ``name`` and stop sampling it (do this before stopping the process)."""
        self.sample()
        with self._lock:
            self._roots.pop(name, None)

    def sample(self) -> None:
        """Read the memory of every watched tree once."""
        with self._lock:
            roots = dict(self._roots)
        for name, root in roots.items():
            rss = 0
            for pid in process_tree(root):
                rss += _status_kb(pid, "VmRSS") or 0
                hwm = _status_kb(pid, "VmHWM")
                if hwm:
                    with self._lock:
                        self._hwm[name][pid] = max(hwm, self._hwm[name].get(pid, 0))
            with self._lock:
                self._peak_rss[name] = max(rss, self._peak_rss[name])

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> "MemorySampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def report(self) -> Dict[str, Dict[str, float]]:
        """Per name: peak tree RSS and summed high-water marks, in MB, and how many processes."""
        with self._lock:
            return {
                name: {
                    "peak_rss_mb": self._peak_rss[name] / 1024,
                    "hwm_mb": sum(self._hwm[name].values()) / 1024,
                    "processes": len(self._hwm[name]),
                }
                for name in self._peak_rss
            }


def file_mb(path: Path) -> Optional[float]:
    """Size of a file in MB, ``None`` when it does not exist."""
    return path.stat().st_size / 1e6 if path.exists() else None


def newer_than_model(root: Path) -> List[str]:
    """Training inputs changed after the model was trained (the model does not reflect them)."""
    if not MODEL.exists():
        return []
    inputs = [root / "config.yml", root / "domain.yml"] + [
        p for folder in ("data/nlu", "data/rules", "data/stories") for p in (root / folder).rglob("*.yml")
    ]
    built = MODEL.stat().st_mtime
    return sorted(str(p.relative_to(root)) for p in inputs if p.exists() and p.stat().st_mtime > built)


def recorded_training() -> Optional[Dict[str, object]]:
    """The full model's training time as ``make train`` recorded it, if it did."""
    if not TRAIN_RECORD.exists() or not MODEL.exists():
        return None
    try:
        seconds = float(TRAIN_RECORD.read_text().strip())
    except ValueError:
        return None
    if TRAIN_RECORD.stat().st_mtime + 5 < MODEL.stat().st_mtime:
        return None  # the record belongs to an older model
    return {
        "seconds": seconds,
        "recorded_at": time.strftime("%Y-%m-%d %H:%M", time.localtime(TRAIN_RECORD.stat().st_mtime)),
    }


def summarise_nlu_training(per_language: Iterable[Dict[str, object]]) -> Optional[Dict[str, float]]:
    """Total wall and CPU seconds of the NLU trainings of a run; ``None`` when it trained nothing."""
    timings = []
    for figures in per_language:
        timings += (figures.get("cv") or {}).get("fold_timings", [])
        if figures.get("heldout"):
            timings.append(figures["heldout"])
    if not timings:
        return None
    return {
        "models": len(timings),
        "train_seconds": sum(t["train_seconds"] for t in timings),
        "train_cpu_seconds": sum(t["train_cpu_seconds"] for t in timings),
    }
