"""Scaling out: 1, 2 and 4 Rasa processes sharing conversations on PostgreSQL, locks on Redis, events on RabbitMQ.

For each number of processes: the action servers (one per Rasa process, at
most two), the statistics consumer, a warm-up, then the highest load level of
the run, the load generator sending each conversation's messages to the
processes in turn (as a round-robin proxy would). Measured: throughput and
latency (also by position of the message in its conversation), errors, the
peak memory of each Rasa process, the CPU the load generator used, how
much of the machine was idle while it ran, and whether the statistics
consumer counted every event the processes stored.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from bench import conversations
from bench.resources import MemorySampler
from bench.servers import Server, environment, start_actions, start_process, start_rasa, wait_for_model
from bench.settings import MODEL, ROOT, Settings
from bench.speed import _level, warm_up
from leads.storage.db import migrate
from testkit.scaled import Isolated, consumer_command, consumer_env, endpoints_file, unreachable

Log = Callable[[str], None]
#: Action servers at most (each Rasa process calls one, in turn).
MAX_ACTION_SERVERS = 2
#: How long the Rasa processes may take to load the model, all at once, on a busy machine.
START_SECONDS = 900
#: How long the statistics consumer may take to count the events of a run once the processes stopped.
COUNT_SECONDS = 120


def wait_for_models(servers: List[Server]) -> None:
    """Until every Rasa process has loaded its model (or one of them exits, or ``START_SECONDS`` pass)."""
    deadline = time.time() + START_SECONDS
    for server in servers:
        while True:
            try:
                wait_for_model(server)
                break
            except RuntimeError:
                if server.process.poll() is not None or time.time() > deadline:
                    raise


def events_counted(database_url: str, seconds: float = COUNT_SECONDS) -> Dict[str, int]:
    """The events the Rasa processes stored (Rasa's ``events`` table) and those the statistics consumer
    counted, once the two agree (or after ``seconds``)."""
    from sqlalchemy import func, select, table

    from analytics import store

    engine = store.engine(database_url)
    deadline = time.time() + seconds
    try:
        while True:
            with engine.connect() as connection:
                stored = connection.execute(select(func.count()).select_from(table("events"))).scalar_one()
                counted = connection.execute(select(func.count()).select_from(store.events)).scalar_one()
            if counted >= stored or time.time() > deadline:
                return {"stored": stored, "counted": counted}
            time.sleep(1)
    finally:
        engine.dispose()


def cpu_times() -> Tuple[float, float]:
    """``(busy, idle)`` seconds of every CPU of the machine since boot (``/proc/stat``)."""
    fields = [float(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, idle


def _stop(servers: List[Optional[Server]]) -> None:
    for server in servers:
        if server:
            server.stop()


def run_processes(
    processes: int,
    isolated: Isolated,
    env: Dict[str, str],
    settings: Settings,
    work: Path,
    logs: Path,
    sampler: MemorySampler,
    log: Log,
) -> Dict[str, Any]:
    """One configuration: ``processes`` Rasa processes under the run's highest load level."""
    folder = work / f"scale-{processes}"
    folder.mkdir(parents=True, exist_ok=True)
    scripts = folder / "scripts.json"
    scripts.write_text(json.dumps(conversations.ASSISTANT))
    actions = [start_actions(env, logs) for _ in range(min(processes, MAX_ACTION_SERVERS))]
    rasas: List[Server] = []
    try:
        for i in range(processes):
            endpoints = endpoints_file(folder, isolated.services, actions[i % len(actions)].port, f"endpoints-{i}")
            rasas.append(
                start_rasa(
                    f"scale{processes}-rasa{i}",
                    MODEL,
                    env,
                    logs,
                    endpoints=endpoints,
                    credentials=ROOT / "credentials.yml",
                    wait=False,
                )
            )
        wait_for_models(rasas)
        for rasa in rasas:
            sampler.watch(rasa.name, rasa.pid)
        warm_up(f"scale{processes}", rasas, scripts, settings, folder, logs, log)
        level = settings.load_levels[-1]
        busy_before, idle_before = cpu_times()
        figures = _level(
            rasas,
            scripts,
            level.concurrency,
            level.seconds,
            level.max_conversations,
            f"scale{processes}-c{level.concurrency}",
            settings,
            folder,
            logs,
        )
        busy_after, idle_after = cpu_times()
        for rasa in rasas:
            sampler.forget(rasa.name)
        memory = sampler.report()
        cpus = os.cpu_count() or 1
        elapsed = figures["elapsed_seconds"] or 1
        figures.pop("latencies_ms", None)
        figures.pop("completed_senders", None)
        result = {
            "processes": processes,
            "action_servers": len(actions),
            "level": figures,
            "rasa_hwm_mb": [memory[r.name]["hwm_mb"] for r in rasas],
            "generator_cpu_share_of_one_core": figures["generator_cpu_seconds"] / elapsed,
            "machine_idle_share": (idle_after - idle_before)
            / max(1e-9, (busy_after - busy_before) + (idle_after - idle_before)),
            "cpus": cpus,
            "tracebacks_in_logs": sum(r.tracebacks() for r in rasas),
        }
        log(
            f"  {processes} Rasa process(es) x{level.concurrency}: {figures['messages']} messages, "
            f"{figures['messages_per_second'] or 0:.1f} msg/s, p95 {figures['p95_ms'] or 0:.0f} ms, "
            f"{figures['errors']} errors, peak {max(result['rasa_hwm_mb']):.0f} MB per Rasa process"
        )
        return result
    finally:
        _stop([*rasas, *actions])


def run(settings: Settings, work: Path, logs: Path, log: Log) -> Dict[str, Any]:
    """Every number of processes of ``settings.scale_processes``, on one isolated set of shared services."""
    reason = unreachable()
    if reason:
        return {"skipped": f"PostgreSQL, Redis and RabbitMQ are needed at their standard local ports: {reason}"}
    isolated = Isolated.new("bench")
    isolated.create()
    consumer: Optional[Server] = None
    results: Dict[str, Any] = {"configurations": [], "database": "postgresql (local)", "lock_store": "redis (local)"}
    try:
        migrate(isolated.database_url)
        env = environment(work, isolated.database_url, **consumer_env(isolated.services))
        consumer = start_process("analytics-consumer", consumer_command(), env, logs)
        with MemorySampler() as sampler:
            for processes in settings.scale_processes:
                log(f"Scale: {processes} Rasa process(es) on PostgreSQL + Redis + RabbitMQ")
                started = time.perf_counter()
                try:
                    figures = run_processes(processes, isolated, env, settings, work, logs, sampler, log)
                except RuntimeError as error:  # one configuration that fails must not cost the others' figures
                    results.setdefault("failed", []).append({"processes": processes, "error": str(error)[:500]})
                    log(f"  {processes} Rasa process(es): {str(error).splitlines()[0]}")
                    continue
                figures["wall_seconds"] = time.perf_counter() - started
                figures["events"] = events_counted(isolated.database_url)  # so far, in this run
                results["configurations"].append(figures)
    finally:
        _stop([consumer])
        isolated.drop()
    return results
