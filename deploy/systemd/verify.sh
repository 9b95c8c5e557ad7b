#!/usr/bin/env bash
# Checks the unit files with `systemd-analyze verify`, rendered for this checkout: the units name
# /opt/hotline (the install path in README's "Deploying on several nodes"); verify needs the
# commands to exist, so they are pointed at VENV (default: .venv of this checkout).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${VENV:-$repo/.venv}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for unit in hotline-web hotline-worker hotline-beat; do
  sed -e "s#/opt/hotline/.venv#$venv#g" -e "s#/opt/hotline#$repo#g" -e "s#/etc/hotline/hotline.env#$here/hotline.env.example#" \
    "$here/$unit.service" > "$out/$unit.service"
done
systemd-analyze verify "$out"/hotline-web.service "$out"/hotline-worker.service "$out"/hotline-beat.service
echo "systemd units OK"
