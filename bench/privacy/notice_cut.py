"""What the privacy rule adds to a 统一督办 scanner tick: `privacy.citizen_text` over the notices of
2,000 due assignments (the tick's batch), each ticket with its own caller, one in five 保密, one in
ten quoting the caller's number in its title.

    .venv/bin/python bench/privacy/notice_cut.py [--rows 2000] [--runs 7]

Prints the median and range of the 2,000-notice batch, and the same loop without the rule (the
template rendering alone) as the baseline of the same run. No database: the scanner works on plain
row values, and so does this.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")

import django  # noqa: E402

django.setup()

from django.utils import timezone  # noqa: E402

from tickets.core import privacy  # noqa: E402
from tickets.supervision.models import SupervisionLevel  # noqa: E402
from tickets.supervision.services import notice_texts  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    rnd = random.Random(14)
    body = notice_texts.DEFAULT_NOTICES[SupervisionLevel.SUPERVISION]
    now = timezone.now()
    rows = []
    for i in range(args.rows):
        national = f"138{rnd.randrange(10**8):08d}"
        title = f"路灯不亮 电话{national}" if i % 10 == 0 else "小区门口道路破损严重，雨天积水，影响出行。"
        fields = {
            "citizen_name": "张先生",
            "citizen_phone": f"+86{national}",
            "citizen_address": "演示市东湖区新华路1号",
            "confidential": i % 5 == 0,
            "anonymous": False,
        }
        rows.append((title, fields))

    def tick(*, cut: bool) -> float:
        started = time.perf_counter()
        for title, fields in rows:
            text = notice_texts.notice_render(
                body=body, level=SupervisionLevel.SUPERVISION, ticket_number="20261102000001",
                ticket_title=title, unit_name="市人社局", due_at=now, now=now,
            )  # fmt: skip
            if cut:
                privacy.citizen_text(text, privacy.CitizenFields(**fields), None)
        return (time.perf_counter() - started) * 1000

    with_rule, without = [], []
    for _ in range(args.runs):  # alternating, so both see the same machine
        with_rule.append(tick(cut=True))
        without.append(tick(cut=False))
    print(f"{args.rows} notices, {args.runs} runs")
    for label, runs in (("render + privacy.citizen_text", with_rule), ("render alone (baseline)", without)):
        print(f"  {label:30} median {statistics.median(runs):.1f} ms ({min(runs):.1f}–{max(runs):.1f})")
    added = (statistics.median(with_rule) - statistics.median(without)) / args.rows * 1000
    print(f"  added by the rule: {added:.1f} µs per notice")


if __name__ == "__main__":
    main()
