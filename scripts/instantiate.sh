#!/bin/bash
# Thin wrapper: mecpool instantiate with the same arguments (see: mecpool instantiate --help).
set -eu
exec "${MECPOOL:-mecpool}" instantiate "$@"
