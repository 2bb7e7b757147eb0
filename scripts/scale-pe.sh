#!/bin/bash
# Thin wrapper: mecpool scale-pe with the same arguments (see: mecpool scale-pe --help).
set -eu
exec "${MECPOOL:-mecpool}" scale-pe "$@"
