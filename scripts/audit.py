"""pip-audit over the pinned requirements, failing loudly when it could not really audit.

    scripts/audit.sh                         # the command (sets up .venv, then runs this)
    .venv/bin/python scripts/audit.py        # requirements.txt + requirements-dev.txt
    .venv/bin/python scripts/audit.py -r some-requirements.txt

The audit is its own command, not part of the tests: whether a vulnerability database answers is a
property of the network, and a fresh clone on a mirror without PyPI's JSON API must still be able to
run the test suite. `.ci/run` runs both and reports each.

pip-audit reports "No known vulnerabilities found" even when the vulnerability service could not be
asked about a package (it lists it as skipped), and crashes with a traceback when the service
refuses the connection. Both mean NOT AUDITED, printed in a banner. Exit status:

    0  audited, nothing vulnerable (or NOT AUDITED with HOTLINE_AUDIT_UNREACHABLE_OK=1)
    1  a known vulnerability that security/pip-audit-ignore.txt does not list with a reason
    2  pip-audit failed for another reason (bad requirements file, bug): never excused
    3  NOT AUDITED: the vulnerability data was unreachable

pip-audit's own variables choose the service: PIP_AUDIT_VULNERABILITY_SERVICE=osv with
PIP_AUDIT_OSV_URL=<an OSV mirror>/v1/query audits on a closed network.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
IGNORE_FILE = ROOT / "security" / "pip-audit-ignore.txt"
REQUIREMENTS = [ROOT / "requirements.txt", ROOT / "requirements-dev.txt"]
TIMEOUT_SECONDS = 600

AUDITED, VULNERABLE, FAILED, NOT_AUDITED = 0, 1, 2, 3
# How pip-audit dies when the vulnerability service cannot be reached (refused, DNS, timeout, TLS
# interception): the last line of its traceback names one of these.
_UNREACHABLE = re.compile(
    r"requests\.exceptions\.(ConnectionError|ConnectTimeout|ReadTimeout|Timeout|SSLError|ProxyError)"
    r"|pip_audit\._service\.interface\.ConnectionError"
)


def ignored() -> dict[str, str]:
    """`VULN-ID  reason…` per line; a line without a reason is an error, not a silent ignore."""
    entries: dict[str, str] = {}
    for number, line in enumerate(IGNORE_FILE.read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        vuln_id, _, reason = line.partition(" ")
        if not reason.strip():
            print(f"{IGNORE_FILE.name}:{number}: {vuln_id} has no reason; say why it is safe to ignore")
            raise SystemExit(FAILED)
        entries[vuln_id] = reason.strip()
    return entries


def not_audited(why: str) -> int:
    """The banner a CI log reader cannot miss, then 3 (or 0 when the caller excused it)."""
    rule = "!" * 100
    excused = os.environ.get("HOTLINE_AUDIT_UNREACHABLE_OK") == "1"
    print(rule)
    print(f"!! NOT AUDITED: {why}")
    print("!! No known-vulnerability check was made. The package index may be a mirror without PyPI's JSON")
    print("!! API: run where pypi.org answers, or set PIP_AUDIT_VULNERABILITY_SERVICE=osv and")
    print("!! PIP_AUDIT_OSV_URL=<an OSV mirror>/v1/query.")
    if excused:
        print("!! HOTLINE_AUDIT_UNREACHABLE_OK=1: exit status 0 although NOTHING WAS AUDITED")
    print(rule, flush=True)
    return AUDITED if excused else NOT_AUDITED


def report(deps: list[dict[str, Any]], skip: dict[str, str]) -> int:
    unaudited = [d for d in deps if "skip_reason" in d]
    vulnerable = [d for d in deps if d.get("vulns")]
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions", [])) or "no fixed version"
            print(f"VULNERABLE {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixed})")
    for vuln_id, reason in skip.items():
        print(f"ignored {vuln_id}: {reason}")
    audited = len(deps) - len(unaudited)
    print(f"pip-audit: {audited} of {len(deps)} pinned packages audited, {len(vulnerable)} vulnerable", flush=True)
    if vulnerable:
        return VULNERABLE  # a known vulnerability fails even when the rest could not be audited
    if unaudited:
        return not_audited(
            f"the vulnerability service had no answer for {len(unaudited)} of {len(deps)} packages "
            f"(e.g. {unaudited[0]['skip_reason']})"
        )
    return AUDITED


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-r", "--requirement", action="append", type=Path, help="default: both requirements files")
    args = parser.parse_args(argv)
    skip = ignored()
    command = [sys.executable, "-m", "pip_audit", "--no-deps", "--disable-pip", "--format", "json"]
    command += ["--progress-spinner", "off"]
    for requirement in args.requirement or REQUIREMENTS:
        command += ["-r", str(requirement)]
    for vuln_id in skip:
        command += ["--ignore-vuln", vuln_id]
    try:
        # the command is built from this repository's own files: no outside input reaches it
        run = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS)  # noqa: S603
    except subprocess.TimeoutExpired:
        return not_audited(f"the vulnerability service did not finish within {TIMEOUT_SECONDS} s")
    try:
        deps = json.loads(run.stdout)["dependencies"]
    except (json.JSONDecodeError, KeyError, TypeError):
        last = (run.stderr.strip().splitlines() or ["(no output)"])[-1]
        if _UNREACHABLE.search(last):
            return not_audited(f"the vulnerability service could not be reached ({last[:300]})")
        print(run.stderr, file=sys.stderr)
        print("pip-audit FAILED to run (see above)", file=sys.stderr, flush=True)
        return FAILED
    return report(deps, skip)


if __name__ == "__main__":
    sys.exit(main())
