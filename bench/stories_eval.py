"""Conversations: the share of test stories the trained model runs through correctly, per language.

The same evaluation as ``rasa test core`` on each ``tests/integration/stories/test_{lang}.yml``,
with the model loaded once.

    python -m bench.stories_eval --out stories.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench.settings import LANGUAGES, MODEL, TEST_STORIES  # noqa: E402


def failed_story_names(path: Path) -> List[str]:
    """Names of the stories Rasa wrote to ``failed_test_stories.yml``."""
    if not path.exists():
        return []
    return [
        line.split(":", 1)[1].split("#")[0].strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("- story:")
    ]


async def _evaluate(model: Path, languages: Sequence[str]) -> Dict[str, Any]:
    from rasa.core.agent import Agent
    from rasa.core.test import FAILED_STORIES_FILE, test

    agent = Agent.load(str(model))
    results: Dict[str, Any] = {}
    for language in languages:
        stories = TEST_STORIES / f"test_{language}.yml"
        if not stories.exists():
            results[language] = None
            continue
        with tempfile.TemporaryDirectory(prefix=f"bench-stories-{language}-") as out:
            start = time.perf_counter()
            summary = await test(str(stories), agent, out_directory=out, disable_plotting=True, warnings=False)
            conversations = summary["report"].get("conversation_accuracy", {})
            results[language] = {
                "stories": conversations.get("total", 0),
                "correct": conversations.get("correct", 0),
                "share": conversations.get("accuracy"),
                "action_accuracy": summary["accuracy"],
                "failed": failed_story_names(Path(out) / FAILED_STORIES_FILE),
                "seconds": time.perf_counter() - start,
            }
    return results


def evaluate(model: Path = MODEL, languages: Sequence[str] = LANGUAGES) -> Dict[str, Any]:
    """Per language: stories, how many ran through without a wrong prediction, and which failed."""
    return asyncio.run(_evaluate(model, languages))


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Command line: evaluate the test stories of every language and write the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(MODEL))
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    result = evaluate(Path(args.model))
    for language, figures in result.items():
        if figures:
            print(f"[bench] stories {language}: {figures['correct']}/{figures['stories']} correct", flush=True)
    Path(args.out).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
