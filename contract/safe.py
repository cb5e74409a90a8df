"""Reading what a user hands a command, and writing what it produces, within bounds.

Reading. :func:`read_text` reads a text file a user gives (a record of observations) up to a
size limit and a line limit, both stated in its error; UTF-8 with or without a byte-order mark,
any line endings (spreadsheets write ``\\r\\n``). :func:`read_json_object` reads a JSON object
of a result folder (``summary.json``, ``done.json``): bounded in size, no ``NaN``/``Infinity``,
not nested beyond reason, and an object, not a list. Every refusal is a :class:`UsageError`
naming the path and what is allowed (one line through ``contract.cli``).

Writing. :func:`write_files` writes a command's outputs into one folder all or nothing: every
file goes to a temporary name (``.NAME.*.tmp``, ``contract.files.TMP_GLOB``) first and is renamed
into place only when all are written, in the order given (the last one marks a complete output);
an error, a full disk, Ctrl+C or SIGTERM removes the temporary files, the files this call put in
place that were not there before, and the folders it created. A folder that is a symbolic link is
refused (:func:`output_dir_problem`): a link planted in a result folder must not redirect the
writes elsewhere. Renaming never follows a link at the target's own name: the link itself is
replaced.

Spreadsheets. :func:`spreadsheet_safe` prefixes text that a spreadsheet would run as a formula
(``=``, ``+``, ``-``, ``@``, tab, carriage return first) with an apostrophe, as the class board's
CSV export does, so a record's source cannot become a live formula in a CSV output.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from contract.cli import UsageError

#: First characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: A result folder's JSON files are a few kilobytes; anything this large is not one of them.
MAX_JSON_BYTES = 16 * 2**20
#: Nesting deeper than this is not a result file (and would exhaust Python's recursion limit).
MAX_JSON_DEPTH = 64


def _size(n: int) -> str:
    return f"{n / 2**20:g} MiB" if n >= 2**20 else f"{n:,} bytes"


def read_bytes(path: str | Path, max_bytes: int, what: str) -> bytes:
    """At most ``max_bytes`` of ``path``; a larger (or endless, ``/dev/zero``) file is refused."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except IsADirectoryError:
        raise UsageError(f"{path}: is a folder; expected {what}") from None
    except OSError as error:
        raise UsageError(f"{path}: cannot be read ({error.strerror or error})") from None
    if len(data) > max_bytes:
        raise UsageError(
            f"{path}: larger than the limit of {_size(max_bytes)} for {what}; is it the right file?"
        )
    return data


def read_text(path: str | Path, *, max_bytes: int, max_lines: int, what: str) -> str:
    """A UTF-8 text file (a byte-order mark is dropped), within a size and a line limit."""
    path = Path(path)
    data = read_bytes(path, max_bytes, what)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise UsageError(
            f"{path}: line {line} is not UTF-8 text (byte 0x{data[error.start]:02x}); save "
            f"{what} as UTF-8 (in a spreadsheet: CSV UTF-8)"
        ) from None
    if "\x00" in text:
        raise UsageError(f"{path}: contains NUL bytes, so it is not {what} (a binary file?)")
    lines = text.count("\n") + text.count("\r") - text.count("\r\n") + 1  # any line ending
    if lines > max_lines:
        raise UsageError(
            f"{path}: {lines:,} lines, more than the limit of {max_lines:,} lines for {what}"
        )
    return text


def _no_constant(name: str) -> Any:
    raise UsageError(f"{name} is not a number JSON allows")


def _depth(value: Any, limit: int) -> bool:
    """Whether ``value`` nests lists and objects at most ``limit`` deep (iteratively)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return False
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return True


def read_json_object(path: str | Path, what: str = "") -> dict[str, Any]:
    """The JSON object in ``path``; refused in one line if it is anything else."""
    path = Path(path)
    label = what or path.name
    data = read_bytes(path, MAX_JSON_BYTES, f"a {label}")
    try:
        value = json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text; not a {label}") from None
    except UsageError as error:
        raise UsageError(f"{path}: {error}; not a {label}") from None
    except (ValueError, RecursionError) as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise UsageError(f"{path}: not valid JSON ({first}); not a {label}") from None
    if not isinstance(value, dict):
        raise UsageError(
            f"{path}: holds a JSON {type(value).__name__}, not an object; not a {label}"
        )
    if not _depth(value, MAX_JSON_DEPTH):
        raise UsageError(f"{path}: nested deeper than {MAX_JSON_DEPTH} levels; not a {label}")
    return value


def spreadsheet_safe(value: Any) -> Any:
    """Text that a spreadsheet would read as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def spreadsheet_frame(frame: Any) -> Any:
    """A copy of a DataFrame whose text cells are :func:`spreadsheet_safe` (numbers unchanged)."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or str(out[column].dtype) in ("string", "str"):
            out[column] = out[column].map(spreadsheet_safe)
    return out


def output_dir_problem(path: str | Path) -> str | None:
    """Why ``path`` cannot be a command's output folder (a link, a file, not writable), or None."""
    from contract.io import writable_dir_problem

    path = Path(path)
    if path.is_symlink():
        return (
            f"{path} is a symbolic link (to {os.readlink(path)}); outputs are written only "
            "into real folders, not through links"
        )
    if path.exists() and not path.is_dir():
        return f"{path} is a file, not a folder"
    return writable_dir_problem(path)


def check_output_dir(path: str | Path, option: str = "") -> None:
    """Raise :class:`UsageError` naming ``option`` when ``path`` cannot be the output folder."""
    problem = output_dir_problem(path)
    if problem:
        where = f"{option}={path}: " if option else ""
        raise UsageError(f"{where}{problem}; choose a folder you can write to")


def _missing_dirs(path: Path) -> list[Path]:
    """``path`` and its ancestors that do not exist yet, outermost first."""
    out = []
    for p in (path, *path.parents):
        if p.exists() or p.is_symlink():
            break
        out.append(p)
    return out[::-1]


def write_files(outdir: str | Path, files: Mapping[str, str | bytes]) -> list[Path]:
    """Write ``files`` (name → text or bytes) into ``outdir`` all or nothing; return the paths."""
    from contract.io import temp_path

    outdir = Path(outdir)
    check_output_dir(outdir)
    created = _missing_dirs(outdir)
    staged: list[tuple[Path, Path]] = []
    placed: list[Path] = []
    fresh: dict[Path, bool] = {}
    try:
        outdir.mkdir(parents=True, exist_ok=True)
        if outdir.is_symlink():  # made a link between the check and now
            raise UsageError(f"{outdir} became a symbolic link; nothing was written")
        for name, content in files.items():
            target = outdir / name
            tmp = temp_path(target)
            staged.append((tmp, target))
            data = content.encode("utf-8") if isinstance(content, str) else content
            try:
                tmp.write_bytes(data)
            except OSError as error:
                raise UsageError(
                    f"{target}: cannot be written ({error.strerror or error}); nothing was written"
                ) from None
        fresh = {target: not (target.exists() or target.is_symlink()) for _, target in staged}
        for tmp, target in staged:
            os.replace(tmp, target)
            placed.append(target)
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        for target in placed:
            if fresh.get(target):
                target.unlink(missing_ok=True)
        for folder in reversed(created):
            try:
                folder.rmdir()
            except OSError:
                break
        raise
    return [target for _, target in staged]
