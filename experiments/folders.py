"""A single run's folder: what it belongs to, who writes it, and what an interrupted run leaves.

Like a sweep folder (``experiments.sweep.claim``), a run folder (``hydra.run.dir``) belongs to one
run. Before Hydra writes anything into it, the driver takes the folder's lock (``.lock``,
``contract.io.lock_folder``: a second process writing the same folder stops with one line) and
records ``run_identity.json``: a hash of the composed config without the settings that do not
change results (``output.workers``, ``output.batch_size``), the seed, the replicates and the
model version. A later command with another identity stops before anything runs, naming what
differs, and leaves the first run's files as they are (``discard=true`` deletes them first); the
same command resumes: a complete result is reused (``experiments.jobs.check_complete``), an
incomplete one is redone.

A run that fails or is interrupted removes its result files (no ``done.json`` is ever left
without them, nor result files without ``done.json``); if this command created the folder, the
folder goes too.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from contract import files as F
from contract.cli import UsageError
from contract.io import lock_folder, unlock_folder, write_json

#: Output settings that never change a result (leave them out of the identity).
NEUTRAL_OUTPUT = ("workers", "batch_size")
#: What a run (or a job) writes into its folder.
RUN_ENTRIES = {".hydra", *F.JOB_FILES, F.DONE_FILE, F.ERROR_FILE, F.RUN_IDENTITY_FILE, F.LOCK_FILE}

_created: list[Path] = []  # run folders this process created (removed if the run is interrupted)


def run_identity(cfg: Any) -> dict[str, Any]:
    """What a run folder belongs to: config hash (results only), seed, replicates, model."""
    from omegaconf import OmegaConf

    from contract.io import model_version

    body = {k: cfg[k] for k in cfg if k not in ("hydra", "discard")}
    try:
        composed = OmegaConf.to_container(OmegaConf.create(body), resolve=True)
    except Exception:  # an interpolation only a job can resolve: hash it as written
        composed = OmegaConf.to_container(OmegaConf.create(body), resolve=False)
    assert isinstance(composed, dict)
    output = composed.get("output")
    if isinstance(output, dict):
        for key in NEUTRAL_OUTPUT:
            output.pop(key, None)
    text = json.dumps(composed, sort_keys=True, default=str)
    ident: dict[str, Any] = {
        "kind": "run",
        "experiment": str(cfg.get("experiment_name", "default")),
        "seed": int(cfg.seed),
        "replicates": int(cfg.replicates),
        "config_sha256": hashlib.sha256(text.encode()).hexdigest()[:16],
        "model_version": model_version(),
    }
    payload = json.dumps(ident, sort_keys=True)
    ident["id"] = hashlib.sha256(payload.encode()).hexdigest()[:16]
    return ident


def read_run_identity(outdir: Path) -> dict[str, Any] | None:
    try:
        ident = json.loads((Path(outdir) / F.RUN_IDENTITY_FILE).read_text())
        return ident if isinstance(ident, dict) and "id" in ident else None
    except (OSError, ValueError):
        return None


def _entries(outdir: Path) -> list[Path]:
    if not outdir.is_dir():
        return []
    return [p for p in outdir.iterdir() if p.name != F.LOCK_FILE and not p.name.endswith(".tmp")]


def _differences(old: dict[str, Any], new: dict[str, Any]) -> str:
    names = {"config_sha256": "config"}
    parts = []
    for key in ("experiment", "seed", "replicates", "config_sha256", "model_version"):
        if old.get(key) != new.get(key):
            parts.append(f"{names.get(key, key)} {old.get(key)} (now {new.get(key)})")
    return "; ".join(parts) or "its identity"


def _check(outdir: Path, ident: dict[str, Any], discard: bool) -> list[Path]:
    """The entries to delete before the run (``discard``); raise ``UsageError`` if refused."""
    old = read_run_identity(outdir)
    entries = _entries(outdir)
    if not entries or (old is not None and old["id"] == ident["id"]):
        return []
    if old is not None:
        what = f"another run: {_differences(old, ident)}"
    elif (outdir / F.DONE_FILE).exists() or (outdir / ".hydra").exists():
        what = "a run with no recorded identity"
    else:
        what = f"files that are not a run's ({entries[0].name}, …)"
    foreign = [p for p in entries if p.name not in RUN_ENTRIES]
    if discard and not foreign:
        return entries
    if discard:
        raise UsageError(
            f"discard=true: hydra.run.dir={outdir} holds {foreign[0].name}, which is not a run's "
            "file; not deleting it (choose a new hydra.run.dir)"
        )
    raise UsageError(
        f"hydra.run.dir={outdir} holds {what}; its files are left as they are: choose a new "
        "hydra.run.dir, or add discard=true to delete the previous run's files in it"
    )


def claim_run(outdir: Path, ident: dict[str, Any], discard: bool = False) -> list[str]:
    """Make ``outdir`` this run's folder before Hydra writes into it; return notes.

    Refuses (``UsageError``, nothing written) a folder of another run or with other files, and
    a folder another process is writing (``contract.io.FolderBusy``). Holds the folder's lock
    until this process ends.
    """
    outdir = Path(outdir).absolute()
    _check(outdir, ident, discard)  # before anything is created
    existed = outdir.exists()
    lock_folder(outdir, "hydra.run.dir")
    try:
        doomed = _check(outdir, ident, discard)  # again, now that no other process can write
    except BaseException:  # another run came first: leave its files, take back only the lock
        unlock_folder(outdir)
        if [p.name for p in outdir.iterdir()] == [F.LOCK_FILE] and not existed:
            (outdir / F.LOCK_FILE).unlink(missing_ok=True)
            outdir.rmdir()
        raise
    if not existed:
        _created.append(outdir)
    notes = []
    for path in doomed:
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    if doomed:
        notes.append(f"discarded the previous run's files in {outdir}")
    write_json(outdir / F.RUN_IDENTITY_FILE, ident)
    return notes


def release(outdir: Path, remove: bool = False) -> None:
    """Release the folder's lock; with ``remove``, delete what this run put there (its files,
    Hydra's ``.hydra``, the identity and the lock) and the folder if that empties it."""
    outdir = Path(outdir).absolute()
    unlock_folder(outdir)
    if not remove or not outdir.is_dir():
        return
    for path in outdir.iterdir():
        if path.name in RUN_ENTRIES or path.name.endswith(".tmp"):
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(
                missing_ok=True
            )
    try:
        outdir.rmdir()
    except OSError:
        pass  # something else is in it: leave it


def clean_interrupted() -> None:
    """After an interrupted single run: remove the folders this process created for it."""
    while _created:
        release(_created.pop(), remove=True)
