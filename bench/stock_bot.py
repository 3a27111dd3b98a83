"""The stock Rasa bot the speed figures are compared with: ``rasa init``, untouched.

It is created and trained in a temporary folder by ``rasa init --no-prompt``
(its default pipeline and policies, its own domain, no custom actions) and
served like the assistant, with the REST channel and the HTTP API.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict

from bench.servers import BIN, Server, start_rasa


@dataclass(frozen=True)
class StockBot:
    """A trained ``rasa init`` project."""

    folder: Path
    model: Path
    train_seconds: float


def build(folder: Path, env: Dict[str, str], log: Path) -> StockBot:
    """Create and train the stock bot in ``folder`` (which must not exist yet or be empty)."""
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with log.open("w") as output:
        subprocess.run(
            [str(BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(folder)],
            cwd=folder,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=1800,
        )
    seconds = time.perf_counter() - start
    models = sorted((folder / "models").glob("*.tar.gz"))
    if not models:
        raise RuntimeError(f"rasa init trained no model; see {log}")
    return StockBot(folder, models[-1], seconds)


def serve(bot: StockBot, env: Dict[str, str], logs: Path) -> Server:
    """Run the stock bot as ``rasa init`` leaves it (its credentials, no action server)."""
    return start_rasa("stock-rasa", bot.model, env, logs, cwd=bot.folder, credentials=bot.folder / "credentials.yml")
