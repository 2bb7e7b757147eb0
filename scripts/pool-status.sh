#!/bin/bash
# Thin wrapper: mecpool pool-status with the same arguments (see: mecpool pool-status --help).
set -eu
exec "${MECPOOL:-mecpool}" pool-status "$@"
