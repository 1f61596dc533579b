"""Atomic file writes and JSON, without pandas (so `dnadx count` need not import it: issue 2).

Every write goes to a temporary ``.part`` file next to its target and is renamed into place only on
success; a disk-full or unwritable folder becomes an EnvironmentFault (exit 5) naming the path.
`dnadx.core.io` re-exports these for the other stages.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from dnadx.core.errors import EnvironmentFault, InputError

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path next to ``path``; rename it into place only on success.

    A killed or failed writer therefore never leaves a partial file under the final name.
    """
    path = Path(path)
    make_dir(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as exc:
        raise _write_fault(path.parent, exc) from exc
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        _unlink_quietly(tmp)
        if exc.errno == errno.ENOSPC:
            raise _write_fault(path, exc) from exc
        raise
    except BaseException:
        _unlink_quietly(tmp)
        raise


def make_dir(path) -> Path:
    """Create the folder ``path`` (and parents); EnvironmentFault (exit 5) when that is impossible."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a parent is a file, read-only file system, permission denied, disk full
        blocker = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), None)
        if blocker is not None:
            raise EnvironmentFault(f"{path}: cannot create the folder: {blocker} is a file; choose another "
                                   "output folder") from exc
        raise _write_fault(path, exc) from exc
    return path


def _write_fault(path, exc: OSError) -> EnvironmentFault:
    if exc.errno == errno.ENOSPC:
        return EnvironmentFault(f"{path}: no space left on device; free disk space and re-run")
    return EnvironmentFault(f"{path}: cannot write here ({exc.strerror or exc}); choose a writable output folder")


def _unlink_quietly(p):
    with contextlib.suppress(FileNotFoundError):
        os.unlink(p)


def write_text(text: str, path, *, level: int = 9) -> None:
    path = Path(path)
    data = text.encode()
    with atomic_path(path) as tmp:
        if path.suffix == ".gz":
            with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="",
                                                       compresslevel=level) as fh:
                fh.write(data)
        else:
            tmp.write_bytes(data)


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return None if not np.isfinite(o) else float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o)}")


def _clean_nan(o):
    if isinstance(o, float) and not np.isfinite(o):
        return None
    if isinstance(o, dict):
        return {k: _clean_nan(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean_nan(v) for v in o]
    return o


def write_json(obj, path) -> None:
    """Write JSON atomically, sorted keys, NaN/inf written as null."""
    write_text(json.dumps(_clean_nan(obj), indent=2, sort_keys=True, default=_json_default) + "\n", path)


def read_json(path) -> dict:
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid JSON ({exc}); re-create it") from exc


def write_bytes(data: bytes, path) -> None:
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(data)
