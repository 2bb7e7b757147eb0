#!/bin/bash
# Thin wrapper: mecpool openstack-prepare with the same arguments (see: mecpool openstack-prepare --help).
set -eu
exec "${MECPOOL:-mecpool}" openstack-prepare "$@"
