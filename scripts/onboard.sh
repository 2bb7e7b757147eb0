#!/bin/bash
# Thin wrapper: mecpool onboard with the same arguments (see: mecpool onboard --help).
set -eu
exec "${MECPOOL:-mecpool}" onboard "$@"
