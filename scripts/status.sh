#!/bin/bash
# Thin wrapper: mecpool status with the same arguments (see: mecpool status --help).
set -eu
exec "${MECPOOL:-mecpool}" status "$@"
