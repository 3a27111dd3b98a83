"""The layout's rules: one package per process, imports in one direction, settings in one place.

    actions  (the Rasa action server)  ->  leads  ->  common
    bot      (the Rasa server)         ->  common
    analytics (the event consumer)     ->  common
    testkit  (starting servers)        ->  common
    bench    (the benchmark)           ->  testkit, leads (its database), analytics (its counts), common

Nothing outside ``tests`` imports ``tests``; nothing imports ``bot`` or
``actions`` but themselves (and the tests). Third-party imports are free.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Set, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Each of our top-level packages, and which of ours it may import.
ALLOWED: Dict[str, Set[str]] = {
    "common": {"common"},
    "leads": {"leads", "common"},
    "actions": {"actions", "leads", "common"},
    "bot": {"bot", "common"},
    "analytics": {"analytics", "common"},
    "testkit": {"testkit", "common"},
    "bench": {"bench", "testkit", "leads", "analytics", "common"},
}
OURS = set(ALLOWED) | {"tests"}
#: The only module of the running processes that reads the environment.
SETTINGS = "common/settings.py"


def imported_packages(source: str, module: str) -> Iterator[Tuple[int, str]]:
    """``(line, top-level package)`` of every import of one of our packages in ``source``.

    ``module`` is the importing module's dotted name, to resolve relative imports.
    """
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the importing module's own package
                yield node.lineno, module.split(".")[0]
            elif node.module:
                yield node.lineno, node.module.split(".")[0]


def violations(source: str, module: str) -> List[str]:
    """The imports in ``source`` (of module ``module``) that break the layout's rules."""
    package = module.split(".")[0]
    allowed = ALLOWED.get(package)
    if allowed is None:
        return []
    return [
        f"{module}:{line} imports {target} ({package} may import {', '.join(sorted(allowed))})"
        for line, target in imported_packages(source, module)
        if target in OURS and target not in allowed
    ]


def reads_environment(source: str) -> bool:
    """Whether ``source`` reads the environment (``os.environ``, ``os.getenv``, ``from os import environ``)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb"):
            if isinstance(node.value, ast.Name) and node.value.id == "os":
                return True
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            if any(alias.name in ("environ", "getenv", "environb") for alias in node.names):
                return True
    return False


def modules() -> Iterator[Tuple[str, Path]]:
    """``(dotted name, path)`` of every Python module of our packages."""
    for package in sorted(ALLOWED):
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            yield ".".join(p for p in parts if p != "__init__"), path


# -- the rule, shown on examples -------------------------------------------------
@pytest.mark.parametrize(
    "module, source",
    [
        ("leads.delivery", "from actions.qualification import lead_record"),
        ("leads.server", "import bot.slack"),
        ("common.settings", "from leads.storage import db"),
        ("bot.slack", "from actions.parsing import EMAIL"),
        ("bot.teams", "from leads.routing import load_config"),
        ("actions.forms", "from bot.channels import MAX_MESSAGE_CHARS"),
        ("actions.forms", "from tests.samples import lead"),
        ("bench.speed", "from tests.fakes.receiver import Receiver"),
        ("bench.nlu_eval", "from bot.nlu import MultilingualTokenizer"),
        ("leads.cli", "def later():\n    from actions import lead_bridge\n"),
        ("analytics.store", "from leads.storage.db import engine"),
        ("common.scaling", "from analytics import store"),
    ],
)
def test_an_import_against_the_rule_is_found(module: str, source: str) -> None:
    assert violations(source, module), f"{source!r} in {module} should break the rule"


@pytest.mark.parametrize(
    "module, source",
    [
        ("actions.lead_bridge", "from leads import pipeline\nfrom common import settings"),
        ("leads.server", "from common.slack_signature import check\nimport aiohttp"),
        ("bot.slack", "from common.slack_payloads import interaction_payload\nfrom rasa.core.channels import slack"),
        ("bench.servers", "from testkit.servers import free_port"),
        ("leads.storage.db", "from . import models"),
    ],
)
def test_imports_along_the_rule_pass(module: str, source: str) -> None:
    assert violations(source, module) == []


def test_reading_the_environment_is_recognised() -> None:
    assert reads_environment("import os\nos.environ.get('X')")
    assert reads_environment("import os\nos.getenv('X')")
    assert reads_environment("from os import environ")
    assert not reads_environment("from common import settings\nsettings.env('X')")


# -- the rule, on the code -------------------------------------------------------
def test_every_module_follows_the_import_rule() -> None:
    found = [v for module, path in modules() for v in violations(path.read_text(encoding="utf-8"), module)]
    assert found == []


def test_only_the_settings_module_reads_the_environment() -> None:
    readers = [
        str(path.relative_to(ROOT))
        for module, path in modules()
        if module.split(".")[0] in ("actions", "leads", "bot", "common", "analytics")
        and str(path.relative_to(ROOT)) != SETTINGS
        and reads_environment(path.read_text(encoding="utf-8"))
    ]
    assert readers == []


def test_nothing_outside_the_tests_imports_the_tests() -> None:
    for module, path in modules():
        targets = {target for _, target in imported_packages(path.read_text(encoding="utf-8"), module)}
        assert "tests" not in targets, module


def _loaded_by_the_action_server() -> Set[str]:
    """Modules loaded when the action server registers the ``actions`` package, as ``rasa run actions`` does."""
    script = (
        "import sys\n"
        "from rasa_sdk.executor import ActionExecutor\n"
        "ActionExecutor().register_package('actions')\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return set(result.stdout.split())


def test_the_action_server_does_not_load_the_leads_server() -> None:
    loaded = _loaded_by_the_action_server()
    assert "actions.forms" in loaded and "leads.pipeline" in loaded  # the check does see what it loads
    unwanted: List[Optional[str]] = ["leads.server", "leads.rep_page", "leads.cli", "leads.slack_rep", "bot"]
    assert sorted(m for m in unwanted if m in loaded) == []
