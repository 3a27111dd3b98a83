"""The Rasa server's endpoints file: the action server (with its token) and the SQL tracker store.

Conversations are kept in the lead database (``DATABASE_URL``, or the SQLite
file under ``var/``), in Rasa's own ``events`` table, so that a restart
continues every conversation where it was. ``scripts/run.sh`` and the tests
write the file with ``python -m common.endpoints OUT --actions-port PORT``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

from common import settings
from common.secret_files import private_folder, write_private

#: Rasa's SQL tracker store, reading only a conversation's new events (see ``bot/tracker_store.py``).
TRACKER_STORE_TYPE = "bot.tracker_store.IncrementalSQLTrackerStore"


def tracker_store(database_url: Optional[str] = None) -> Dict[str, Any]:
    """Rasa's SQL tracker store on the lead database (SQLite by default)."""
    url = database_url if database_url is not None else settings.database_url()
    if url and url.startswith("sqlite:///"):
        return {"type": TRACKER_STORE_TYPE, "dialect": "sqlite", "db": url[len("sqlite:///") :]}
    if url:
        return {"type": TRACKER_STORE_TYPE, "dialect": "postgresql", "url": url}  # Rasa passes "url" on as the host
    path = settings.sqlite_path()
    private_folder(path.parent)
    return {"type": TRACKER_STORE_TYPE, "dialect": "sqlite", "db": str(path)}


def action_endpoint(actions_url: str, actions_token: str = "") -> Dict[str, Any]:
    """Rasa's action endpoint: the action server, its token, and the domain sent only where asked for.

    With ``enable_selective_domain`` Rasa sends the domain (34 kB) only to the
    actions marked ``send_domain: true`` in ``domain.yml``; ours read none of it.
    """
    action: Dict[str, Any] = {"url": actions_url, "enable_selective_domain": True}
    if actions_token:
        action["token"] = actions_token  # sent as ?token=… with every action call
    return action


def render(actions_url: str, actions_token: str = "", database_url: Optional[str] = None) -> str:
    """The endpoints file's YAML (JSON is YAML): action endpoint and tracker store."""
    action = action_endpoint(actions_url, actions_token)
    return json.dumps({"action_endpoint": action, "tracker_store": tracker_store(database_url)}, indent=2) + "\n"


def write(path: Path, actions_port: int, database_url: Optional[str] = None, actions_token: str = "") -> Path:
    """Write the endpoints file (0600: it holds the action server's token)."""
    text = render(settings.actions_url(actions_port), actions_token or settings.actions_token(), database_url)
    write_private(path, text)
    return path


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m common.endpoints", description=__doc__.splitlines()[0])
    parser.add_argument("out", help="where to write the endpoints file")
    parser.add_argument("--actions-port", type=int, default=5055)
    args = parser.parse_args(argv)
    write(Path(args.out), args.actions_port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
