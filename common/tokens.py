"""The tokens the servers share: given in the environment, or generated once into ``var/`` (0600).

``python -m common.tokens rasa|actions`` prints one (``scripts/run.sh`` uses it).
"""

from __future__ import annotations

import sys
from typing import List, Optional

from common import settings
from common.secret_files import read_or_create


def rasa_api_token() -> str:
    """The Rasa HTTP API's token: ``RASA_API_TOKEN`` or ``var/rasa_api_token``."""
    return read_or_create(settings.rasa_token_file(), settings.rasa_api_token())


def actions_token() -> str:
    """The action server's token: ``ACTIONS_TOKEN`` or ``var/actions_token``."""
    return read_or_create(settings.var_dir() / "actions_token", settings.actions_token())


def web_session_secret() -> str:
    """The key that signs web chat session ids: ``WEB_SESSION_SECRET`` or ``var/web_session_secret``."""
    return read_or_create(settings.web_session_secret_file(), settings.web_session_secret(), 32)


def erasure_salt() -> str:
    """The salt of erasure tombstones: ``ERASURE_SALT`` or ``var/erasure_salt``."""
    return read_or_create(settings.erasure_salt_file(), settings.erasure_salt(), 32)


def main(argv: Optional[List[str]] = None) -> int:
    which = (argv if argv is not None else sys.argv[1:]) or [""]
    makers = {"rasa": rasa_api_token, "actions": actions_token}
    if which[0] not in makers:
        print("usage: python -m common.tokens rasa|actions", file=sys.stderr)
        return 2
    print(makers[which[0]]())
    return 0


if __name__ == "__main__":
    sys.exit(main())
