"""`scripts/start.sh` with everything installed: seconds from the command to its first 200.

    .venv/bin/python -m bench.startup.start_sh --runs 3                       # this checkout
    .venv/bin/python -m bench.startup.start_sh --runs 3 --repo /path/to/other/checkout

Embedded (no DATABASE_URL / REDIS_URL), a private var folder. One untimed start first (schema, demo
model, demo city: what a first start does once), then each timed run starts `start.sh` again on
the same folder and polls `GET /login/` until 200, then stops the whole process group.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.startup.first_request import free_port

REPO = Path(__file__).resolve().parents[2]


def first_200(repo: Path, env: dict[str, str]) -> float:
    port = free_port()
    started = time.monotonic()
    proc = subprocess.Popen(
        ["scripts/start.sh"], cwd=repo, env={**env, "PORT": str(port)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"start.sh exited ({proc.returncode}) before answering")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=60) as response:
                    if response.status == 200:
                        return time.monotonic() - started
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--repo", type=Path, default=REPO)
    args = parser.parse_args()
    var = Path(tempfile.mkdtemp(prefix="hotline-bench-start-sh-"))
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CLASSIFIER_MODEL_DIR")}
    env["HOTLINE_VAR_DIR"] = str(var)
    print(f"{args.repo}: first start (untimed) …", flush=True)
    first_200(args.repo, env)
    times = []
    for number in range(1, args.runs + 1):
        load = Path("/proc/loadavg").read_text().split()[0]
        times.append(first_200(args.repo, env))
        print(f"run {number} (load {load}): first 200 after {times[-1]:.1f} s", flush=True)
    print(f"median of {args.runs}: start.sh → first 200 in {statistics.median(times):.1f} s")


if __name__ == "__main__":
    main()
