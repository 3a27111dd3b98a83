"""Load generator: concurrent conversations over a Rasa REST channel, in its own process.

Each of ``--concurrency`` virtual visitors holds one conversation after another
(scripts taken in turn, a new sender each time) and sends the next message
as soon as the previous one is answered. With several ``--url`` (several Rasa
processes sharing conversations), the messages go to them in turn, as a
round-robin proxy would send them: one conversation's messages are read by
different processes. No new message starts after
``--seconds``, and no more than ``--max-conversations`` conversations start.

    python -m bench.load --url http://127.0.0.1:5005 --scripts scripts.json \
        --concurrency 10 --seconds 40 --max-conversations 200 --out level.json
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence
from urllib.parse import urlparse

import aiohttp

from bench.metrics import latency_summary

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass
class Tally:
    """What happened during one load level."""

    latencies_ms: List[float] = field(default_factory=list)
    positions: List[int] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    empty_replies: int = 0
    started: int = 0
    completed: List[str] = field(default_factory=list)
    last_answer: float = 0.0


@dataclass(frozen=True)
class Plan:
    """Where to send what, and the bounds."""

    urls: Sequence[str]
    scripts: Sequence[Dict[str, Any]]
    concurrency: int
    seconds: float
    max_conversations: int
    timeout: float
    tag: str


async def _send(session: aiohttp.ClientSession, url: str, sender: str, text: str, position: int, tally: Tally) -> bool:
    """Send one message; record its latency (and its position in the conversation) or its error.

    ``False`` ends the conversation.
    """
    body = {"sender": sender, "message": text}
    start = time.perf_counter()
    try:
        async with session.post(f"{url}/webhooks/rest/webhook", json=body) as response:
            payload = await response.read()
            if response.status != 200:
                tally.errors[f"HTTP {response.status}"] += 1
                return False
            replies = json.loads(payload)
    except asyncio.TimeoutError:
        tally.errors["timeout"] += 1
        return False
    except (aiohttp.ClientError, ValueError) as error:
        tally.errors[type(error).__name__] += 1
        return False
    tally.latencies_ms.append(1000 * (time.perf_counter() - start))
    tally.positions.append(position)
    tally.last_answer = time.perf_counter()
    if not replies:
        tally.empty_replies += 1
    return True


async def _visitor(
    session: aiohttp.ClientSession,
    plan: Plan,
    turns: Iterator[int],
    targets: Iterator[str],
    deadline: float,
    tally: Tally,
) -> None:
    """One virtual visitor: whole conversations, one after the other, until a bound is reached."""
    for number in turns:
        if number >= plan.max_conversations or time.perf_counter() >= deadline:
            return
        script = plan.scripts[number % len(plan.scripts)]
        sender = f"{plan.tag}-{script['name']}-{number}-{uuid.uuid4().hex[:8]}"
        tally.started += 1
        finished = True
        for position, text in enumerate(script["messages"], start=1):
            if time.perf_counter() >= deadline or not await _send(
                session, next(targets), sender, text, position, tally
            ):
                finished = False
                break
        if finished:
            tally.completed.append(sender)


async def run(plan: Plan) -> Dict[str, Any]:
    """Run one load level and summarise it."""
    for url in plan.urls:
        if urlparse(url).hostname not in LOOPBACK:
            raise ValueError(f"the load generator only drives servers on loopback, not {url}")
    tally = Tally()
    turns = itertools.count()  # shared: each conversation number is taken once
    targets = itertools.cycle(plan.urls)  # shared: message after message, process after process
    cpu_start = time.process_time()
    timeout = aiohttp.ClientTimeout(total=plan.timeout)
    connector = aiohttp.TCPConnector(limit=plan.concurrency)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        start = time.perf_counter()
        deadline = start + plan.seconds
        await asyncio.gather(
            *(_visitor(session, plan, turns, targets, deadline, tally) for _ in range(plan.concurrency))
        )
        ended = time.perf_counter()
    elapsed = (tally.last_answer or ended) - start
    messages = len(tally.latencies_ms)
    return {
        "concurrency": plan.concurrency,
        "servers": len(plan.urls),
        "generator_cpu_seconds": time.process_time() - cpu_start,
        "bound_seconds": plan.seconds,
        "elapsed_seconds": elapsed,
        "messages": messages,
        "errors": sum(tally.errors.values()),
        "error_kinds": dict(tally.errors),
        "error_rate": sum(tally.errors.values()) / max(1, messages + sum(tally.errors.values())),
        "empty_replies": tally.empty_replies,
        "conversations_started": tally.started,
        "conversations_completed": len(tally.completed),
        "completed_senders": tally.completed,
        "messages_per_second": messages / elapsed if elapsed > 0 else None,
        **latency_summary(tally.latencies_ms),
        "latencies_ms": [round(x, 2) for x in tally.latencies_ms],
        "by_position": by_position(tally.latencies_ms, tally.positions),
    }


def by_position(latencies_ms: Sequence[float], positions: Sequence[int]) -> Dict[str, Dict[str, Any]]:
    """Latency by the message's position in its conversation (1: the first message)."""
    grouped: Dict[int, List[float]] = {}
    for latency, position in zip(latencies_ms, positions):
        grouped.setdefault(position, []).append(latency)
    return {
        str(position): {"messages": len(values), **latency_summary(values)}
        for position, values in sorted(grouped.items())
    }


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Command line: run one load level and write its figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url", required=True, action="append", help="base URL of a Rasa server (loopback only); repeat for several"
    )
    parser.add_argument("--scripts", required=True, help="JSON list of {name, messages}")
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--max-conversations", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds before a message counts as an error")
    parser.add_argument("--tag", default="bench")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    scripts = json.loads(Path(args.scripts).read_text(encoding="utf-8"))
    plan = Plan(
        [url.rstrip("/") for url in args.url],
        scripts,
        args.concurrency,
        args.seconds,
        args.max_conversations,
        args.timeout,
        args.tag,
    )
    result = asyncio.run(run(plan))
    Path(args.out).write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main()
