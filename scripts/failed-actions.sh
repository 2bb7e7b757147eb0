#!/bin/bash
# Thin wrapper: mecpool failed-actions with the same arguments (see: mecpool failed-actions --help).
set -eu
exec "${MECPOOL:-mecpool}" failed-actions "$@"
