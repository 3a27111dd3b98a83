"""``make bench``: every measurement in order, then ``results.json``, the plots and ``REPORT.md``.

Phases (``BENCH_PHASES``, default all): ``nlu`` (cross-validation and held-out
set per language), ``stories`` (test stories per language), ``load`` (speed,
capacity and memory against stock Rasa), ``profile`` (one turn's time
split) and ``scale`` (1, 2 and 4 Rasa processes on PostgreSQL + Redis).
``BENCH_QUICK=1`` makes a small run for development whose figures are not
the real ones.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Dict, List

from bench import report, resources, scaling, speed
from bench.settings import LANGUAGES, MODEL, RESULTS, ROOT, Settings, from_environment
from common import settings as common_settings

PREFIX = "[bench] "


def log(line: str) -> None:
    """Progress for the person running the benchmark."""
    print(f"{PREFIX}{line}", flush=True)


def run_module(module: str, args: List[str], log_file: Path) -> None:
    """Run a phase in its own process; its output goes to ``log_file``, its progress lines to the console."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("w", encoding="utf-8") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert process.stdout is not None
        for line in process.stdout:
            output.write(line)
            if line.startswith(PREFIX):
                print(line.rstrip(), flush=True)
        if process.wait() != 0:
            raise RuntimeError(f"{module} failed (exit {process.returncode}); see {log_file.relative_to(ROOT)}")


def nlu_phase(settings: Settings, work: Path, logs: Path) -> Dict[str, Any]:
    """Models trained per language, and the deployed model read on every held-out set.

    Each evaluation is a process of its own; ``nlu_jobs`` of them run at once.
    """
    jobs: Dict[str, List[str]] = {}
    if settings.nlu_mode != "deployed":
        folds = settings.folds if settings.nlu_mode in ("full", "all") else 0
        per_language_model = [] if settings.nlu_mode in ("all", "heldout") else ["--no-heldout-model"]
        for language in LANGUAGES:
            jobs[language] = ["--lang", language, "--folds", str(folds), *per_language_model]
    if MODEL.exists():
        jobs["deployed"] = ["--lang", *LANGUAGES, "--deployed"]

    def evaluate(name: str) -> Dict[str, Any]:
        out = work / f"nlu-{name}.json"
        run_module("bench.nlu_eval", [*jobs[name], "--out", str(out)], logs / f"nlu-{name}.log")
        return json.loads(out.read_text())

    results: Dict[str, Dict[str, Any]] = {language: {} for language in LANGUAGES}
    with ThreadPoolExecutor(max_workers=settings.nlu_jobs) as pool:
        for figures in pool.map(evaluate, jobs):
            for language, values in figures.items():
                results[language].update(values)
    return results


def stories_phase(settings: Settings, work: Path, logs: Path) -> Dict[str, Any]:
    """Test stories per language."""
    out = work / "stories.json"
    run_module("bench.stories_eval", ["--out", str(out)], logs / "stories.log")
    return json.loads(out.read_text())


def conversations_phase(settings: Settings, work: Path, logs: Path) -> Dict[str, Any]:
    """Whole prospect conversations per language, judged field by field on the lead."""
    out = work / "conversations.json"
    run_module("bench.whole_conversations", ["--out", str(out)], logs / "conversations.log")
    return json.loads(out.read_text())


def _git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except OSError:
        return ""


def meta(settings: Settings) -> Dict[str, Any]:
    """What the figures were measured on."""
    import rasa

    url = common_settings.database_url() or ""
    return {
        "quick": settings.quick,
        "phases": list(settings.phases),
        "nlu_mode": settings.nlu_mode,
        "nlu_jobs": settings.nlu_jobs,
        "folds": settings.folds if settings.nlu_mode in ("full", "all") else 0,
        "load_levels": [vars(level) for level in settings.load_levels],
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "commit": _git_commit(),
        "cpus": os.cpu_count(),
        "load_average_at_start": os.getloadavg()[0],
        "python": platform.python_version(),
        "rasa": rasa.__version__,
        "database": url.split(":", 1)[0] if url else "sqlite (temporary file)",
        "model_older_than": resources.newer_than_model(ROOT),
    }


def main() -> int:
    """Run the phases, write the results and the report; non-zero exit when a phase failed."""
    settings = from_environment()
    logs = RESULTS / "logs"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    started = time.perf_counter()
    results: Dict[str, Any] = {"meta": meta(settings), "phase_seconds": {}}
    if settings.quick:
        log("BENCH_QUICK: a small run for development; its figures are not the real ones")
    phases: Dict[str, Callable[[Settings, Path, Path], Dict[str, Any]]] = {
        "nlu": nlu_phase,
        "stories": stories_phase,
        "conversations": conversations_phase,
        "speed": lambda s, w, l: speed.run(s, w, l, log),
        "scale": lambda s, w, l: scaling.run(s, w, l, log),
    }
    wanted = {
        "nlu": "nlu" in settings.phases,
        "stories": "stories" in settings.phases,
        "conversations": "conversations" in settings.phases,
        "speed": bool({"load", "profile"} & set(settings.phases)),
        "scale": "scale" in settings.phases and bool(settings.scale_processes),
    }
    failed = []
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        for name, phase in phases.items():
            if not wanted[name]:
                continue
            log(f"Phase {name}")
            clock = time.perf_counter()
            try:
                results[name] = phase(settings, Path(folder), logs)
            except Exception as error:  # one failed phase must not cost the others' figures
                failed.append(name)
                results[name] = {"error": f"{type(error).__name__}: {error}"}
                (logs / f"{name}-error.log").write_text(traceback.format_exc())
                log(f"Phase {name} failed: {error}")
            results["phase_seconds"][name] = time.perf_counter() - clock
    results["resources"] = {
        "model_mb": resources.file_mb(MODEL),
        "recorded_training": resources.recorded_training(),
        "nlu_training": resources.summarise_nlu_training(results["nlu"].values())
        if results.get("nlu") and "error" not in results["nlu"]
        else None,
    }
    results["meta"]["wall_seconds"] = time.perf_counter() - started
    results["meta"]["load_average_at_end"] = os.getloadavg()[0]
    results["targets"] = report.check_targets(results, settings.targets)
    (RESULTS / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    report.write(results, RESULTS)
    log(f"Done in {results['meta']['wall_seconds'] / 60:.1f} min: {(RESULTS / 'REPORT.md').relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
