"""Start the teaching app: ``python -m experiments.teach [--host H] [--port P] [--lang en|mn]``.

Serves ``experiments.app`` (the lesson page at ``/``, the class board at ``/board``) with
``solara run`` on 127.0.0.1 — only this machine can connect — unless ``--host`` names another
address, and says at start which address it listens on. The app has no authentication: a
non-loopback ``--host`` (a classroom network) is refused unless ``--i-know-this-is-public`` is
given too, and then a warning goes to stderr (issue 10). ``--class-dir DIR`` turns on the class
board (``experiments.classboard``: SQLite in DIR, kept across restarts) and prints the teacher
code that opens ``/board``.

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
import ipaddress
import os
import socket
import sys

from contract.cli import OneLineParser
from experiments.i18n import LANGUAGES

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
APP = "experiments.app"


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


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    problem = check(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    board_line = None
    if args.class_dir is not None:
        from experiments.classboard import Board, BoardError

        try:
            board = Board(args.class_dir)
        except BoardError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        os.environ["RUDPRK_TEACH_CLASS_DIR"] = str(board.class_dir.resolve())
        board_line = (
            f"Class board: {base_url(args.host, args.port)}board (class folder "
            f"{board.class_dir}); teacher code: {board.teacher_code}"
        )
    else:
        os.environ.pop("RUDPRK_TEACH_CLASS_DIR", None)
    from experiments.solara_env import SOLARA_RUN_FLAGS, apply_offline_environment

    apply_offline_environment()
    os.environ["RUDPRK_TEACH_LANG"] = args.lang
    os.environ["RUDPRK_TEACH_REPLICATES"] = str(args.replicates)
    if not is_loopback(args.host):
        print(PUBLIC_WARNING.format(url=base_url(args.host, args.port)), file=sys.stderr)
    print(describe(args.host, args.port), flush=True)
    if board_line:
        print(board_line, flush=True)
    from solara.__main__ import cli  # after the environment: Solara reads it on import

    solara_args = ["run", APP, "--host", args.host, "--port", str(args.port), "--no-open"]
    try:
        cli([*solara_args, *SOLARA_RUN_FLAGS], prog_name="solara", standalone_mode=False)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
