"""Command line: ``python -m analytics consume`` (the consumer) and ``python -m analytics stats``."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
from dataclasses import asdict
from typing import List, Optional, Sequence

from analytics import consumer, store


def consume() -> int:
    """Run the consumer until SIGINT or SIGTERM."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    worker = consumer.from_settings()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, worker.stop)
        await worker.run()

    asyncio.run(main())
    logging.info("Stopped: %d events counted, %d duplicates ignored", worker.counted, worker.duplicates)
    return 0


def table(rows: List[store.QuestionFigures]) -> str:
    """The statistics as a plain-text table."""
    header = ("question", "language", "channel", "reached", "left")
    lines = [header] + [(r.question, r.language, r.channel, str(r.reached), str(r.left)) for r in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)) for line in lines)


def stats(as_json: bool) -> int:
    """Print the statistics."""
    engine = store.engine()
    rows = store.question_statistics(engine)
    totals = store.totals(engine)
    if as_json:
        print(json.dumps({"totals": totals, "questions": [asdict(row) for row in rows]}, indent=2))
        return 0
    print(
        f"{totals['events']} events, {totals['conversations']} conversations "
        f"(languages: {totals['conversations_by_language']}, channels: {totals['conversations_by_channel']})"
    )
    print("'reached': conversations that were asked the question; 'left': those still waiting on it.\n")
    print(table(rows) if rows else "No question reached yet.")
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analytics", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("consume", help="count the events Rasa publishes to RabbitMQ (runs until stopped)")
    shown = sub.add_parser("stats", help="per question reached and left, per language and channel")
    shown.add_argument("--json", action="store_true", help="as JSON")
    args = parser.parse_args(argv)
    if args.command == "consume":
        return consume()
    return stats(args.json)
