"""pip-audit over the pinned requirements, failing loudly when it could not really audit.

pip-audit reports "No known vulnerabilities found" even when the vulnerability service could not be
asked about a package (it lists it as skipped). Here every skip is a failure (exit 3) unless
HOTLINE_AUDIT_UNREACHABLE_OK=1, and then the run still prints NOT AUDITED in capitals. A known
vulnerability fails (exit 1) unless security/pip-audit-ignore.txt lists its id with a reason.

    .venv/bin/python scripts/audit.py            # requirements.txt + requirements-dev.txt
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IGNORE_FILE = ROOT / "security" / "pip-audit-ignore.txt"
REQUIREMENTS = ["requirements.txt", "requirements-dev.txt"]


def ignored() -> dict[str, str]:
    """`VULN-ID  reason…` per line; a line without a reason is an error, not a silent ignore."""
    entries: dict[str, str] = {}
    for number, line in enumerate(IGNORE_FILE.read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        vuln_id, _, reason = line.partition(" ")
        if not reason.strip():
            sys.exit(f"{IGNORE_FILE.name}:{number}: {vuln_id} has no reason; say why it is safe to ignore")
        entries[vuln_id] = reason.strip()
    return entries


def main() -> int:
    skip = ignored()
    command = [sys.executable, "-m", "pip_audit", "--no-deps", "--disable-pip", "--format", "json"]
    command += ["--progress-spinner", "off"]
    for requirement in REQUIREMENTS:
        command += ["-r", str(ROOT / requirement)]
    for vuln_id in skip:
        command += ["--ignore-vuln", vuln_id]
    # the command is built from this repository's own files: no outside input reaches it
    run = subprocess.run(command, capture_output=True, text=True, timeout=600)  # noqa: S603
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        print(run.stderr, file=sys.stderr)
        print("pip-audit FAILED to run (see above)", file=sys.stderr)
        return 3
    deps = report.get("dependencies", [])
    unaudited = [d for d in deps if "skip_reason" in d]
    vulnerable = [d for d in deps if d.get("vulns")]
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions", [])) or "no fixed version"
            print(f"VULNERABLE {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixed})")
    for vuln_id, reason in skip.items():
        print(f"ignored {vuln_id}: {reason}")
    audited = len(deps) - len(unaudited)
    print(f"pip-audit: {audited} of {len(deps)} pinned packages audited, {len(vulnerable)} vulnerable")
    if vulnerable:
        return 1
    if unaudited:
        example = unaudited[0]["skip_reason"]
        print(
            f"NOT AUDITED: the vulnerability service did not answer for {len(unaudited)} packages "
            f"(e.g. {example}). The package index may be a mirror without PyPI's JSON API.",
            file=sys.stderr,
        )
        if os.environ.get("HOTLINE_AUDIT_UNREACHABLE_OK") == "1":
            print("HOTLINE_AUDIT_UNREACHABLE_OK=1: continuing WITHOUT a vulnerability audit", file=sys.stderr)
            return 0
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
