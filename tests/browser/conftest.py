"""Fixtures for real-browser tests: Debian's Chromium driven by Playwright, offline-checked.

``browser_page`` is a fresh Playwright page (sync API) in headless Chromium from
``/usr/bin/chromium`` (``playwright install`` is never needed). It records the url of every
request the page makes (documents, scripts, styles, fonts, images, fetch/XHR, iframes, web
sockets) and, at teardown, fails the test if any went to a host other than 127.0.0.1,
localhost or [::1] (``data:``, ``blob:`` and ``about:`` urls are fine), listing them. It also
fails the test if a file under Solara's ``/_solara/cdn/`` route (or the dead CDN url
``experiments.solara_env.NO_CDN``) failed to load: that route only answers from the local asset
cache or by downloading from a CDN, so a failure there means an asset is missing locally (run
``python scripts/solara_assets.py``).

``serve`` starts a server subprocess in its own process group and waits for it to answer HTTP;
``free_port`` picks a port for it. Tests get them as the fixtures ``start_server`` and
``server_port`` (a conftest module is not meant to be imported).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from experiments.solara_env import NO_CDN

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
HARMLESS_SCHEMES = {"data", "blob", "about"}
# Solara's asset route, and the dead CDN url of experiments.solara_env (the browser uses it
# directly when Solara's proxy is off), so a failure there is an asset missing locally
ASSET_URL_MARKERS = ("/_solara/cdn/", urlsplit(NO_CDN).path)


def is_local(url: str) -> bool:
    """Whether loading ``url`` stays on this machine."""
    parts = urlsplit(url)
    if parts.scheme in HARMLESS_SCHEMES:
        return True
    return (parts.hostname or "").lower() in LOCAL_HOSTS


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A server subprocess started by :func:`serve`."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def log(self) -> str:
        """Everything the server wrote to stdout and stderr so far."""
        return self.log_path.read_text(errors="replace")


def _answers_http(url: str) -> bool:
    # no proxies: an HTTP(S)_PROXY in the environment must not intercept 127.0.0.1
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP status means the server is up
    except (OSError, urllib.error.URLError):
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate the process group of ``process``, then kill it if it lingers."""
    for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
        # the leader is gone; kill helpers it may have left in the group
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return


@contextmanager
def serve(
    cmd: list[str],
    port: int,
    env: dict[str, str],
    timeout: float = 60,
    cwd: str | Path | None = None,
) -> Iterator[Server]:
    """Run ``cmd`` (a server on 127.0.0.1:``port``) until the block ends.

    Waits until ``http://127.0.0.1:port/`` answers with any HTTP status (fails the test with
    the server's output if it exits first or ``timeout`` seconds pass), yields a
    :class:`Server`, and at exit kills the subprocess's whole process group.
    """
    url = f"http://127.0.0.1:{port}/"
    log_fd, log_name = tempfile.mkstemp(prefix=f"server-{port}-", suffix=".log")
    log_path = Path(log_name)
    with os.fdopen(log_fd, "wb") as log:
        process = subprocess.Popen(
            cmd,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so we can kill all of it
        )
    server = Server(process, url, log_path)
    try:
        deadline = time.monotonic() + timeout
        while not _answers_http(url):
            if process.poll() is not None:
                pytest.fail(
                    f"server exited with {process.returncode} before answering:\n"
                    f"$ {' '.join(cmd)}\n{server.log()[-4000:]}"
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"server did not answer {url} within {timeout} s:\n"
                    f"$ {' '.join(cmd)}\n{server.log()[-4000:]}"
                )
            time.sleep(0.2)
        yield server
    finally:
        _stop(process)
        log_path.unlink(missing_ok=True)


@pytest.fixture
def server_port() -> int:
    """A free TCP port on 127.0.0.1 (see :func:`free_port`)."""
    return free_port()


@pytest.fixture
def start_server() -> Callable[..., AbstractContextManager[Server]]:
    """The :func:`serve` context manager: ``with start_server(cmd, port, env) as server:``."""
    return serve


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium; skipped if absent, except in CI (CI=true), where that fails."""
    if Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(
            f"{CHROMIUM} not found, but CI=true: the browser tests must run in CI. "
            "Install it with `apt-get install -y chromium` (as .ci/run does)."
        )
    pytest.skip(f"{CHROMIUM} not found (apt-get install chromium)")


@pytest.fixture(scope="session")
def _chromium(chromium_path: str) -> Iterator[object]:
    """One headless Chromium for the session; each test gets its own context."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"playwright is not installed, but CI=true: {error}")
        pytest.skip(f"playwright is not installed ({error})")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class RequestLog:
    """What a :func:`browser_page` loaded."""

    urls: list[str] = field(default_factory=list)  # every request and web socket, in order
    failed: dict[str, str] = field(default_factory=dict)  # url -> HTTP status or network error

    def fail(self, url: str, reason: str) -> None:
        """Record the first failure of ``url``."""
        self.failed.setdefault(url, reason)

    def non_local(self) -> list[str]:
        """The requested urls that left this machine, without repeats."""
        return list(dict.fromkeys(url for url in self.urls if not is_local(url)))

    def failed_assets(self) -> list[str]:
        """Failed loads of Solara assets: files missing from the local cache."""
        return [
            f"{reason} {url}"
            for url, reason in self.failed.items()
            if any(marker in url for marker in ASSET_URL_MARKERS)
        ]


@pytest.fixture
def request_log() -> RequestLog:
    """The requests of this test's :func:`browser_page`."""
    return RequestLog()


@pytest.fixture
def browser_page(_chromium, request_log: RequestLog) -> Iterator[object]:
    """A page in a fresh browser context; fails the test if a request left 127.0.0.1."""
    context = _chromium.new_context(viewport={"width": 1280, "height": 900})
    context.on("request", lambda request: request_log.urls.append(request.url))

    def on_failed(request) -> None:
        # ERR_ABORTED alone is a cancelled load (navigation, closing); a missing file has
        # an HTTP error status, recorded first
        if request.failure != "net::ERR_ABORTED":
            request_log.fail(request.url, request.failure or "failed")

    def on_response(response) -> None:
        if response.status >= 400:
            request_log.fail(response.url, f"HTTP {response.status}")

    context.on("requestfailed", on_failed)
    context.on("response", on_response)
    # web sockets do not show up as requests; record them for every page of the context
    context.on(
        "page",
        lambda page: page.on("websocket", lambda socket: request_log.urls.append(socket.url)),
    )
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()
    problems = []
    if outside := request_log.non_local():
        problems.append("requests to hosts other than 127.0.0.1/localhost/[::1]:")
        problems += [f"  {url}" for url in outside]
    if missing := request_log.failed_assets():
        problems.append(
            "Solara assets that failed to load (missing from the local cache? "
            "run `python scripts/solara_assets.py`):"
        )
        problems += [f"  {entry}" for entry in missing]
    if problems:
        pytest.fail("the page did not stay offline:\n" + "\n".join(problems), pytrace=False)
