"""Speed, capacity and memory over the full path, against the stock Rasa bot, and the turn profile.

Configurations, one after the other on the same machine:

* ``stock``: ``rasa init``'s bot, as it comes;
* ``assistant``: the REST channel, NLU, policies, the real action server and
  the lead database (SQLite in a temporary folder unless ``DATABASE_URL`` is set);
* ``assistant_workers``: the same with several Sanic workers, which needs a
  lock store and a tracker store shared by the workers (Redis).

Each is warmed up, then driven by ``bench.load`` (a separate process) at every
load level while its memory is sampled.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

from bench import conversations, profile_turn, stock_bot
from bench.resources import MemorySampler
from bench.servers import Server, endpoints_file, environment, start_actions, start_rasa
from bench.settings import MODEL, ROOT, Settings, redis_address
from common import settings as common_settings
from testkit.servers import http

Log = Callable[[str], None]


def database_url(work: Path) -> str:
    """``DATABASE_URL`` when set, else an SQLite file in the run's temporary folder; migrated."""
    from leads.storage.db import migrate

    url = common_settings.database_url() or f"sqlite:///{work / 'leads.db'}"
    migrate(url)
    return url


def redis_available() -> Optional[str]:
    """``None`` when the Redis server for the shared stores answers, else why not."""
    try:
        import redis

        host, port = redis_address()
        redis.Redis(host, port, socket_connect_timeout=2).ping()
        return None
    except Exception as error:  # any failure means: no shared stores, no workers
        return f"Redis is not reachable ({type(error).__name__})"


def forget_redis_keys(prefix: str) -> None:
    """Delete the benchmark's conversations and locks from Redis."""
    import redis

    client = redis.Redis(*redis_address())
    keys = list(client.scan_iter(match=f"{prefix}:*", count=500))
    if keys:
        client.delete(*keys)


def wait_until_steady(server: Server, checks: int = 8) -> None:
    """Several answers in a row from ``/status`` (every worker has loaded the model)."""
    answered, deadline = 0, time.time() + 240
    while answered < checks and time.time() < deadline:
        status, body = http("GET", f"{server.url}/status", timeout=10)
        answered = answered + 1 if status == 200 and body.get("model_file") else 0
        time.sleep(0.5)


def _level(
    server: "Server | Sequence[Server]",
    scripts: Path,
    concurrency: int,
    seconds: float,
    conversations_max: int,
    tag: str,
    settings: Settings,
    work: Path,
    logs: Path,
) -> Dict[str, Any]:
    """One run of ``bench.load`` against ``server`` (or several servers, message after message in turn)."""
    out = work / f"{tag}.json"
    servers = [server] if isinstance(server, Server) else list(server)
    urls = [argument for each in servers for argument in ("--url", each.url)]
    with (logs / f"load-{tag}.log").open("w") as output:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.load",
                *urls,
                "--scripts",
                str(scripts),
                "--concurrency",
                str(concurrency),
                "--seconds",
                str(seconds),
                "--max-conversations",
                str(conversations_max),
                "--timeout",
                str(settings.request_timeout),
                "--tag",
                tag,
                "--out",
                str(out),
            ],
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=seconds + settings.request_timeout + 300,
        )
    return json.loads(out.read_text())


def warm_up(
    name: str, server: "Server | Sequence[Server]", scripts: Path, settings: Settings, work: Path, logs: Path, log: Log
) -> None:
    """A few unmeasured conversations, so that no measured message pays for first-use set-up."""
    warm = _level(server, scripts, 1, 300, settings.warmup_conversations, f"{name}-warmup", settings, work, logs)
    log(f"  {name}: warmed up with {warm['messages']} messages ({warm['errors']} errors)")


def drive(
    name: str, server: "Server | Sequence[Server]", scripts: Path, settings: Settings, work: Path, logs: Path, log: Log
) -> Dict[str, Any]:
    """Every load level against a warmed-up server."""
    results = {}
    for load_level in settings.load_levels:
        figures = _level(
            server,
            scripts,
            load_level.concurrency,
            load_level.seconds,
            load_level.max_conversations,
            f"{name}-c{load_level.concurrency}",
            settings,
            work,
            logs,
        )
        results[str(load_level.concurrency)] = figures
        log(
            f"  {name} x{load_level.concurrency}: {figures['messages']} messages, p50 {figures['p50_ms'] or 0:.0f} ms, "
            f"p95 {figures['p95_ms'] or 0:.0f} ms, {figures['messages_per_second'] or 0:.1f} msg/s, "
            f"{figures['errors']} errors"
        )
    return results


def qualifications_completed(server: Server, senders: List[str]) -> Dict[str, int]:
    """How many of the finished scripted conversations ended with a submitted lead."""
    submitted = 0
    for sender in senders:
        status, tracker = http("GET", f"{server.url}/conversations/rest_{sender}/tracker")
        if status == 200 and (tracker.get("slots") or {}).get("lead_submitted"):
            submitted += 1
    return {"conversations": len(senders), "lead_submitted": submitted}


def _stop(*servers: Optional[Server]) -> None:
    for server in servers:
        if server:
            server.stop()


def _server_summary(server: Server) -> Dict[str, Any]:
    return {"tracebacks_in_log": server.tracebacks(), "log": str(server.log.relative_to(ROOT))}


def run_stock(settings: Settings, work: Path, logs: Path, sampler: MemorySampler, log: Log) -> Dict[str, Any]:
    """Build, serve and load the stock bot."""
    env = environment(work, f"sqlite:///{work / 'unused.db'}")
    bot = stock_bot.build(work / "stock-bot", env, logs / "stock-init.log")
    log(f"  stock bot created and trained by rasa init in {bot.train_seconds:.0f} s")
    scripts = work / "scripts-stock.json"
    scripts.write_text(json.dumps(conversations.stock_scripts()))
    server = stock_bot.serve(bot, env, logs)
    try:
        sampler.watch("stock_rasa", server.pid)
        warm_up("stock", server, scripts, settings, work, logs, log)
        levels = drive("stock", server, scripts, settings, work, logs, log)
        sampler.forget("stock_rasa")
    finally:
        _stop(server)
    return {
        "levels": levels,
        "init_and_train_seconds": bot.train_seconds,
        "model_mb": bot.model.stat().st_size / 1e6,
        **_server_summary(server),
    }


def run_assistant(
    settings: Settings, work: Path, logs: Path, sampler: MemorySampler, log: Log, load: bool, profile: bool
) -> Dict[str, Any]:
    """Serve and load the assistant (one Sanic worker), then profile turns on the same Rasa server."""
    env = environment(work, database_url(work))
    scripts = work / "scripts-assistant.json"
    scripts.write_text(json.dumps(conversations.ASSISTANT))
    actions = start_actions(env, logs)
    rasa: Optional[Server] = None
    timed: Optional[Server] = None
    result: Dict[str, Any] = {}
    try:
        rasa = start_rasa(
            "assistant-rasa",
            MODEL,
            env,
            logs,
            endpoints=endpoints_file(work, actions.url, database_url=env["DATABASE_URL"]),
            credentials=ROOT / "credentials.yml",
        )
        sampler.watch("assistant_rasa", rasa.pid)
        sampler.watch("assistant_actions", actions.pid)
        warm_up("assistant", rasa, scripts, settings, work, logs, log)
        if load:
            result["levels"] = drive("assistant", rasa, scripts, settings, work, logs, log)
            single = result["levels"].get("1", {})
            result["qualifications"] = qualifications_completed(rasa, single.get("completed_senders", []))
        sampler.forget("assistant_rasa")
        sampler.forget("assistant_actions")
        result["actions_server"] = _server_summary(actions)
        actions.stop()
        if profile:
            timings = work / "timings.jsonl"
            timed = start_actions(env, logs, port=actions.port, timed=timings)
            profile_turn.profile_conversation(rasa.url, timings, conversations.ASSISTANT[0])  # warms the server up
            turns = [
                turn
                for script in conversations.ASSISTANT
                for turn in profile_turn.profile_conversation(rasa.url, timings, script)
            ]
            result["profile"] = {
                "summary": profile_turn.summary(turns),
                "example": profile_turn.example_turn(turns),
                "turns": turns,
            }
            log(f"  profiled {len(turns)} turns")
        result.update(_server_summary(rasa))
    finally:
        _stop(timed, rasa, actions)
    return result


def run_workers(settings: Settings, work: Path, logs: Path, sampler: MemorySampler, log: Log) -> Dict[str, Any]:
    """The assistant with ``SANIC_WORKERS`` workers sharing Redis lock and tracker stores."""
    unavailable = redis_available()
    if unavailable:
        return {"skipped": unavailable}
    prefix = f"bench{os.getpid()}"
    env = environment(work, database_url(work))
    scripts = work / "scripts-assistant.json"
    actions = start_actions(env, logs)
    rasa: Optional[Server] = None
    try:
        endpoints = endpoints_file(work, actions.url, shared_stores=prefix)
        rasa = start_rasa(
            "workers-rasa",
            MODEL,
            {**env, "SANIC_WORKERS": str(settings.workers)},
            logs,
            endpoints=endpoints,
            credentials=ROOT / "credentials.yml",
        )
        wait_until_steady(rasa)
        sampler.watch("workers_rasa", rasa.pid)
        warm_up("workers", rasa, scripts, settings, work, logs, log)
        levels = drive("workers", rasa, scripts, settings, work, logs, log)
        sampler.forget("workers_rasa")
        return {
            "workers": settings.workers,
            "levels": levels,
            "endpoints": endpoints.read_text(),
            "actions_server": _server_summary(actions),
            **_server_summary(rasa),
        }
    finally:
        _stop(rasa, actions)
        forget_redis_keys(prefix)


def run(settings: Settings, work: Path, logs: Path, log: Log) -> Dict[str, Any]:
    """Every configuration, memory included; the profile when its phase is on."""
    results: Dict[str, Any] = {}
    with MemorySampler() as sampler:
        if "load" in settings.phases:
            log("Load: stock rasa init bot")
            results["stock"] = run_stock(settings, work, logs, sampler, log)
        log("Load: the assistant" if "load" in settings.phases else "Profile: the assistant")
        results["assistant"] = run_assistant(
            settings, work, logs, sampler, log, load="load" in settings.phases, profile="profile" in settings.phases
        )
        if "load" in settings.phases and settings.workers > 1:
            log(f"Load: the assistant with {settings.workers} Sanic workers")
            results["assistant_workers"] = run_workers(settings, work, logs, sampler, log)
        results["memory"] = sampler.report()
    return results
