#!/bin/bash
# Thin wrapper: mecpool failed-actions with the same arguments (see: mecpool failed-actions --help).
# Runs MECPOOL if set, else the repository's .venv/bin/mecpool (make deploy-tools), else mecpool on PATH.
set -eu
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
default=mecpool
[ -x "$here/.venv/bin/mecpool" ] && default="$here/.venv/bin/mecpool"
exec "${MECPOOL:-$default}" failed-actions "$@"
