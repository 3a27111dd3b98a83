"""The report is rendered from the results dict alone, with every target checked."""

from __future__ import annotations

import pytest

from bench import report
from bench.settings import from_environment


def _level(concurrency: int, p50: float, mps: float) -> dict:
    return {
        "concurrency": concurrency,
        "messages": 100,
        "p50_ms": p50,
        "p95_ms": p50 * 2,
        "p99_ms": p50 * 3,
        "messages_per_second": mps,
        "errors": 0,
    }


def _language(macro_f1: float, entity_f1: float) -> dict:
    scores = {
        "examples": 10,
        "accuracy": 0.9,
        "macro_f1": macro_f1,
        "entity_f1": entity_f1,
        "confused_pairs": [{"gold": "affirm", "predicted": "inform", "count": 2}],
        "per_entity": {"person": {"f1": entity_f1}},
        "entity_mistakes": [],
    }
    return {
        "training_examples": 40,
        "cv": {
            **scores,
            "folds": 5,
            "fold_timings": [{"fold": 1, "train_examples": 32, "train_seconds": 100.0, "train_cpu_seconds": 150.0}],
        },
        "heldout": {**scores, "train_seconds": 120.0, "train_cpu_seconds": 180.0, "train_examples": 40},
        "deployed_heldout": scores,
    }


@pytest.fixture
def results() -> dict:
    data = {
        "meta": {"quick": False, "started": "2026-11-23 10:00:00", "wall_seconds": 900.0, "cpus": 2},
        "phase_seconds": {"nlu": 600.0},
        "nlu": {"en": _language(0.95, 0.90), "fr": _language(0.93, 0.80), "pl": _language(0.91, 0.89)},
        "stories": {
            lang: {"stories": 2, "correct": 2, "share": 1.0, "action_accuracy": 1.0, "failed": []}
            for lang in ("en", "fr", "pl")
        },
        "speed": {
            "stock": {"levels": {"1": _level(1, 40.0, 20.0), "50": _level(50, 2000.0, 25.0)}},
            "assistant": {
                "levels": {"1": _level(1, 80.0, 10.0), "50": _level(50, 4000.0, 12.5)},
                "qualifications": {"conversations": 3, "lead_submitted": 3},
                "profile": {
                    "summary": {
                        "turns": 2,
                        **{
                            k: {"mean": 10.0, "p50": 10.0}
                            for k in ("total_ms", "nlu_ms", "actions_ms", "db_ms", "policies_rest_ms")
                        },
                        "share": {"nlu_ms": 0.25, "actions_ms": 0.25, "db_ms": 0.25, "policies_rest_ms": 0.25},
                    },
                    "example": {},
                },
            },
            "assistant_workers": {"skipped": "Redis is not reachable (ConnectionError)"},
            "memory": {"assistant_rasa": {"hwm_mb": 1100.0, "peak_rss_mb": 1000.0, "processes": 1}},
        },
        "resources": {"model_mb": 60.0, "recorded_training": None, "nlu_training": None},
    }
    data["targets"] = report.check_targets(data)
    return data


def _positions(first: float, fifteenth: float) -> dict:
    return {str(p): {"p50_ms": first + (fifteenth - first) * (p - 1) / 14} for p in range(1, 16)}


def _scaled(processes: int, mps: float, hwm: float) -> dict:
    return {
        "processes": processes,
        "action_servers": min(processes, 2),
        "level": {**_level(50, 3000.0, mps), "by_position": _positions(2000.0, 3000.0)},
        "rasa_hwm_mb": [hwm] * processes,
        "generator_cpu_share_of_one_core": 0.3,
        "machine_idle_share": 0.05,
    }


def test_targets_are_checked_against_the_figures(results):
    checks = {c["name"]: c for c in results["targets"]}
    assert checks["intent macro-F1, held-out, EN"]["met"] is True
    assert checks["intent macro-F1, held-out, PL"]["met"] is False
    assert checks["entity F1, held-out, FR"]["met"] is False
    top = checks["one process, throughput at 50 conversations, × stock Rasa"]
    assert top["value"] == pytest.approx(0.5) and top["target"] == 1.2 and top["met"] is False
    p95 = checks["one process, p95 latency at 50 conversations, × stock Rasa's"]
    assert p95["value"] == pytest.approx(2.0) and p95["target"] == 1.0 and p95["met"] is False
    memory = checks["peak memory (VmHWM) of the Rasa process, one process, MB"]
    assert memory["target"] == 750 and memory["met"] is False


def test_the_issue_targets_are_met_by_figures_that_meet_them(results):
    results["speed"]["assistant"]["levels"]["50"] = {
        **_level(50, 1500.0, 31.0),
        "p95_ms": 3900.0,
        "by_position": _positions(1000.0, 1250.0),
    }
    results["speed"]["memory"]["assistant_rasa"]["hwm_mb"] = 700.0
    results["scale"] = {"configurations": [_scaled(1, 30.0, 690.0), _scaled(2, 50.0, 720.0), _scaled(4, 70.0, 760.0)]}
    checks = {c["name"]: c for c in report.check_targets(results) if c["group"] == "speed"}
    met = {name: c["met"] for name, c in checks.items()}
    assert met == {
        "one process, throughput at 50 conversations, × stock Rasa": True,  # 31 / 25 = 1.24
        "one process, p95 latency at 50 conversations, × stock Rasa's": True,  # 3900 / 4000
        "one process, p50 latency of message 15 × message 1's, at 50 conversations": True,  # 1.25
        "peak memory (VmHWM) of the Rasa process, one process, MB": True,
        "peak memory (VmHWM) of each Rasa process, 1/2/4 processes on PostgreSQL + Redis, largest, MB": False,
    }
    assert checks["one process, p50 latency of message 15 × message 1's, at 50 conversations"]["value"] == 1.25
    text = report.render({**results, "targets": report.check_targets(results)})
    assert "| 4 | 2 | 50 | 100 | 70.0 | 2.33× | 2.80× |" in text, "the scaling table: × 1 process, × stock"
    assert "| one process, p95 latency at 50 conversations, × stock Rasa's | 0.97× | ≤ 1.00× | met |" in text


def test_without_trained_models_the_deployed_model_is_checked(results):
    for language in ("en", "fr", "pl"):
        results["nlu"][language] = {"deployed_heldout": results["nlu"][language]["heldout"]}
    checks = {c["name"]: c for c in report.check_targets(results)}
    assert checks["intent macro-F1, held-out, EN (deployed model)"]["value"] == 0.95
    assert checks["entity F1, held-out, FR (deployed model)"]["met"] is False


def test_missing_figures_are_not_measured_rather_than_met():
    checks = report.check_targets({"meta": {}})
    assert checks and all(c["met"] is None and c["value"] is None for c in checks)


def test_report_shows_every_figure_with_its_target(results):
    text = report.render(results)
    assert "| intent macro-F1, held-out, PL | 0.910 | ≥ 0.940 | **not met** |" in text
    assert "| one process, throughput at 50 conversations, × stock Rasa | 0.50× | ≥ 1.20× | **not met** |" in text
    assert "| peak memory (VmHWM) of the Rasa process, one process, MB | 1100 MB | ≤ 750 MB | **not met** |" in text
    assert "p50 latency of message 15" in text and "not measured" in text, "no positions in this run"
    assert "affirm → inform (2)" in text
    assert "Sanic workers configuration skipped: Redis is not reachable" in text
    assert "3 of 3" in text
    assert "Tracebacks in the server logs (`bench/results/logs/`): none." in text
    assert "QUICK RUN" not in text


def test_quick_runs_are_labelled_and_failed_phases_explained(results):
    results["meta"]["quick"] = True
    results["stories"] = {"error": "RuntimeError: boom"}
    del results["nlu"]
    text = report.render(results)
    assert "NOT the real figures" in text
    assert "failed: `RuntimeError: boom`" in text
    assert "NLU evaluation not run" in text
    results["speed"]["assistant"]["tracebacks_in_log"] = 2
    assert "Tracebacks in the server logs (`bench/results/logs/`): assistant (2)." in report.render(results)


def test_write_draws_the_plots(results, tmp_path):
    path = report.write(results, tmp_path)
    assert path.read_text(encoding="utf-8").startswith("# Benchmark report")
    assert {p.name for p in tmp_path.glob("*.png")} == {
        "latency.png",
        "throughput.png",
        "nlu_scores.png",
        "turn_profile.png",
    }


def test_settings_quick_and_phases():
    quick = from_environment({"BENCH_QUICK": "1", "BENCH_PHASES": "nlu,stories"})
    assert quick.quick and quick.folds < 5 and quick.phases == ("nlu", "stories")
    full = from_environment({})
    assert not full.quick and full.folds == 5
    assert [level.concurrency for level in full.load_levels] == [1, 10, 50]
    assert full.nlu_mode == "full" and from_environment({"BENCH_NLU": "deployed"}).nlu_mode == "deployed"
    with pytest.raises(ValueError):
        from_environment({"BENCH_PHASES": "nlu,everything"})
    with pytest.raises(ValueError):
        from_environment({"BENCH_NLU": "some"})
    assert full.nlu_jobs == 4 and from_environment({"BENCH_NLU_JOBS": "1"}).nlu_jobs == 1
    with pytest.raises(ValueError, match="BENCH_NLU_JOBS"):
        from_environment({"BENCH_NLU_JOBS": "0"})


def test_training_time_totals_fold_and_heldout_models(results):
    from bench.resources import summarise_nlu_training

    total = summarise_nlu_training(results["nlu"].values())
    assert total == {"models": 6, "train_seconds": 660.0, "train_cpu_seconds": 990.0}
    assert summarise_nlu_training([{"deployed_heldout": {}}]) is None
