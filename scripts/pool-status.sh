#!/bin/bash
# Thin wrapper: mecpool pool-status with the same arguments (see: mecpool pool-status --help).
# Runs MECPOOL if set, else the repository's .venv/bin/mecpool (make deploy-tools), else mecpool on PATH.
set -eu
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
default=mecpool
[ -x "$here/.venv/bin/mecpool" ] && default="$here/.venv/bin/mecpool"
exec "${MECPOOL:-$default}" pool-status "$@"
