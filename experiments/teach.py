"""Start the teaching app: ``python -m experiments.teach [--host H] [--port P] [--lang en|mn]``.

Serves ``experiments.app`` (Mesa's SolaraViz page of the model) with ``solara run`` on
127.0.0.1 — only this machine can connect — unless ``--host`` names another address, and says
at start which address it listens on. Before Solara is imported it applies the offline
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

from experiments.i18n import LANGUAGES

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
APP = "experiments.app"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m experiments.teach",
        description="Start the browser app for what-if exercises (Mesa SolaraViz).",
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 opens it "
        "to the network, e.g. a classroom)",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="TCP port (default 8765)")
    parser.add_argument("--lang", default="en", choices=LANGUAGES, help="language of the page")
    parser.add_argument(
        "--replicates", type=int, default=1000, help="ensemble size per model (default 1000)"
    )
    return parser.parse_args(argv)


def check(args: argparse.Namespace) -> str | None:
    """One message naming what is wrong with the options, or None."""
    if not 1 <= args.port <= 65535:
        return f"--port={args.port} is out of range: expected 1 to 65535"
    if not 1 <= args.replicates <= 100_000:
        return f"--replicates={args.replicates} is out of range: expected 1 to 100000"
    try:
        family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.bind((args.host, args.port))
    except OSError as error:
        return f"cannot listen on {args.host}:{args.port}: {error.strerror or error}"
    return None


def describe(host: str, port: int) -> str:
    """The start-up line saying where the app listens and who can reach it."""
    url = f"http://{'[' + host + ']' if ':' in host else host}:{port}/"
    try:
        local = ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = host == "localhost"
    who = (
        "only this machine can connect"
        if local
        else "other machines on the network can connect too"
    )
    return f"Teaching app listening on {url} ({who}); stop it with Ctrl+C"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    problem = check(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    from experiments.solara_env import SOLARA_RUN_FLAGS, apply_offline_environment

    apply_offline_environment()
    os.environ["RUDPRK_TEACH_LANG"] = args.lang
    os.environ["RUDPRK_TEACH_REPLICATES"] = str(args.replicates)
    print(describe(args.host, args.port), flush=True)
    from solara.__main__ import cli  # after the environment: Solara reads it on import

    solara_args = ["run", APP, "--host", args.host, "--port", str(args.port), "--no-open"]
    try:
        cli([*solara_args, *SOLARA_RUN_FLAGS], prog_name="solara", standalone_mode=False)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
