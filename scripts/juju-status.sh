#!/bin/bash
# Thin wrapper: mecpool juju-status with the same arguments (see: mecpool juju-status --help).
set -eu
exec "${MECPOOL:-mecpool}" juju-status "$@"
