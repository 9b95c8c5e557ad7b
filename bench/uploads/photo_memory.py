"""Peak memory of the web server for one citizen submission with five 40-megapixel photos (issue 14, 9).

    .venv/bin/python bench/uploads/photo_memory.py --runs 5 --baseline <git rev>

What it does:
1. generates five 40-MP JPEGs (7728 x 5152, smooth content: ~0.7 MB each, ~3.5 MB on the wire),
   each a different picture;
2. for each code tree (this checkout and, with --baseline, `git archive <rev>` of it, so before
   and after are measured in the same session on the same machine): a private var dir (SQLite,
   embedded backends), `migrate` + `seed_demo`, then --runs times a fresh
   `python -m hotline.serve --workers 1`, a verified phone (the SMS code read from the database)
   and a small warm-up submission, then --uploads submissions of the five photos through the real
   citizen page (`POST /citizen/submit/`, multipart, CSRF);
3. around each submission reads the uvicorn worker's /proc/<pid>/status: VmRSS before, the peak
   (VmHWM, reset before the request by writing 5 to /proc/<pid>/clear_refs) and VmRSS after.

Printed per tree: median over the runs of the peak growth (VmHWM - VmRSS before) and of the
memory kept after the request (VmRSS after - before) for the first big submission of a fresh
process, the same for the repeated submissions, and the RSS of the process at the end.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import requests
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.drills.conftest import free_port, wait_until  # noqa: E402

PYTHON = sys.executable
SIZE = (7728, 5152)  # 39.8 MP: just under CITIZEN_PHOTO_MAX_PIXELS (40,000,000)
FORM = {
    "kind": "complaint",
    "text": "园区社区门口的路灯坏了一个多月，晚上很黑，老人出行不安全。",
    "address": "滨江区园区街道园区社区东门",
    "name": "王女士",
    "privacy": "public",
}


def photo_jpeg(seed: int, size: tuple[int, int] = SIZE, quality: int = 70) -> bytes:
    """A full-size photo whose content compresses well (a 40-MP phone photo of a wall or sky)."""
    w, h = size
    small = (max(1, w // 512), max(1, h // 512))
    noise = Image.effect_noise(small, 30).convert("L")
    ramp = Image.linear_gradient("L").resize(small)
    tint = Image.eval(ramp, lambda v: (v + seed * 40) % 256)
    picture = Image.merge("RGB", (noise, ramp, tint)).resize(size, Image.Resampling.BILINEAR)
    draw = ImageDraw.Draw(picture)
    for i in range(4):
        x, y = (i * 977 + seed * 131) % w, (i * 613 + seed * 71) % h
        draw.rectangle((x, y, x + 400, y + 300), outline=(255, 255, 255), width=6)
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def proc_kb(pid: int) -> dict[str, int]:
    text = Path(f"/proc/{pid}/status").read_text()
    return {k: int(v) for k, v in re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", text, re.M)}


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # Linux: VmHWM := VmRSS


@dataclass
class Tree:
    label: str
    root: Path
    var: Path
    first_peak: list[float] = field(default_factory=list)
    first_kept: list[float] = field(default_factory=list)
    repeat_peak: list[float] = field(default_factory=list)
    repeat_kept: list[float] = field(default_factory=list)
    end_rss: list[float] = field(default_factory=list)
    start_rss: list[float] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "HOTLINE_", "DATABASE_", "REDIS_"))}
        env.update(
            HOTLINE_VAR_DIR=str(self.var),
            DJANGO_SETTINGS_MODULE="hotline.settings",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            LOG_LEVEL="WARNING",
            PYTHONPATH=str(self.root),
        )
        return env

    def manage(self, *args: str) -> None:
        subprocess.run([PYTHON, "manage.py", *args], cwd=self.root, env=self.env(), check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip

    def code_for(self, phone: str) -> str:
        with sqlite3.connect(self.var / "hotline.sqlite3") as db:
            row = db.execute(
                "SELECT body FROM tickets_smsmessage WHERE to_phone = ? AND purpose = 'verification' "
                "ORDER BY id DESC LIMIT 1",
                (phone,),
            ).fetchone()
        match = re.search(r"验证码是(\d{6})", row[0]) if row else None
        assert match, f"no verification code for {phone}"
        return match.group(1)


def export_tree(rev: str, into: Path) -> Path:
    archive = subprocess.run(["git", "archive", rev], cwd=REPO, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def worker_pid(parent: int) -> int | None:
    """The uvicorn worker that hotline.serve spawned (its only `spawn_main` child)."""
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    for pid in children:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        if b"spawn_main" in cmdline and b"resource_tracker" not in cmdline:
            return int(pid)
    return None


def submit(session: requests.Session, base: str, files: list[tuple[str, bytes]]) -> None:
    session.get(f"{base}/citizen/submit/", timeout=30)
    response = session.post(
        f"{base}/citizen/submit/",
        data={**FORM, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        files=[("photos", (name, body, "image/jpeg")) for name, body in files],
        allow_redirects=False,
        timeout=600,
    )
    assert response.status_code == 302, (response.status_code, response.text[-2000:])


def verified_session(tree: Tree, base: str, phone_digits: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{base}/citizen/verify/", timeout=30)
    token = session.cookies["csrftoken"]
    sent = session.post(f"{base}/citizen/verify/", data={"action": "send", "phone": phone_digits,
                                                        "csrfmiddlewaretoken": token}, timeout=30)  # fmt: skip
    assert sent.status_code == 200, sent.text[-1000:]
    code = tree.code_for(f"+86{phone_digits}")
    done = session.post(f"{base}/citizen/verify/", data={"action": "check", "code": code,
                                                        "csrfmiddlewaretoken": token}, allow_redirects=False,
                        timeout=30)  # fmt: skip
    assert done.status_code == 302, done.text[-1000:]
    return session


def one_server(tree: Tree, run: int, photos: list[tuple[str, bytes]], small: bytes, uploads: int) -> None:
    port = free_port()
    log = (tree.var / f"serve-{run}.log").open("ab")
    server = subprocess.Popen(
        [PYTHON, "-m", "hotline.serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        cwd=tree.root, env=tree.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:

        def up() -> bool:
            if server.poll() is not None:
                raise SystemExit(f"server exited: {(tree.var / f'serve-{run}.log').read_text()[-3000:]}")
            try:
                return requests.get(f"{base}/citizen/", timeout=5).status_code == 200
            except requests.RequestException:
                return False

        wait_until(up, timeout=120, what="the server")
        pid = wait_until(lambda: worker_pid(server.pid), timeout=30, what="the worker process")
        session = verified_session(tree, base, f"1360013{run:04d}")
        submit(session, base, [("warm.jpg", small)])  # imports and first-request caches, not measured
        tree.start_rss.append(proc_kb(pid)["VmRSS"] / 1024)
        for i in range(uploads):
            before = proc_kb(pid)["VmRSS"]
            reset_peak(pid)
            submit(session, base, photos)
            after = proc_kb(pid)
            peak, kept = (after["VmHWM"] - before) / 1024, (after["VmRSS"] - before) / 1024
            (tree.first_peak if i == 0 else tree.repeat_peak).append(peak)
            (tree.first_kept if i == 0 else tree.repeat_kept).append(kept)
            print(f"  {tree.label} run {run} upload {i + 1}: before {before / 1024:.0f} MB, "
                  f"peak +{peak:.0f} MB, kept +{kept:.0f} MB", flush=True)  # fmt: skip
        tree.end_rss.append(proc_kb(pid)["VmRSS"] / 1024)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        log.close()


def median(values: list[float]) -> str:
    return f"{statistics.median(values):.0f}" if values else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh server processes per tree")
    parser.add_argument("--uploads", type=int, default=3, help="5-photo submissions per server process")
    parser.add_argument("--photos", type=int, default=5)
    parser.add_argument("--baseline", help="git revision to measure in the same session (e.g. the commit before)")
    args = parser.parse_args()

    photos = [(f"p{i}.jpg", photo_jpeg(i)) for i in range(args.photos)]
    small = photo_jpeg(9, (640, 480))
    wire = sum(len(b) for _, b in photos) / 1e6
    print(f"{args.photos} photos of {SIZE[0]}x{SIZE[1]} ({SIZE[0] * SIZE[1] / 1e6:.1f} MP), {wire:.1f} MB on the wire")

    with tempfile.TemporaryDirectory(prefix="hotline-upload-bench-") as tmp:
        trees = []
        if args.baseline:
            root = export_tree(args.baseline, Path(tmp) / "baseline")
            trees.append(Tree(f"baseline {args.baseline}", root, Path(tmp) / "var-baseline"))
        trees.append(Tree("this tree", REPO, Path(tmp) / "var-current"))
        for tree in trees:
            tree.var.mkdir()
            tree.manage("migrate", "--noinput", "-v", "0")
            tree.manage("seed_demo")
        for run in range(args.runs):  # alternate the trees so machine load hits both alike
            for tree in trees:
                one_server(tree, run, photos, small, args.uploads)

    print(f"\nmedians over {args.runs} fresh server processes (MB of the uvicorn worker's RSS):")
    print(f"{'tree':<24} {'RSS start':>9} {'1st peak +':>10} {'1st kept +':>10} {'rep. peak +':>11} "
          f"{'rep. kept +':>11} {'RSS end':>8}")  # fmt: skip
    for t in trees:
        print(f"{t.label:<24} {median(t.start_rss):>9} {median(t.first_peak):>10} {median(t.first_kept):>10} "
              f"{median(t.repeat_peak):>11} {median(t.repeat_kept):>11} {median(t.end_rss):>8}")  # fmt: skip


if __name__ == "__main__":
    main()
