"""A class of thirty on the real teaching app: server-side time per action and server memory.

``python scripts/classroom_load.py [--sessions 30] [--browsers 3] [--write docs/TEACHING.md]``

Starts ``python -m experiments.teach`` on a free port (offline environment, the server's own
timing of every websocket message on: ``RUDPRK_TEACH_TIMINGS``, see
:func:`experiments.teach.install_timing`) and drives it with ``--sessions`` concurrent sessions:
``--browsers`` of them real Chromium pages (Playwright, ``/usr/bin/chromium``), the others
protocol-level sessions that speak the page's websocket protocol as its JavaScript does (open the
page, move a slider, press Reset, Step, Play, close), so thirty browsers do not compete with the
server for the two cores. The teacher's page (one more session) stays open throughout.

What a class does (each session at its own moment within the phase, as students do):

1. arrive: sessions open the page over ``ARRIVAL`` seconds;
2. a new setting: each moves a slider of its own to a value no other session chose and presses
   Reset, at a random moment within ``RESET_WINDOW`` seconds;
3. ``STEPS`` Steps, one every 1-2 s; then Play (``PLAY_STEPS`` quarters, one per 600 ms);
4. a second new setting and Reset, again within ``RESET_WINDOW`` seconds;
5. a burst: every session moves a slider, then all press Reset within ``BURST_WINDOW`` seconds
   (reported apart, without a target: the worst case of a class told "press Reset now");
6. leave: every page closes (as a closed tab: the close beacon, then the websocket).

Reported, from the server's own log: median and p95 of the server-side time of Reset with a new
setting (the handler of the Reset event: the new run, re-render and the traits sent back), Step
and Play (the handler of the ``step`` update each sends); the server's resident memory before the
class (the teacher's page open), its peak during it, and after the sessions closed (read once
they are culled, ``--session-timeout`` seconds after closing, and the server's next memory trim
has run, until it is back within ``MEMORY_SLACK_MIB`` of the start or ``--after`` seconds
passed). ``--write FILE`` replaces the block
between ``<!-- classroom-load:begin -->`` and ``<!-- classroom-load:end -->`` in FILE with the
figures and this command. ``tests/browser/test_classroom_load.py`` runs it and checks the targets.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from contract.cli import OneLineParser, UsageError  # noqa: E402
from contract.cli import run as run_command  # noqa: E402
from contract.io import replace_between, write_text  # noqa: E402
from experiments.solara_env import offline_environment  # noqa: E402
from experiments.teach import PRUNE_SECONDS, TIMINGS_ENV  # noqa: E402
from sim import params as P  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARRIVAL = 8.0  # seconds over which the class opens the page
RESET_WINDOW = 12.0  # seconds within which every session presses Reset
BURST_WINDOW = 1.0  # ... and in the burst
STEPS = 5
PLAY_STEPS = 8
PLAY_INTERVAL = 0.6
MEMORY_SLACK_MIB = 50
TARGET_RESET_P95_MS = 2000
TARGET_STEP_P95_MS = 200
BEGIN, END = "<!-- classroom-load:begin -->", "<!-- classroom-load:end -->"
COMMAND = "python scripts/classroom_load.py --write docs/TEACHING.md"
TEACH = [p for p in P.PARAMETERS if p.teach and p.kind is not bool]


# -- the server -----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mib(pid: int) -> float:
    """Memory of a process and its children (MiB): the sum of their proportional set sizes
    (PSS: a page shared by k of them counts 1/k in each), so forked workers are not counted
    twice; resident size where PSS is not available."""
    import psutil

    process = psutil.Process(pid)
    total = 0
    for each in (process, *process.children(recursive=True)):
        try:
            info = each.memory_full_info()
            total += getattr(info, "pss", info.rss)
        except psutil.Error:
            pass
    return total / 2**20


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    timings: Path
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def rss(self) -> float:
        return rss_mib(self.process.pid)

    def breakdown(self) -> dict[str, float]:
        """PSS (MiB) of each process of the server: the server, its fork server, workers."""
        import psutil

        out = {}
        root = psutil.Process(self.process.pid)
        for each in (root, *root.children(recursive=True)):
            try:
                info = each.memory_full_info()
                name = "server" if each.pid == root.pid else " ".join(each.cmdline()[-2:])[-40:]
                out[f"{each.pid} {name}"] = round(getattr(info, "pss", info.rss) / 2**20, 1)
            except psutil.Error:
                pass
        return out

    def stop(self) -> None:
        for sig, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.process.wait(timeout=grace)
                return
            except subprocess.TimeoutExpired:
                continue


def start_server(
    workdir: Path,
    replicates: int,
    session_timeout: int,
    workers: int | None = None,
    pymalloc: bool = False,
) -> Server:
    port = free_port()
    timings, log = workdir / "timings.jsonl", workdir / "server.log"
    env = {**os.environ, **offline_environment(), TIMINGS_ENV: str(timings)}
    env["SOLARA_HOME"] = str(workdir / "solara-home")
    env.pop("PYTEST_CURRENT_TEST", None)
    env.pop("PYTHONMALLOC", None)  # the server's own choice (experiments.teach.use_c_allocator)
    if pymalloc:  # ... or Python's own allocator, for comparison
        env["PYTHONMALLOC"] = "pymalloc"
    cmd = [sys.executable, "-m", "experiments.teach", "--port", str(port)]
    cmd += ["--replicates", str(replicates), "--session-timeout", str(session_timeout)]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    with open(log, "wb") as out:
        process = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(process, port, timings, log)
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(server.url, timeout=2):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"the app did not start:\n{log.read_text()[-3000:]}") from None
            time.sleep(0.3)
    return server


# -- a protocol-level session ---------------------------------------------------------------------
def _message(msg_type: str, content: dict[str, Any], session: str) -> str:
    header = {
        "msg_id": uuid.uuid4().hex,
        "username": "student",
        "session": session,
        "msg_type": msg_type,
        "version": "5.3",
        "date": datetime.now(UTC).isoformat(),
    }
    message = {"header": header, "parent_header": {}, "metadata": {}, "content": content}
    return json.dumps({**message, "channel": "shell", "buffers": []})


def _parse(raw: str | bytes) -> dict[str, Any]:
    if isinstance(raw, str):
        return json.loads(raw)
    import struct

    count = struct.unpack("!i", raw[:4])[0]
    offsets = list(struct.unpack("!" + "I" * count, raw[4 : 4 * (count + 1)]))
    end = offsets[1] if len(offsets) > 1 else None
    return json.loads(raw[offsets[0] : end].decode("utf8"))


class ProtocolSession:
    """One student page spoken at the websocket level, as Solara's page JavaScript does."""

    def __init__(self, base: str):
        self.base = base.rstrip("/")
        self.kernel_id = str(uuid.uuid4())
        self.page_id = str(uuid.uuid4())
        self.states: dict[str, dict[str, Any]] = {}  # widget model id -> synced state
        self.lesson: str | None = None  # the LessonView's model id
        self.control = uuid.uuid4().hex
        self.finished = asyncio.Event()
        self.changed = asyncio.Event()
        self.cookie = ""
        self.ws: Any = None
        self.reader: asyncio.Task | None = None

    async def open(self) -> None:
        import websockets

        def get_cookie() -> str:
            with urllib.request.urlopen(self.base + "/", timeout=60) as response:
                cookies = response.headers.get_all("set-cookie") or []
            return "; ".join(c.split(";", 1)[0] for c in cookies)

        self.cookie = await asyncio.to_thread(get_cookie)
        url = self.base.replace("http", "ws", 1)
        url += f"/jupyter/api/kernels/{self.kernel_id}/channels?session_id={self.page_id}"
        self.ws = await websockets.connect(
            url,
            additional_headers={"Cookie": self.cookie, "Origin": self.base},
            max_size=None,
            open_timeout=60,
            ping_interval=None,
        )
        self.reader = asyncio.create_task(self._read())
        await self._send("comm_open", {"comm_id": self.control, "target_name": "solara.control"})
        await self._send(
            "comm_msg",
            {"comm_id": self.control, "data": {"method": "run", "args": {"path": ""}}},
        )
        await asyncio.wait_for(self.finished.wait(), 120)
        await self.wait_run(None)

    async def _send(self, msg_type: str, content: dict[str, Any]) -> None:
        await self.ws.send(
            _message(msg_type, {**content, "data": content.get("data", {})}, self.page_id)
        )

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                msg = _parse(raw)
                kind = msg.get("header", {}).get("msg_type")
                content = msg.get("content", {})
                data = content.get("data") or {}
                comm = content.get("comm_id")
                if kind == "comm_open":
                    self.states[comm] = dict(data.get("state") or {})
                elif kind == "comm_msg" and comm == self.control:
                    if data.get("method") == "finished":
                        self.finished.set()
                elif kind == "comm_msg" and data.get("method") == "update" and comm:
                    self.states.setdefault(comm, {}).update(data.get("state") or {})
                else:
                    continue
                if comm and "run_id" in self.states.get(comm, {}):
                    self.lesson = comm
                self.changed.set()
        except Exception:  # the socket closed
            self.changed.set()

    def run_id(self) -> str:
        return self.states[self.lesson]["run_id"] if self.lesson else ""

    async def wait_run(self, old: str | None, timeout: float = 120) -> str:
        """Wait until the lesson shows a run other than ``old``; its id."""
        deadline = time.monotonic() + timeout
        while not self.run_id() or self.run_id() == old:
            self.changed.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the page did not show a new run")
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except TimeoutError:
                pass
        return self.run_id()

    def slider(self, key: str) -> str:
        """The model id of the slider of a teaching parameter."""
        marker = f"teach-param-{key.replace('.', '-')}"
        for state in self.states.values():
            if marker in str(state.get("class_", "")).split():
                todo = [c for c in state.get("children", []) if isinstance(c, str)]
                while todo:
                    child = todo.pop().removeprefix("IPY_MODEL_")
                    inner = self.states.get(child, {})
                    if inner.get("_model_name") == "SliderModel":
                        return child
                    todo += [c for c in inner.get("children", []) if isinstance(c, str)]
        raise KeyError(f"no slider for {key}")

    async def set_slider(self, key: str, value: float) -> None:
        data = {"method": "update", "state": {"v_model": value}, "buffer_paths": []}
        await self._send("comm_msg", {"comm_id": self.slider(key), "data": data})

    async def reset(self) -> float:
        """Press Reset; the seconds until the page shows the new run."""
        old, start = self.run_id(), time.perf_counter()
        data = {"method": "custom", "content": {"event": "reset", "data": None}}
        await self._send("comm_msg", {"comm_id": self.lesson, "data": data})
        await self.wait_run(old)
        return time.perf_counter() - start

    async def step(self, n: int) -> None:
        data = {"method": "update", "state": {"step": n}, "buffer_paths": []}
        await self._send("comm_msg", {"comm_id": self.lesson, "data": data})

    async def play(self, first: int, last: int) -> None:
        """Play: the page's timer moves ``step`` every ``PLAY_INTERVAL`` seconds."""
        for n in range(first, last + 1):
            await asyncio.sleep(PLAY_INTERVAL)
            await self.step(n)

    async def close(self) -> None:
        """As a closed tab: the close beacon, then the websocket."""
        url = f"{self.base}/_solara/api/close/{self.kernel_id}?session_id={self.page_id}"

        def beacon() -> None:
            request = urllib.request.Request(
                url, method="POST", data=b"", headers={"Cookie": self.cookie}
            )
            with urllib.request.urlopen(request, timeout=30):
                pass

        try:
            await asyncio.to_thread(beacon)
        finally:
            await self.ws.close()
            if self.reader:
                await asyncio.gather(self.reader, return_exceptions=True)


# -- a browser session ----------------------------------------------------------------------------
class BrowserSession:
    """One student page in Chromium, driven through its buttons and sliders."""

    def __init__(self, browser: Any, base: str):
        self.browser, self.base = browser, base
        self.context: Any = None
        self.page: Any = None

    async def open(self) -> None:
        self.context = await self.browser.new_context(viewport={"width": 1280, "height": 720})
        self.page = await self.context.new_page()
        self.page.set_default_timeout(120_000)
        await self.page.goto(self.base)
        await self.wait_step(0)

    async def wait_step(self, n: int) -> None:
        await self.page.wait_for_function(
            "n => { const e = document.querySelector('.teach-step'); "
            "const d = [...document.querySelectorAll('.teach-main .reveal-chart')]"
            ".map(c => c.getAttribute('data-drawn-step')); "
            "return e && e.textContent.trim() === String(n) && d.length === 2 "
            "&& d.every(x => x === String(n)); }",
            arg=n,
        )

    async def set_slider(self, key: str, value: float) -> None:
        """Move the slider to ``value`` with the keyboard (Home, then one step right at a time)."""
        from experiments.app.ensemble import slider_step

        param = P.BY_KEY[key]
        slider = self.page.locator(f".teach-param-{key.replace('.', '-')} [role=slider]").first
        await slider.focus()
        await slider.press("Home")
        for _ in range(round((value - param.low) / slider_step(param))):
            await slider.press("ArrowRight")

    async def reset(self) -> float:
        start = time.perf_counter()
        before = await self.page.locator(".teach-futures").inner_text()
        await self.page.locator(".teach-reset").first.click()
        await self.page.wait_for_function(
            "b => document.querySelector('.teach-futures').innerText !== b", arg=before
        )
        await self.wait_step(0)
        return time.perf_counter() - start

    async def step(self, n: int) -> None:
        await self.page.locator(".teach-step-button").first.click()
        await self.wait_step(n)

    async def play(self, first: int, last: int) -> None:
        """Press Play and wait until the page reached ``last``, then pause."""
        await self.page.locator(".teach-play").first.click()
        await self.page.wait_for_function(
            "n => Number(document.querySelector('.teach-step').textContent) >= n", arg=last
        )
        await self.page.locator(".teach-play").first.click()

    async def close(self) -> None:
        await self.page.close(run_before_unload=True)  # the close beacon, as a closed tab
        await self.context.close()


# -- the class ------------------------------------------------------------------------------------
def new_setting(i: int, round_: int) -> tuple[str, float]:
    """A parameter and value that session ``i`` sets in round ``round_``: no two alike."""
    param = TEACH[i % len(TEACH)]
    span = param.high - param.low
    k = i // len(TEACH) + 4 * round_ + 1  # 1.. per parameter
    value = param.low + span * (0.02 + 0.045 * k)
    if abs(value - param.default) < span * 0.01:
        value += span * 0.02
    step = 1.0 if span >= 50 else 0.01
    return param.key, round(round(value / step) * step, 2)


@dataclass
class Figures:
    reset_ms: list[float] = field(default_factory=list)
    step_ms: list[float] = field(default_factory=list)
    play_ms: list[float] = field(default_factory=list)
    reset_cpu_ms: list[float] = field(default_factory=list)
    burst_ms: list[float] = field(default_factory=list)
    trim_ms: list[float] = field(default_factory=list)
    allocator: str = "the C allocator"
    burst_at: float = float("inf")
    client_reset_s: list[float] = field(default_factory=list)
    client_burst_s: list[float] = field(default_factory=list)
    memory: dict[str, float] = field(default_factory=dict)
    after_s: float = 0.0
    teacher_ok: bool = False
    teacher_reset_s: float = 0.0
    load_before: float = 0.0
    load_peak: float = 0.0
    detail: dict[str, dict[str, float]] = field(default_factory=dict)
    log: str = ""
    sessions: int = 0
    browsers: int = 0
    errors: list[str] = field(default_factory=list)


async def student(
    i: int, session: Any, figures: Figures, start: float, rng: random.Random, phases: dict
) -> None:
    """One student's lesson; ``phases`` holds the start of each phase (loop time)."""
    loop = asyncio.get_running_loop()

    async def at(moment: float) -> None:
        await asyncio.sleep(max(0.0, moment - loop.time()))

    try:
        await at(start + rng.uniform(0, ARRIVAL))
        await session.open()
        for round_, phase in enumerate(("reset1", "reset2")):
            await phases[phase].wait()
            key, value = new_setting(i, round_)
            await at(phases["t_" + phase] + rng.uniform(0, RESET_WINDOW - 1))
            await session.set_slider(key, value)
            await asyncio.sleep(rng.uniform(0.3, 1.0))
            figures.client_reset_s.append(await session.reset())
            if round_ == 0:
                await phases["steps"].wait()
                for n in range(1, STEPS + 1):
                    await asyncio.sleep(rng.uniform(1.0, 2.0))
                    await session.step(n)
                await asyncio.sleep(rng.uniform(0, 1.0))
                await session.play(STEPS + 1, STEPS + PLAY_STEPS)
        await phases["burst"].wait()
        key, value = new_setting(i, 2)
        await session.set_slider(key, value)
        await at(phases["t_burst"] + 3 + rng.uniform(0, BURST_WINDOW))
        figures.client_burst_s.append(await session.reset())
        await phases["leave"].wait()
        await asyncio.sleep(rng.uniform(0, 3))
        await session.close()
    except Exception as error:  # counted and reported: a session that failed is a finding
        figures.errors.append(f"session {i}: {type(error).__name__}: {error}")


async def run_class(
    server: Server, sessions: int, browsers: int, seed: int, after: float, session_timeout: int
) -> Figures:
    """The class (see the module docstring) against a running server; its figures."""
    figures = Figures(sessions=sessions, browsers=browsers)
    rng = random.Random(seed)
    loop = asyncio.get_running_loop()
    teacher = ProtocolSession(server.url)
    await teacher.open()  # the teacher's page: open before, during and after the class
    # the pre-class level: the server idle with the teacher's page, as before students arrive
    # (its worker process ended after --session-timeout idle, as it does after the class)
    deadline = time.monotonic() + 3 * session_timeout + 30
    while len(server.breakdown()) > 3 and time.monotonic() < deadline:
        await asyncio.sleep(2)
    figures.memory["before"] = server.rss()
    figures.detail["before"] = server.breakdown()
    with open(server.timings, encoding="utf-8") as handle:
        first_line = sum(1 for _ in handle)
    playwright = browser = None
    if browsers:
        from playwright.async_api import async_playwright

        playwright = await async_playwright().start()
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
    try:
        clients: list[Any] = [BrowserSession(browser, server.url) for _ in range(browsers)]
        clients += [ProtocolSession(server.url) for _ in range(sessions - browsers)]
        phases: dict[str, Any] = {
            name: asyncio.Event() for name in ("reset1", "steps", "reset2", "burst", "leave")
        }
        peak, sampling = [0.0], [True]

        async def sample() -> None:
            while sampling[0]:
                peak[0] = max(peak[0], server.rss())
                figures.load_peak = max(figures.load_peak, os.getloadavg()[0])
                await asyncio.sleep(1.0)

        sampler = asyncio.create_task(sample())
        start = loop.time()
        tasks = [
            asyncio.create_task(student(i, c, figures, start, random.Random(rng.random()), phases))
            for i, c in enumerate(clients)
        ]
        opened = ARRIVAL + 20
        schedule = (
            ("reset1", opened),
            ("steps", opened + RESET_WINDOW + 5),
            ("reset2", opened + RESET_WINDOW + 5 + 2 * STEPS + PLAY_STEPS * PLAY_INTERVAL + 6),
        )
        for name, moment in schedule:
            await asyncio.sleep(max(0.0, start + moment - loop.time()))
            phases["t_" + name] = loop.time()
            phases[name].set()
        await asyncio.sleep(RESET_WINDOW + 8)
        phases["t_burst"], figures.burst_at = loop.time(), time.time() + 2.5
        phases["burst"].set()
        await asyncio.sleep(3 + BURST_WINDOW + 12)
        phases["leave"].set()
        await asyncio.gather(*tasks)
        sampling[0] = False
        await sampler
        figures.memory["during"] = peak[0]
    finally:
        if browser is not None:
            await browser.close()
            await playwright.stop()
    left = time.monotonic()
    before = figures.memory["before"]
    # the sessions are culled `session_timeout` s after they closed and the next trim follows
    # within PRUNE_SECONDS: memory is read from then on, until it is back or `after` seconds
    settled = min(after, session_timeout + PRUNE_SECONDS + 5)
    while True:
        await asyncio.sleep(2)
        figures.memory["after"] = server.rss()
        figures.after_s = time.monotonic() - left
        back = figures.memory["after"] <= before + MEMORY_SLACK_MIB
        if (back and figures.after_s >= settled) or figures.after_s > after:
            break
    figures.detail["after"] = server.breakdown()
    # the teacher's page still works after the class: a new setting, computed by a new worker
    key, value = new_setting(len(clients), 3)
    await teacher.set_slider(key, value)
    figures.teacher_reset_s = await asyncio.wait_for(teacher.reset(), 120)
    figures.teacher_ok = True
    await teacher.close()
    read_timings(server, figures, first_line)
    figures.burst_ms = figures.burst_ms[:-1]  # the teacher's, after the class
    return figures


def read_timings(server: Server, figures: Figures, first_line: int) -> None:
    """Fill the server-side times from the server's timing log (lines after ``first_line``)."""
    with open(server.timings, encoding="utf-8") as handle:
        lines = handle.read().splitlines()[first_line:]
    for line in lines:
        entry = json.loads(line)
        if entry["kind"] == "event:reset" and entry["at"] >= figures.burst_at:
            figures.burst_ms.append(entry["wall_ms"])
        elif entry["kind"] == "event:reset":
            figures.reset_ms.append(entry["wall_ms"])
            figures.reset_cpu_ms.append(entry["cpu_ms"])
        elif entry["kind"] == "update:step":
            figures.step_ms.append(entry["wall_ms"])
        elif entry["kind"] == "malloc_trim":
            figures.trim_ms.append(entry["wall_ms"])


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def summary(f: Figures) -> str:
    """The figures as the lines the test prints and the docs hold."""

    def ms(values: list[float]) -> str:
        if not values:
            return "no samples"
        return (
            f"median {statistics.median(values):.0f} ms, p95 {percentile(values, 95):.0f} ms "
            f"(n={len(values)})"
        )

    m = f.memory
    return "\n".join(
        [
            f"{f.sessions} concurrent sessions ({f.browsers} Chromium pages, "
            f"{f.sessions - f.browsers} protocol-level) and the teacher's page; each sets two new "
            f"settings (Reset within {RESET_WINDOW:.0f} s of each other), {STEPS} Steps, "
            f"{PLAY_STEPS} quarters of Play. Server-side time inside the handler:",
            f"- Reset with a new setting: {ms(f.reset_ms)} "
            f"(target p95 < {TARGET_RESET_P95_MS} ms); its thread's CPU {ms(f.reset_cpu_ms)}",
            f"- Step and Play (one quarter each): {ms(f.step_ms)} "
            f"(target p95 < {TARGET_STEP_P95_MS} ms)",
            f"- Reset as the pages saw it (press to new run shown): "
            f"{ms([1000 * s for s in f.client_reset_s])}",
            f"- a burst, all {f.sessions} pressing Reset with new settings within "
            f"{BURST_WINDOW:.0f} s (no target): server-side {ms(f.burst_ms)}",
            f"- server memory (PSS of the server and its workers): {m.get('before', 0):.0f} MiB "
            f"before (teacher's page open, the server idle), {m.get('during', 0):.0f} MiB peak during, "
            f"{m.get('after', 0):.0f} MiB {f.after_s:.0f} s after the sessions closed "
            f"(target: at most {MEMORY_SLACK_MIB} MiB above before)",
            f"- the server's freed memory returned to the system every {PRUNE_SECONDS:.0f} s "
            f"(glibc malloc_trim, Python's objects on {f.allocator}): {ms(f.trim_ms)} per trim",
            f"- machine: {os.cpu_count()} cores, load average {f.load_before:.1f} before the "
            f"class, up to {f.load_peak:.1f} during it",
        ]
    )


def write_block(path: Path, text: str, machine: str) -> None:
    """Replace the figures block of ``path`` (between BEGIN and END) with ``text``, atomically."""
    block = f"```\n{COMMAND}\n```\n{machine}\n\n{text}"
    write_text(
        path, replace_between(path.read_text(encoding="utf-8"), BEGIN, END, block, str(path))
    )


def measure(
    sessions: int = 30,
    browsers: int = 3,
    replicates: int = 1000,
    session_timeout: int = 30,
    after: float = 120,
    seed: int = 1,
    workers: int | None = None,
    pymalloc: bool = False,
) -> Figures:
    """Run the class against a fresh server; the figures (see the module docstring)."""
    with tempfile.TemporaryDirectory(prefix="classroom-load-") as tmp:
        workdir = Path(os.environ.get("CLASSROOM_LOAD_KEEP") or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        load = os.getloadavg()[0]
        server = start_server(workdir, replicates, session_timeout, workers, pymalloc)
        try:
            figures = asyncio.run(
                run_class(server, sessions, browsers, seed, after, session_timeout)
            )
        finally:
            server.stop()
        figures.log = server.log.read_text(errors="replace")
        if pymalloc:
            figures.allocator = "pymalloc, Python's own allocator (--pymalloc)"
        figures.load_before = load
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(
        prog="python scripts/classroom_load.py", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--browsers", type=int, default=3)
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=None, help="the app's --workers")
    parser.add_argument("--session-timeout", type=int, default=30)
    parser.add_argument("--after", type=float, default=120, help="seconds to wait for the memory")
    parser.add_argument("--write", type=Path, default=None, help="put the figures into this file")
    parser.add_argument(
        "--pymalloc",
        action="store_true",
        help="run the server on Python's own allocator, as before issue 24 (for comparison)",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.sessions <= 200 or not 0 <= args.browsers <= args.sessions:
        raise UsageError(
            f"--sessions={args.sessions} --browsers={args.browsers}: expected 1 to 200 "
            "sessions, at most that many browsers"
        )
    if args.write and args.pymalloc:
        raise UsageError("--write records the server as it runs: --pymalloc is for comparison")
    if args.write:  # before the class, not after it: the file must hold the block
        replace_between(args.write.read_text(encoding="utf-8"), BEGIN, END, "", str(args.write))
    figures = measure(
        args.sessions,
        args.browsers,
        args.replicates,
        args.session_timeout,
        args.after,
        workers=args.workers,
        pymalloc=args.pymalloc,
    )
    text = summary(figures)
    print(text)
    if figures.errors:
        print("sessions that failed:\n" + "\n".join(figures.errors), file=sys.stderr)
        return 1
    if args.write:
        machine = (
            f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC (other engineers' jobs may have "
            f"shared the machine: see its load below); sessions culled {args.session_timeout} s "
            "after they closed (`--session-timeout`)."
        )
        write_block(args.write, text, machine)
        print(f"wrote the figures into {args.write}")
    return 0


if __name__ == "__main__":
    run_command(main)  # bad options one line (exit 2), Ctrl+C one line (the server is stopped)
