#!/bin/bash
# Thin wrapper: mecpool scale-pe with the same arguments (see: mecpool scale-pe --help).
# Runs MECPOOL if set, else the repository's .venv/bin/mecpool (make deploy-tools), else mecpool on PATH.
set -eu
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
default=mecpool
[ -x "$here/.venv/bin/mecpool" ] && default="$here/.venv/bin/mecpool"
exec "${MECPOOL:-$default}" scale-pe "$@"
