"""A folder built once and shared: by concurrent test sessions (the drills' cached venvs) or by the
workers of one parallel run (the browser tests' seeded template)."""

from __future__ import annotations

import fcntl
import shutil
from collections.abc import Callable
from pathlib import Path


def built_once(folder: Path, build: Callable[[Path], None]) -> Path:
    """Build `folder` once (a marker file says it is complete); whoever comes meanwhile waits on a
    lock beside it, and a build that died half-way is started again."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with (folder.parent / f"{folder.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / ".complete").exists():
            shutil.rmtree(folder, ignore_errors=True)
            build(folder)
            (folder / ".complete").touch()
    return folder
