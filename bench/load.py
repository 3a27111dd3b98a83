"""Load generator: concurrent conversations over a Rasa REST channel, in its own process.

Each of ``--concurrency`` virtual visitors holds one conversation after another
(scripts taken in turn, a new sender each time) and sends the next message
as soon as the previous one is answered. No new message starts after
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
    errors: Counter = field(default_factory=Counter)
    empty_replies: int = 0
    started: int = 0
    completed: List[str] = field(default_factory=list)
    last_answer: float = 0.0


@dataclass(frozen=True)
class Plan:
    """Where to send what, and the bounds."""

    url: str
    scripts: Sequence[Dict[str, Any]]
    concurrency: int
    seconds: float
    max_conversations: int
    timeout: float
    tag: str


async def _send(session: aiohttp.ClientSession, plan: Plan, sender: str, text: str, tally: Tally) -> bool:
    """Send one message; record its latency or its error. ``False`` ends the conversation."""
    body = {"sender": sender, "message": text}
    start = time.perf_counter()
    try:
        async with session.post(f"{plan.url}/webhooks/rest/webhook", json=body) as response:
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
    tally.last_answer = time.perf_counter()
    if not replies:
        tally.empty_replies += 1
    return True


async def _visitor(
    session: aiohttp.ClientSession, plan: Plan, turns: Iterator[int], deadline: float, tally: Tally
) -> None:
    """One virtual visitor: whole conversations, one after the other, until a bound is reached."""
    for number in turns:
        if number >= plan.max_conversations or time.perf_counter() >= deadline:
            return
        script = plan.scripts[number % len(plan.scripts)]
        sender = f"{plan.tag}-{script['name']}-{number}-{uuid.uuid4().hex[:8]}"
        tally.started += 1
        finished = True
        for text in script["messages"]:
            if time.perf_counter() >= deadline or not await _send(session, plan, sender, text, tally):
                finished = False
                break
        if finished:
            tally.completed.append(sender)


async def run(plan: Plan) -> Dict[str, Any]:
    """Run one load level and summarise it."""
    if urlparse(plan.url).hostname not in LOOPBACK:
        raise ValueError(f"the load generator only drives servers on loopback, not {plan.url}")
    tally = Tally()
    turns = itertools.count()  # shared: each conversation number is taken once
    timeout = aiohttp.ClientTimeout(total=plan.timeout)
    connector = aiohttp.TCPConnector(limit=plan.concurrency)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        start = time.perf_counter()
        deadline = start + plan.seconds
        await asyncio.gather(*(_visitor(session, plan, turns, deadline, tally) for _ in range(plan.concurrency)))
        ended = time.perf_counter()
    elapsed = (tally.last_answer or ended) - start
    messages = len(tally.latencies_ms)
    return {
        "concurrency": plan.concurrency,
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
    }


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Command line: run one load level and write its figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="base URL of the Rasa server (loopback only)")
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
        args.url.rstrip("/"), scripts, args.concurrency, args.seconds, args.max_conversations, args.timeout, args.tag
    )
    result = asyncio.run(run(plan))
    Path(args.out).write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main()
