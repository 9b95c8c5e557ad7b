"""Atomic file replacement: readers see the old file or the new one, never a torn one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

FILE_MODE = 0o644


def write_atomically(path: Path, write: Callable[[BinaryIO], None]) -> Path:
    """Call ``write`` on a temporary file next to ``path``, then rename it over ``path``.

    The temporary file lives in the same folder so the rename never crosses file systems
    (where ``os.replace`` would stop being atomic). Its name starts with ``.tmp-`` so folder
    listings can skip it; it is removed if anything fails.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=path.suffix, dir=path.parent)
    tmp_path = Path(tmp_name)
    try:
        # mkstemp creates 0600; web and worker processes may run as another user than the
        # one training or promoting, and must be able to read what is published.
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        tmp_path.replace(path)  # os.replace
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return path
