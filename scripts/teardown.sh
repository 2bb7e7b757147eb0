#!/bin/bash
# Thin wrapper: mecpool teardown with the same arguments (see: mecpool teardown --help).
set -eu
exec "${MECPOOL:-mecpool}" teardown "$@"
