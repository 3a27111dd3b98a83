"""The website widget in a real headless Chromium, against the real servers.

The servers are the end-to-end ones (``tests/integration/e2e/conftest.py``: action server,
leads server, Rasa server with ``credentials.yml``, so the socket.io channel is
open). The browser reaches Rasa through a TCP proxy that can be switched off
and on, for a real network outage. Chromium is Debian's (``/usr/bin/chromium``,
or the path in ``CHROMIUM``), driven by Playwright; without it the browser
tests are skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Iterator, Optional

import pytest

from testkit.tcp_proxy import TcpProxy
from tests.integration.e2e.conftest import assistant  # noqa: F401  (the running servers, shared with this package)

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def browser_missing() -> Optional[str]:
    """Why the browser tests cannot run here, or ``None``."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed: make setup installs requirements-dev.txt"
    if not CHROMIUM.exists():
        return (
            f"no Chromium at {CHROMIUM}: make test installs Debian's chromium when run as root, "
            "otherwise run 'apt-get install chromium' (or set CHROMIUM to its path)"
        )
    return None


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[object]:
    reason = browser_missing()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    driver = sync_playwright().start()
    try:
        yield driver
    finally:
        driver.stop()


@pytest.fixture(scope="session")
def site(assistant) -> Iterator[TcpProxy]:  # noqa: F811
    """The Rasa server behind a switchable proxy: the address the browser uses."""
    port = int(assistant.url.rsplit(":", 1)[1])
    proxy = TcpProxy("127.0.0.1", port)
    proxy.url = f"http://127.0.0.1:{proxy.port}"
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture
def open_browser(playwright_driver) -> Iterator[Callable[..., object]]:
    """Opens Chromium with a fresh profile (``locale`` as the browser's language); closes it afterwards."""
    opened = []

    def open_(locale: str = "en-US"):
        profile = tempfile.mkdtemp(prefix="chromium-profile-")
        try:
            context = playwright_driver.chromium.launch_persistent_context(
                profile,
                executable_path=str(CHROMIUM),
                args=CHROMIUM_ARGS,
                headless=True,
                locale=locale,
                viewport={"width": 1280, "height": 800},
            )
        except Exception as error:
            shutil.rmtree(profile, ignore_errors=True)
            pytest.fail(f"Chromium at {CHROMIUM} did not start: {error}")
        opened.append((context, profile))
        return context

    yield open_
    for context, profile in opened:
        context.close()
        shutil.rmtree(profile, ignore_errors=True)
