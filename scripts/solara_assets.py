"""Install Solara's front-end files into Solara's local CDN cache, so pages work offline.

A Solara page (and so Mesa's SolaraViz) loads its JavaScript, CSS and fonts through the
server's ``/_solara/cdn/`` route. The server answers from its cache directory and, for a file
that is missing there, downloads it from a public CDN (cdn.jsdelivr.net) at run time. With no
internet (a classroom) a missing file breaks the page. The files are the contents of npm
packages, so this script fetches them from the npm registry with ``npm pack`` ahead of time.

What it does, with the Python that runs it (use the project's venv python):

1. finds the ``name@version`` packages Solara's page and widgets reference, by scanning the
   installed solara sources (the page template, components, widget templates) and its settings
   (``assets.fontawesome_path``);
2. locates the cache directory Solara serves from, ``solara.server.settings.assets
   .proxy_cache_dir``: by default ``<sys.prefix>/share/solara/cdn`` (e.g.
   ``.venv/share/solara/cdn``); ``SOLARA_ASSETS_PROXY_CACHE_DIR`` overrides it for Solara and
   this script alike;
3. for each package that is not complete there yet: ``npm pack`` into a hidden temporary
   directory inside the cache (same file system, so renames are atomic), unpacks it, and renames
   the result into place as ``<cache>/<name>@<version>/``, the layout of the CDN's urls; a file
   that npm does not ship but the CDN minifies on the fly (``requirejs@2.3.6/require.min.js``)
   is copied from its unminified twin.

Run ``python scripts/solara_assets.py`` (``--list`` shows the plan, ``--check`` exits with 1 if
something is missing, ``--force`` reinstalls). It is idempotent: complete packages (marked with
a ``.solara-assets.json``) are skipped, so a second run downloads nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

MARKER = ".solara-assets.json"  # written into each installed package directory

# `{{cdn}}/pkg@1.2.3/file` (page template) and `${this.getCdn()}/pkg@1.2.3/file` (widgets)
_REFERENCE = re.compile(
    r"(?:\{\{\s*cdn\s*\}\}|\$\{\s*(?:this\.)?getCdn\(\)\s*\})/"
    r"(?P<spec>(?:@[\w.-]+/)?[\w.-]+@[\w.+^~-]+)/(?P<file>[^\s\"'`<>()]+)"
)
# references whose version is only known in the browser, e.g. `echarts@${version}`
_DYNAMIC = re.compile(
    r"(?:\{\{\s*cdn\s*\}\}|\$\{\s*(?:this\.)?getCdn\(\)\s*\})/(?P<name>(?:@[\w.-]+/)?[\w.-]+)@\$\{"
)
_SOURCE_SUFFIXES = {".j2", ".html", ".vue", ".py", ".js"}


@dataclass
class Package:
    """An npm package the page references, and the files of it that are referenced."""

    spec: str  # e.g. "@widgetti/solara-vuetify-app@10.1.1" (also its directory in the cache)
    files: set[str] = field(default_factory=set)  # paths inside the package, e.g. "dist/x.js"

    def complete_in(self, cache_dir: Path) -> bool:
        """Whether this script installed the package there and every referenced file exists."""
        target = cache_dir / self.spec
        if not (target / MARKER).is_file():
            return False
        return all((target / name).is_file() for name in self.files)


def solara_cache_dir() -> Path:
    """The directory Solara's ``/_solara/cdn/`` route serves from (and caches into)."""
    import solara.server.settings  # on demand: importing solara takes a while

    return Path(solara.server.settings.assets.proxy_cache_dir).resolve()


def _solara_sources() -> list[Path]:
    import solara

    root = Path(solara.__file__).parent
    sources = []
    for path in sorted(root.rglob("*")):
        parts = path.relative_to(root).parts
        # the solara.dev website and its tests are not part of an app's page
        if parts[0] in {"website", "__pycache__"} or "tests" in parts:
            continue
        if path.suffix in _SOURCE_SUFFIXES and path.is_file():
            sources.append(path)
    return sources


def _page_variables() -> dict[str, str]:
    """The template variables that appear inside asset urls, as solara's server sets them."""
    import ipywidgets

    return {"ipywidget_major_version": ipywidgets.__version__.split(".")[0]}


def _skip_other_vue(spec: str) -> bool:
    """The page template names both Vue 2 and Vue 3 bundles; only one is used."""
    import ipyvue

    vue3 = ipyvue.__version__.startswith("3")  # the same test as solara/server/server.py
    name = spec.rsplit("@", 1)[0]
    if name == "@widgetti/solara-vuetify3-app":
        return not vue3
    if name == "@widgetti/solara-vuetify-app":
        return vue3
    return False


def referenced_packages() -> tuple[dict[str, Package], set[str]]:
    """The npm packages (with their referenced files) Solara loads from the CDN.

    Returns the packages by spec, and the names of packages whose version is chosen in the
    browser (these cannot be installed ahead of time; none of them is used by SolaraViz).
    """
    import solara.server.settings

    variables = _page_variables()
    packages: dict[str, Package] = {}
    dynamic: set[str] = set()

    def add(spec: str, name: str) -> None:
        if _skip_other_vue(spec):
            return
        package = packages.setdefault(spec, Package(spec))
        for key, value in variables.items():
            name = re.sub(r"\{\{\s*" + key + r"\s*\}\}", value, name)
        if "{" not in name and "$" not in name:
            package.files.add(name.split("?")[0].split("#")[0])

    for source in _solara_sources():
        text = source.read_text(encoding="utf-8", errors="replace")
        for match in _REFERENCE.finditer(text):
            add(match["spec"], match["file"])
        dynamic.update(match["name"] for match in _DYNAMIC.finditer(text))

    # the page template links `{{cdn}}{{assets.fontawesome_path}}`
    fontawesome = solara.server.settings.assets.fontawesome_path.lstrip("/")
    if solara.server.settings.assets.fontawesome_enabled and "/" in fontawesome:
        spec_part, _, name = fontawesome.partition("/")
        if spec_part.startswith("@"):  # a scoped package: "@scope/name@1.0/file"
            scope_name, _, name = name.partition("/")
            spec_part = f"{spec_part}/{scope_name}"
        add(spec_part, name)
    return packages, dynamic


def npm_executable() -> str:
    """The npm command, or exit with an explanation if it is missing."""
    npm = shutil.which("npm")
    if npm is None:
        sys.exit(
            "solara_assets: `npm` was not found on PATH. It downloads Solara's front-end files "
            "from the npm registry; install Node.js with npm (e.g. `apt-get install npm`) and "
            "run this script again."
        )
    return npm


def npm_pack(npm: str, specs: list[str], destination: Path) -> list[dict[str, object]]:
    """Download the tarballs of ``specs`` into ``destination``; npm's metadata per spec."""
    command = [npm, "pack", *specs, "--json", "--ignore-scripts"]
    command += ["--pack-destination", str(destination)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(
            f"solara_assets: `{' '.join(command)}` failed (exit {result.returncode}):\n"
            f"{result.stderr.strip()}"
        )
    info = json.loads(result.stdout)
    if len(info) != len(specs):
        sys.exit(f"solara_assets: npm pack returned {len(info)} results for {len(specs)} specs")
    return info


def _unpack(tarball: Path, destination: Path) -> Path:
    """Unpack an npm tarball; returns its single top-level directory (usually ``package``)."""
    with tarfile.open(tarball) as archive:
        archive.extractall(destination, filter="data")
    tops = [path for path in destination.iterdir() if path.is_dir()]
    if len(tops) != 1:
        raise RuntimeError(f"{tarball.name}: expected one top-level directory, found {tops}")
    return tops[0]


def _add_minified_twins(root: Path, files: set[str]) -> None:
    """The CDN minifies ``x.js`` on request as ``x.min.js``; npm packages may lack that file."""
    for name in files:
        wanted = root / name
        if wanted.exists() or not name.endswith(".min.js"):
            continue
        twin = root / (name[: -len(".min.js")] + ".js")
        if twin.is_file():
            shutil.copyfile(twin, wanted)


def install(
    package: Package, tarball: Path, meta: dict[str, object], cache_dir: Path, work: Path
) -> list[str]:
    """Unpack ``tarball`` and move it into place as ``cache_dir/<spec>``; missing files."""
    unpack_dir = Path(tempfile.mkdtemp(prefix="unpack-", dir=work))
    root = _unpack(tarball, unpack_dir)
    _add_minified_twins(root, package.files)
    missing = sorted(name for name in package.files if not (root / name).is_file())
    marker = {key: meta.get(key) for key in ("name", "version", "integrity", "filename")}
    (root / MARKER).write_text(json.dumps({"spec": package.spec, **marker}, indent=2) + "\n")

    target = cache_dir / package.spec
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        # an incomplete copy, e.g. files Solara's proxy cached one by one while online:
        # move it aside (same file system, so an atomic rename) and put the full package there
        old = Path(tempfile.mkdtemp(prefix="old-", dir=work)) / "old"
        os.rename(target, old)
    try:
        os.rename(root, target)
    except OSError:
        if not package.complete_in(cache_dir):  # else a concurrent run installed it
            raise
    return missing


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cache-dir",
        type=Path,
        help="install here instead of Solara's cache directory (which Solara would not read)",
    )
    parser.add_argument("--list", action="store_true", help="show the plan, download nothing")
    parser.add_argument(
        "--check", action="store_true", help="download nothing; exit with 1 if anything is missing"
    )
    parser.add_argument("--force", action="store_true", help="reinstall complete packages too")
    args = parser.parse_args(argv)

    cache_dir = (args.cache_dir or solara_cache_dir()).resolve()
    packages, dynamic = referenced_packages()
    todo = [p for spec, p in sorted(packages.items()) if args.force or not p.complete_in(cache_dir)]

    print(f"solara_assets: cache directory {cache_dir}")
    for spec, package in sorted(packages.items()):
        state = "to install" if package in todo else "present"
        print(f"  {spec:45} {state:10} ({len(package.files)} referenced files)")
    if dynamic:
        names = ", ".join(sorted(dynamic))
        print(f"  not installable ahead (version chosen in the browser): {names}")
    if args.check:
        if todo:
            missing = " ".join(package.spec for package in todo)
            print(f"solara_assets: missing: {missing}")
        return 1 if todo else 0
    if args.list or not todo:
        return 0

    npm = npm_executable()
    cache_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    # the temporary directory is inside the cache directory, so the final renames are atomic
    with tempfile.TemporaryDirectory(prefix=".solara-assets-", dir=cache_dir) as tmp:
        work = Path(tmp)
        downloads = work / "downloads"
        downloads.mkdir()
        infos = npm_pack(npm, [p.spec for p in todo], downloads)
        problems = []
        for package, meta in zip(todo, infos, strict=True):
            tarball = downloads / str(meta["filename"])
            missing = install(package, tarball, meta, cache_dir, work)
            print(f"  installed {package.spec} ({meta.get('version')})")
            problems += [f"{package.spec}/{name}" for name in missing]
    print(f"solara_assets: {len(todo)} package(s) in {time.monotonic() - started:.1f} s")
    if problems:
        print("solara_assets: referenced files that the npm packages do not contain:")
        print("\n".join(f"  {name}" for name in problems))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
