"""Environment for running the SolaraViz app with no request leaving the machine.

Solara reads these settings from the environment once, when it is first imported, so call
:func:`apply_offline_environment` before ``import solara`` / ``import mesa.visualization``, or
pass ``{**os.environ, **offline_environment()}`` as the environment of a ``solara run``
subprocess. The front-end files themselves must be in Solara's local cache first:
``python scripts/solara_assets.py`` (with the project's venv python) puts them there.

What the variables do (checked against solara 1.64.1's source):

``SOLARA_TELEMETRY_MIXPANEL_ENABLE=False``
    no usage events to api.mixpanel.com, and no server IP lookup at api.ipify.org.
``SOLARA_ASSETS_PROXY=True``
    the page loads its JavaScript, CSS and fonts from the server's ``/_solara/cdn/`` route,
    answered from the local cache. Solara turns this off by itself when it believes it runs
    in VS Code (``VSCODE_PID``/``VSCODE_CWD`` set, e.g. a VS Code terminal), Colab or Voila,
    and then the browser fetches from cdn.jsdelivr.net directly.
``SOLARA_ASSETS_CDN`` (:data:`NO_CDN`)
    where that route downloads a file missing from the cache. A closed port on 127.0.0.1
    makes a missing file fail (after Solara's ~7 s of retries) and show up as a 404 in the
    page and as "Could not load URL: 'http://127.0.0.1:9/solara-offline-no-cdn/...'" in the
    server log, instead of being fetched from the internet when there is one. Should the
    proxy be off after all, the browser uses this url directly and fails locally too.

Not settable through the environment:

- the PyPI version check of ``solara run`` (a blocking request to pypi.org at start): only the
  ``--no-check-version`` flag turns it off (click option, no environment variable);
- in development mode (``solara run`` without ``--production``) the page embeds hidden
  iframes from solara.dev until the marker file ``$SOLARA_HOME/.solara_checked`` (default
  ``~/.solara``) exists. ``--production`` turns that off; :func:`apply_offline_environment`
  also creates the marker.

:data:`SOLARA_RUN_FLAGS` holds those flags for ``solara run``.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

#: A CDN base url that leads nowhere: a closed port on the loopback interface.
NO_CDN = "http://127.0.0.1:9/solara-offline-no-cdn/"

#: Flags for ``solara run`` that the environment cannot replace.
SOLARA_RUN_FLAGS: tuple[str, ...] = ("--production", "--no-check-version")


def offline_environment() -> dict[str, str]:
    """The environment variables that keep Solara from contacting any other host."""
    return {
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
        "SOLARA_ASSETS_PROXY": "True",
        "SOLARA_ASSETS_CDN": NO_CDN,
        # not a request, but the page's "This website runs on Solara" banner would sit on top
        # of the teaching app's panels (issue 11)
        "SOLARA_THEME_SHOW_BANNER": "False",
    }


def _solara_home() -> Path:
    """Solara's home directory, as ``solara.util.get_solara_home`` finds it."""
    if "SOLARA_HOME" in os.environ:
        return Path(os.environ["SOLARA_HOME"])
    try:
        return Path.home() / ".solara"
    except RuntimeError:  # no home directory, e.g. in some containers
        return Path.cwd() / ".solara"


def apply_offline_environment() -> dict[str, str]:
    """Set :func:`offline_environment` in ``os.environ``; call it before importing solara.

    Also marks Solara's one-time solara.dev check as done (see the module docstring), so a
    development-mode page does not embed it either. Returns the variables it set.
    """
    if "solara" in sys.modules:
        # the settings were read already; the variables still reach subprocesses
        warnings.warn(
            "apply_offline_environment() called after solara was imported: this process keeps "
            "its current settings",
            stacklevel=2,
        )
    env = offline_environment()
    os.environ.update(env)
    try:
        home = _solara_home()
        home.mkdir(parents=True, exist_ok=True)
        (home / ".solara_checked").touch()
    except OSError:
        pass  # a read-only home: Solara then skips the check itself
    return env
