"""The scaling section of the report, the latency by message position, and the scaling settings."""

from __future__ import annotations

import pytest

from bench import report
from bench.load import by_position
from bench.settings import from_environment


def _configuration(processes: int, mps: float, mb: float) -> dict:
    level = {
        "concurrency": 50,
        "messages": 500,
        "messages_per_second": mps,
        "p50_ms": 1000.0 / processes,
        "p95_ms": 2000.0 / processes,
        "errors": 0,
        "by_position": {"1": {"messages": 40, "p50_ms": 100.0}, "15": {"messages": 40, "p50_ms": 160.0}},
    }
    return {
        "processes": processes,
        "action_servers": min(processes, 2),
        "level": level,
        "rasa_hwm_mb": [mb] * processes,
        "generator_cpu_share_of_one_core": 0.25,
        "machine_idle_share": 0.05,
    }


@pytest.fixture
def results() -> dict:
    stock = {
        "concurrency": 50,
        "messages": 500,
        "messages_per_second": 20.0,
        "p50_ms": 900.0,
        "p95_ms": 1500.0,
        "p99_ms": 1600.0,
        "errors": 0,
    }
    ours = {
        "concurrency": 50,
        "messages": 500,
        "messages_per_second": 25.0,
        "p50_ms": 800.0,
        "p95_ms": 1800.0,
        "p99_ms": 2000.0,
        "errors": 0,
        "by_position": {"1": {"messages": 40, "p50_ms": 100.0}, "15": {"messages": 40, "p50_ms": 120.0}},
    }
    return {
        "meta": {"quick": True},
        "speed": {"stock": {"levels": {"50": stock}}, "assistant": {"levels": {"50": ours}}},
        "scale": {
            "configurations": [_configuration(1, 20.0, 700), _configuration(2, 30.0, 720), _configuration(4, 32.0, 760)]
        },
    }


def test_the_scaling_table_has_ratios_to_one_process_and_to_stock(results) -> None:
    text = report.render(results)
    section = text[text.index("## 7. Scaling out") :]
    assert "| 2 | 2 | 50 | 500 | 30.0 | 1.50× | 1.50× | 500 | 1000 | 0 | 720 | 25 % | 5 % |" in section
    assert "| 4 | 2 | 50 | 500 | 32.0 | 1.60× | 1.60× |" in section
    assert "| one process, throughput at 50 conversations, × stock Rasa | 1.25× | ≥ 1.20× | met |" in section
    assert "| one process, p95 latency at 50 conversations, × stock Rasa's | 1.20× | ≤ 1.00× | **not met** |" in section
    assert "| one process, p50 latency of message 15 × message 1's, at 50 conversations | 1.20× | ≤ 1.30× | met |" in (
        section
    )
    largest = "peak memory (VmHWM) of each Rasa process, 1/2/4 processes on PostgreSQL + Redis, largest, MB"
    assert f"| {largest} | 760 MB | ≤ 750 MB | **not met** |" in section


def test_the_scaling_table_says_how_many_stored_events_the_consumer_counted(results) -> None:
    results["scale"]["configurations"][1]["events"] = {"stored": 15400, "counted": 15400}
    results["scale"]["configurations"][2]["events"] = {"stored": 40100, "counted": 39988}
    section = report.render(results)
    section = section[section.index("## 7. Scaling out") :]
    assert "| 720 | 25 % | 5 % | 15400 / 15400 |" in section
    assert "| 760 | 25 % | 5 % | 39988 / 40100 |" in section
    assert "| 700 | 25 % | 5 % | — |" in section, "a run that did not count them says so"


def test_a_skipped_scaling_run_says_why(results) -> None:
    results["scale"] = {"skipped": "RabbitMQ is not running"}
    assert "Not measured: RabbitMQ is not running." in report.render(results)


def test_the_scaling_plots_are_drawn(results, tmp_path) -> None:
    report.write(results, tmp_path)
    assert {"scaling_throughput.png", "latency_by_position.png"} <= {p.name for p in tmp_path.glob("*.png")}


def test_latency_by_position_groups_the_messages() -> None:
    grouped = by_position([10.0, 20.0, 30.0, 50.0], [1, 2, 1, 2])
    assert grouped["1"]["messages"] == 2 and grouped["1"]["p50_ms"] == pytest.approx(20.0)
    assert grouped["2"]["p50_ms"] == pytest.approx(35.0)


def test_scaling_settings() -> None:
    assert from_environment({}).scale_processes == (1, 2, 4)
    assert from_environment({"BENCH_SCALE": "1,3"}).scale_processes == (1, 3)
    with pytest.raises(ValueError):
        from_environment({"BENCH_SCALE": "0,2"})


def test_the_events_counted_are_read_from_rasas_table_and_the_consumers(tmp_path) -> None:
    from sqlalchemy import text

    from analytics import store
    from bench.scaling import events_counted

    url = f"sqlite:///{tmp_path / 'run.db'}"
    engine = store.engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT)"))
        connection.execute(text("INSERT INTO events (sender_id) VALUES ('a'), ('a'), ('b')"))
        store.record(connection, {"sender_id": "a", "event": "user", "timestamp": 1.0})
        store.record(connection, {"sender_id": "a", "event": "bot", "timestamp": 2.0})
    assert events_counted(url, seconds=0) == {"stored": 3, "counted": 2}, "one still to count: no wait past 0 s"
    with engine.begin() as connection:
        store.record(connection, {"sender_id": "b", "event": "user", "timestamp": 3.0})
    engine.dispose()
    assert events_counted(url, seconds=60) == {"stored": 3, "counted": 3}
