"""Whole prospect conversations per language: share of lead fields right, repeated questions.

The conversations of ``tests/integration/conversations/data/`` are played over
the REST channel against the real servers (``testkit.conversations``) and the
lead each one left is compared with what the rep should get, field by field.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any, Dict, Optional, Sequence

from common.languages import LANGUAGES
from testkit.conversations import assistant, run_language, summary


def evaluate(languages: Sequence[str] = LANGUAGES) -> Dict[str, Any]:
    """Per language: conversations, fields, fields right and their share, repeated questions, loops, misses."""
    results: Dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-conversations-") as folder:
        with assistant(Path(folder), prefix="bench-conversations") as urls:
            for language in languages:
                played = run_language(urls, language)
                results[language] = {
                    **summary(played),
                    "wrong": [f"{r.name}: {failure}" for r in played for failure in r.failures()],
                }
    return results


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Command line: play every language's conversations and write the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    result = evaluate()
    for language, figures in result.items():
        print(
            f"[bench] conversations {language}: {figures['right']}/{figures['fields']} fields right, "
            f"{figures['repeats']} repeated questions",
            flush=True,
        )
    Path(args.out).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
