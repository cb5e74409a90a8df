"""Start the teaching app: ``python -m experiments.teach [--host H] [--port P] [--lang en|mn]``.

Serves ``experiments.app`` (the lesson page at ``/``, the class board at ``/board``) with
``solara run`` on 127.0.0.1 — only this machine can connect — unless ``--host`` names another
address, and says at start which address it listens on. The app has no authentication: a
non-loopback ``--host`` (a classroom network) is refused unless ``--i-know-this-is-public`` is
given too, and then a warning goes to stderr (issue 10). ``--class-dir DIR`` turns on the class
board (``experiments.classboard``: SQLite in DIR, kept across restarts). The teacher code that
opens ``/board`` is made when the folder is first used and written to ``DIR/teacher-code.txt``
(mode 0600: the teacher's account only), never echoed to the terminal the teacher may be
projecting unless ``--show-code`` asks for it (the board itself keeps only a hash of it;
``--new-teacher-code`` replaces a forgotten one).

Every HTTP request and websocket goes through :class:`OriginGuard` (a middleware added to
Solara's Starlette app before the server starts): a request whose ``Host`` is a name this
machine does not answer to (DNS rebinding) or whose ``Origin`` is another site is refused with
403, so a page of another site cannot open the app's websocket and submit, or read the board,
in a student's or the teacher's browser. The guard also forbids framing by other sites and
passes the client's address to the app (``CLIENT_HEADER``) for the board's lockout. It answers
Solara's introspection routes (``/resourcez``: the server's CPU, memory and sessions;
``/readyz``) with 404, so no student can read them, and a request that makes a route fail (e.g.
``POST /_solara/api/close/x`` without its ``session_id``) with one-line 400 and one log line, not
a traceback in the teacher's terminal.

Disconnected sessions are closed after ``--session-timeout`` seconds (Solara's
``SOLARA_KERNEL_CULL_TIMEOUT``, whose default of 24 h kept a class's memory until the next day);
:mod:`experiments.app.ensemble` drops runs nobody asked for in that time and returns the memory.
With ``RUDPRK_TEACH_TIMINGS=FILE`` in the environment the server appends one JSON line per
handled websocket message (what it was, wall and CPU milliseconds inside the handler) to FILE:
``scripts/classroom_load.py`` reads them (:func:`install_timing`).

The free-port check binds with ``SO_REUSEADDR``, as the server (uvicorn) itself does, so a
restart right after a session with a browser attached is not refused because of the previous
run's TIME-WAIT connections; a port really in use is still refused, naming the error. Before Solara is imported it applies the offline
environment of ``experiments.solara_env`` (no telemetry, no version check, the page's
front-end files from Solara's local cache: install them once with
``python scripts/solara_assets.py``), so no request leaves the machine.

Options: ``--replicates`` sets the ensemble size (default 1,000); ``--lang`` the language the
page opens in (the page has a switch too).
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from contract.cli import OneLineParser
from contract.cli import run as run_command
from experiments.i18n import LANGUAGES

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
APP = "experiments.app"
DEFAULT_WORKERS = 1  # one process beside the server: two cores, server and worker
DEFAULT_SESSION_TIMEOUT = 120  # seconds a disconnected session is kept (a reload reconnects)
CODE_FILE = "teacher-code.txt"
CODE_FILE_MODE = 0o600
TIMINGS_ENV = "RUDPRK_TEACH_TIMINGS"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = OneLineParser(
        prog="python -m experiments.teach",
        description="Start the classroom app for what-if exercises (lesson page and class board).",
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 opens it "
        "to the network, e.g. a classroom, and needs --i-know-this-is-public)",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="TCP port (default 8765)")
    parser.add_argument("--lang", default="en", choices=LANGUAGES, help="language of the page")
    parser.add_argument(
        "--replicates", type=int, default=1000, help="ensemble size per model (default 1000)"
    )
    parser.add_argument(
        "--class-dir",
        default=None,
        help="folder of this class's board (SQLite; created if missing, kept across restarts); "
        "without it the class board is off",
    )
    parser.add_argument(
        "--new-teacher-code",
        action="store_true",
        help="with --class-dir: replace the class's teacher code by a new one and print it "
        "(the board keeps only a hash of the code, so a forgotten code cannot be shown again)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=DEFAULT_WORKERS,
        help="processes that compute new runs beside the server (default "
        f"{DEFAULT_WORKERS}; 0 computes in the server itself)",
    )
    parser.add_argument(
        "--show-code",
        action="store_true",
        help="with --class-dir: print a new teacher code in the terminal too (by default it is "
        "only written to DIR/teacher-code.txt, readable by you only)",
    )
    parser.add_argument(
        "--session-timeout",
        type=int,
        default=DEFAULT_SESSION_TIMEOUT,
        help="seconds a disconnected student session is kept before its memory is freed "
        f"(default {DEFAULT_SESSION_TIMEOUT}; a reload within it keeps the student's page)",
    )
    parser.add_argument(
        "--i-know-this-is-public",
        action="store_true",
        dest="public",
        help="allow a --host other than loopback: the app has no authentication and anyone on "
        "the network can use it",
    )
    return parser.parse_args(argv)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is only reachable from this machine."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


PUBLIC_WARNING = (
    "warning: the teaching app has no authentication: anyone who can reach {url} can use it "
    "(only the class board needs the teacher code); stop it after the lesson"
)


def check(args: argparse.Namespace) -> str | None:
    """One message naming what is wrong with the options, or None."""
    if not 1 <= args.port <= 65535:
        return f"--port={args.port} is out of range: expected 1 to 65535"
    if not 1 <= args.replicates <= 100_000:
        return f"--replicates={args.replicates} is out of range: expected 1 to 100000"
    if not 0 <= args.workers <= 8:
        return f"--workers={args.workers} is out of range: expected 0 to 8"
    if not 10 <= args.session_timeout <= 86_400:
        return f"--session-timeout={args.session_timeout} is out of range: expected 10 to 86400"
    if not is_loopback(args.host) and not args.public:
        return (
            f"--host={args.host} lets other machines connect, and the app has no "
            "authentication: add --i-know-this-is-public to allow it, or use 127.0.0.1"
        )
    try:
        family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            # as uvicorn binds: TIME-WAIT sockets of the last run do not block a restart
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((args.host, args.port))
    except OSError as error:
        return f"cannot listen on {args.host}:{args.port}: {error.strerror or error}"
    return None


def base_url(host: str, port: int) -> str:
    """The app's address as a url."""
    return f"http://{'[' + host + ']' if ':' in host else host}:{port}/"


def describe(host: str, port: int) -> str:
    """The start-up line saying where the app listens and who can reach it."""
    url = base_url(host, port)
    who = (
        "only this machine can connect"
        if is_loopback(host)
        else "other machines on the network can connect too"
    )
    return f"Teaching app listening on {url} ({who}); stop it with Ctrl+C"


def write_code_file(class_dir: Path, code: str) -> Path:
    """Write the teacher code to ``class_dir/teacher-code.txt``, readable by its owner only."""
    path = Path(class_dir) / CODE_FILE
    tmp = path.with_name(f".{CODE_FILE}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, CODE_FILE_MODE)
    try:
        os.fchmod(fd, CODE_FILE_MODE)
        os.write(fd, f"{code}\n".encode())
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return path


def board_message(board: Any, url: str, renew: bool, show: bool = False) -> str:
    """The start-up line of the class board: where it is and where its teacher code is.

    A new code goes to ``teacher-code.txt`` in the class folder (0600); it is printed only with
    ``show`` (the teacher's terminal may be on the projector).
    """
    if renew:
        board.new_teacher_code()
    where = f"Class board: {url}board (class folder {board.class_dir})"
    file = Path(board.class_dir) / CODE_FILE
    if board.fresh_code:
        path = write_code_file(board.class_dir, board.fresh_code)
        if show:
            return f"{where}; teacher code: {board.fresh_code} (also in {path})"
        return f"{where}; teacher code: in {path} (readable by you only; delete it once noted)"
    if file.exists():
        return f"{where}; teacher code: unchanged, in {file} (readable by you only)"
    note = " (now kept hashed)" if board.migrated else ""
    return (
        f"{where}; teacher code: unchanged{note}, as given when this class folder was first "
        "used (--new-teacher-code makes a new one)"
    )


# -- the origin guard -------------------------------------------------------------------------
CLIENT_HEADER = b"x-rudprk-client"  # set by the guard only: the client's address
GUARD_ENV = "RUDPRK_TEACH_GUARD"  # "1" when the guard runs (the app then trusts CLIENT_HEADER)
#: Solara's introspection routes: the server's CPU, memory and sessions; not for students
HIDDEN_PATHS = ("/resourcez", "/readyz")
FRAME_HEADERS = (
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"content-security-policy", b"frame-ancestors 'self'"),
)


def host_names() -> set[str]:
    """Names (besides IP addresses and localhost) this machine answers to: its host name, and
    that name in ``.local`` (mDNS). No DNS lookup: nothing leaves the machine."""
    name = socket.gethostname().lower().rstrip(".")
    return {name, f"{name}.local"} if name else set()


def allowed_host(host: str, extra: set[str]) -> bool:
    """Whether a ``Host`` name is this machine (an IP address, localhost, its own names).

    A name that resolves here only by another site's DNS (rebinding) is not.
    """
    host = host.strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host:
        return False
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    return host == "localhost" or host in extra


def split_host(value: str) -> tuple[str, str] | None:
    """``host[:port]`` of a Host header as (host, port); None if malformed."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(f"//{value}")
        return (parts.hostname or "", str(parts.port or ""))
    except ValueError:
        return None


def origin_problem(scheme: str, host: str | None, origin: str | None, extra: set[str]) -> str:
    """Why a request with these ``Host`` and ``Origin`` headers is refused ("" if it is not).

    ``scheme`` is the request's (http or https; ws and wss count as those). The Host must be
    this machine; an Origin, if present (browsers always send one on websockets and on
    cross-site requests), must be the same scheme, host and port as the request.
    """
    from urllib.parse import urlsplit

    if host is None:
        return "no Host header"
    here = split_host(host)
    if here is None or not allowed_host(here[0], extra):
        return f"Host {host!r} is not this machine"
    if origin is None:
        return ""
    try:
        parts = urlsplit(origin)
        origin_port = parts.port
    except ValueError:
        return f"malformed Origin {origin!r}"
    default = {"http": 80, "https": 443}
    scheme = {"ws": "http", "wss": "https"}.get(scheme, scheme)
    if parts.scheme != scheme or parts.path not in ("", "/") or parts.query:
        return f"Origin {origin!r} is another site"
    same_port = (origin_port or default.get(parts.scheme)) == (
        int(here[1]) if here[1] else default.get(scheme)
    )
    if (parts.hostname or "") != here[0] or not same_port:
        return f"Origin {origin!r} is another site"
    return ""


class OriginGuard:
    """ASGI middleware: refuse foreign Hosts and Origins (403), forbid framing by other sites,
    and tell the app the client's address in ``CLIENT_HEADER`` (never the client's own)."""

    def __init__(self, app, extra_hosts: set[str] | None = None):
        self.app = app
        self.extra = host_names() if extra_hosts is None else set(extra_hosts)

    async def __call__(self, scope, receive, send):
        if not SERVER_LOOP:  # the server's event loop, for the thread pruner
            SERVER_LOOP.append(asyncio.get_running_loop())
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != CLIENT_HEADER]
        found = {k.lower(): v.decode("latin-1") for k, v in headers}
        problem = origin_problem(
            scope.get("scheme", "http"), found.get(b"host"), found.get(b"origin"), self.extra
        )
        if problem:
            print(f"refused {scope['type']} {scope.get('path', '')}: {problem}", file=sys.stderr)
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})  # HTTP 403, not accepted
                return
            await _plain(send, 403, f"403 refused: {problem}\n")
            return
        path = scope.get("path", "")
        if scope["type"] == "http" and any(
            path == hidden or path.startswith(hidden + "/") for hidden in HIDDEN_PATHS
        ):
            await _plain(send, 404, "404 not found\n")
            return
        client = scope.get("client") or ("unknown", 0)
        headers.append((CLIENT_HEADER, str(client[0]).encode("latin-1", "replace")))
        scope = {**scope, "headers": headers}
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def send_framed(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in FRAME_HEADERS if k not in names]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        try:
            await self.app(scope, receive, send_framed)
        except Exception as error:  # a malformed request: one line, no traceback
            what = f"{scope.get('method', '')} {path}".strip()
            print(f"bad request {what}: {type(error).__name__}", file=sys.stderr, flush=True)
            if not started:
                await _plain(send, 400, f"400 bad request: {what}\n")


async def _plain(send, status: int, text: str) -> None:
    """A plain-text HTTP response."""
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *FRAME_HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


SERVER_LOOP: list[asyncio.AbstractEventLoop] = []
PRUNE_SECONDS = 30.0


def start_thread_pruner(
    period: float = PRUNE_SECONDS, log: Callable[[dict[str, Any]], None] | None = None
) -> threading.Thread:
    """Let the server's idle worker threads end, and the memory they freed go back to the system.

    Solara serves each page's websocket from a thread of AnyIO's pool; the pool ends a thread
    idle for 10 s only when it next hands out work, so after a class thirty idle threads (and
    the memory their stacks touched) stayed until the next page came. Every ``period`` seconds
    this hands the pool one empty task on the server's loop, which ends the idle ones, then
    asks the C allocator to return its free pages (glibc's ``malloc_trim``: freed memory in
    the middle of the heap is otherwise kept; see :func:`use_c_allocator`). ``log`` receives
    the time each trim took (the load test's timing log).
    """
    trim = libc_function("malloc_trim")

    def loop() -> None:
        import anyio.to_thread

        while True:
            time.sleep(period)
            if not SERVER_LOOP:
                continue
            future = asyncio.run_coroutine_threadsafe(
                anyio.to_thread.run_sync(lambda: None), SERVER_LOOP[0]
            )
            try:
                future.result(timeout=period)
            except Exception:  # the server is stopping: nothing to prune
                continue
            if trim is not None:
                start = time.perf_counter()
                trim(0)
                if log is not None:
                    log({"kind": "malloc_trim", "wall_ms": 1000 * (time.perf_counter() - start)})

    thread = threading.Thread(target=loop, name="thread-pruner", daemon=True)
    thread.start()
    return thread


def install_origin_guard(host: str) -> None:
    """Put :class:`OriginGuard` in front of Solara's Starlette app (before it starts)."""
    os.environ["SOLARA_APP"] = APP  # Solara's server module loads the app named here
    import solara.server.starlette as solara_server

    extra = host_names()
    if not is_loopback(host) and host not in ("0.0.0.0", "::"):
        extra.add(host.lower())
    solara_server.app.add_middleware(OriginGuard, extra_hosts=extra)
    os.environ[GUARD_ENV] = "1"
    # no proxy in front of a classroom app: uvicorn trusts nobody's X-Forwarded-For, so the
    # client address the guard passes on (the board's lockout key) is the connection's own
    os.environ.setdefault("FORWARDED_ALLOW_IPS", "")


# -- server-side timing (for the load test) ------------------------------------------------------
def message_kind(msg: dict[str, Any]) -> str:
    """What a websocket message of a page asks for: ``event:NAME`` (a widget event, e.g.
    ``event:reset``), ``update:TRAITS`` (synced traits, e.g. ``update:step``), ``control:METHOD``
    (Solara's page control, e.g. ``control:run`` when a page opens) or the message type."""
    msg_type = msg.get("header", {}).get("msg_type", "?")
    if msg_type != "comm_msg":
        return msg_type
    data = msg.get("content", {}).get("data", {}) or {}
    method = data.get("method", "?")
    if method == "custom":
        content = data.get("content") or {}
        return f"event:{content.get('event', '?')}" if "event" in content else "custom"
    if method == "update":
        return "update:" + ",".join(sorted((data.get("state") or {}).keys()))
    return f"control:{method}"


def install_timing(path: str | Path) -> Callable[[dict[str, Any]], None]:
    """Time every websocket message the server handles; one JSON line each appended to ``path``.

    Wraps Solara's ``process_kernel_messages`` (called with the page's kernel lock held, so a
    message's time includes its re-render and the traits it sends back). ``wall_ms`` is wall
    time inside the handler, ``cpu_ms`` the handling thread's own CPU time. Returns the writer
    of a line, for the server's other timed work (the memory trims).
    """
    import solara.server.kernel_context as kernel_context
    import solara.server.server as solara_server

    original = solara_server.process_kernel_messages
    lock = threading.Lock()
    out = open(path, "a", buffering=1, encoding="utf-8")

    def timed(kernel, msg):
        start, cpu = time.perf_counter(), time.thread_time()
        try:
            return original(kernel, msg)
        finally:
            wall_ms = 1000 * (time.perf_counter() - start)
            cpu_ms = 1000 * (time.thread_time() - cpu)
            try:
                who = kernel_context.get_current_context().id
            except Exception:  # no context: not a page's message
                who = "?"
            line = {"kind": message_kind(msg), "kernel": who}
            write(line | {"wall_ms": wall_ms, "cpu_ms": cpu_ms})

    def write(line: dict[str, Any]) -> None:
        rounded = {k: round(v, 3) if isinstance(v, float) else v for k, v in line.items()}
        with lock:
            out.write(json.dumps({"at": time.time()} | rounded) + "\n")

    solara_server.process_kernel_messages = timed
    return write


M_MMAP_THRESHOLD, M_ARENA_MAX = -3, -8  # glibc mallopt parameters (malloc.h)


def libc_function(name: str) -> Any | None:
    """The C library's function ``name`` (glibc), or None where there is none."""
    import ctypes
    import ctypes.util

    found = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(found) if found else None
    except OSError:
        return None
    return getattr(libc, name, None) if libc is not None else None


def use_c_allocator(argv: list[str]) -> None:
    """Run this command again with Python's objects on the C allocator (``PYTHONMALLOC=malloc``).

    Python's own allocator (pymalloc) keeps small objects in 1 MiB arenas and returns an arena
    only when every object in it is gone; after a class of thirty the server kept arenas that a
    few long-lived objects each held, though its objects were all freed. On the C allocator the
    same memory is freed page by page (:func:`start_thread_pruner` trims it), and the server
    returns to its pre-class size (docs/TEACHING.md; compare ``scripts/classroom_load.py
    --pymalloc``). The interpreter picks its allocator at start, so the command replaces
    itself (same process, same arguments). A ``PYTHONMALLOC`` the user set is kept; nothing is done off POSIX.
    """
    if os.name != "posix" or "PYTHONMALLOC" in os.environ:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    command = [sys.executable, "-m", "experiments.teach", *argv]
    os.execve(sys.executable, command, {**os.environ, "PYTHONMALLOC": "malloc"})


def tune_malloc() -> bool:
    """Make the C heap give memory back after a class (glibc; elsewhere nothing is done).

    A fixed mmap threshold of 128 KiB (glibc raises it as large blocks are freed, up to 32 MiB,
    after which a page's 280 kB of texts and specs stay in the heap) returns every large block to
    the system when freed; two arenas instead of eight per core keep the threads of thirty
    sessions from fragmenting a heap each. Call before the server starts its threads.
    """
    mallopt = libc_function("mallopt")
    if mallopt is None:
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, 128 * 1024)) and bool(mallopt(M_ARENA_MAX, 2))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    problem = check(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    use_c_allocator(sys.argv[1:] if argv is None else argv)
    board_line = None
    if args.class_dir is not None:
        from experiments.classboard import Board, BoardError

        try:
            board = Board(args.class_dir)
        except BoardError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        os.environ["RUDPRK_TEACH_CLASS_DIR"] = str(board.class_dir.resolve())
        try:
            board_line = board_message(
                board, base_url(args.host, args.port), args.new_teacher_code, args.show_code
            )
        except OSError as error:
            print(f"error: --class-dir={args.class_dir}: {error}", file=sys.stderr)
            return 1
    else:
        for flag, given in (
            ("--new-teacher-code", args.new_teacher_code),
            ("--show-code", args.show_code),
        ):
            if given:
                print(f"error: {flag} needs --class-dir", file=sys.stderr)
                return 1
        os.environ.pop("RUDPRK_TEACH_CLASS_DIR", None)
    from experiments.solara_env import SOLARA_RUN_FLAGS, apply_offline_environment

    tune_malloc()
    apply_offline_environment()
    os.environ["RUDPRK_TEACH_LANG"] = args.lang
    os.environ["RUDPRK_TEACH_REPLICATES"] = str(args.replicates)
    # Solara keeps a disconnected session this long (its default: 24 h); the app's runs follow
    os.environ["SOLARA_KERNEL_CULL_TIMEOUT"] = f"{args.session_timeout}s"
    os.environ["RUDPRK_TEACH_SESSION_TIMEOUT"] = str(args.session_timeout)
    os.environ["RUDPRK_TEACH_WORKERS"] = str(args.workers)
    if not is_loopback(args.host):
        print(PUBLIC_WARNING.format(url=base_url(args.host, args.port)), file=sys.stderr)
    print(describe(args.host, args.port), flush=True)
    if board_line:
        print(board_line, flush=True)
    from solara.__main__ import cli  # after the environment: Solara reads it on import

    install_origin_guard(args.host)
    log = install_timing(os.environ[TIMINGS_ENV]) if os.environ.get(TIMINGS_ENV) else None
    start_thread_pruner(log=log)

    solara_args = ["run", APP, "--host", args.host, "--port", str(args.port), "--no-open"]
    from click.exceptions import Abort

    try:
        cli([*solara_args, *SOLARA_RUN_FLAGS], prog_name="solara", standalone_mode=False)
    except (KeyboardInterrupt, Abort):  # Ctrl+C or SIGTERM while serving: stop quietly
        pass
    return 0


if __name__ == "__main__":
    run_command(main)  # bad options one line; Ctrl+C before the server starts one line too
