#!/usr/bin/env bash
# System packages MEC-Pool needs on the build/test machine (Debian 12 / Ubuntu 22.04+).
#  - rsplib-*: the real RSPLIB binaries the local testbed runs (and whose files the initramfs copies);
#  - qemu-system-x86, linux-image-amd64, busybox-static, cpio, kmod: the QEMU guest that runs the testbed where
#    the host kernel has no SCTP (Debian's kernel has the sctp, veth, bridge and sch_netem modules);
#  - iproute2: ip/tc for namespaces and netem.
# Idempotent: does nothing when everything is installed.
set -euo pipefail

APT_PACKAGES=(
  python3-venv
  iproute2
  rsplib-registrar
  rsplib-services
  rsplib-tools
  qemu-system-x86
  linux-image-amd64
  busybox-static
  cpio
  kmod
  xz-utils
  git
  openssl
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null; then
  SUDO=(sudo)
else
  echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
