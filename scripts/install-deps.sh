#!/usr/bin/env bash
# System packages MEC-Pool needs on the build/test machine (Debian 12 / Ubuntu 22.04+).
#  - rsplib-*: the real RSPLIB binaries the local testbed runs (and whose files the initramfs copies);
#  - qemu-system-x86, linux-image-amd64, busybox-static, cpio, kmod: the QEMU guest that runs the testbed where
#    the host kernel has no SCTP (Debian's kernel has the sctp, veth, bridge and sch_netem modules);
#  - iproute2: ip/tc for namespaces and netem.
#  - gcc, libc6-dev (and binutils with them): `make` compiles librspfreshload, our fix around the stock
#    RSPLIB pool element (mecpool/rsplibfix); the tests drive it against RSPLIB's own timer code.
#  - VDU lab (mecpool/vdulab): debootstrap builds the Debian cloud image, mkfs.ext4 (e2fsprogs) and sfdisk
#    (fdisk) pack it into a disk without loop devices, qemu-img (qemu-utils) makes the per-VM overlays,
#    apt-ftparchive (apt-utils) indexes the package mirror, genisoimage writes the config drives as Nova
#    does (and its isoinfo reads them back in the tests), debian-archive-keyring verifies the archive,
#    dnsmasq-base is the lab's Neutron-like DHCP, openssh-client reaches the VMs.
# Idempotent: does nothing when everything is installed.
# --deploy: only what a machine that deploys needs (make deploy-tools): python3-venv and git, and gcc with
#    libc6-dev, since `mecpool build` compiles librspfreshload for the PE VDUs' user data (rsplib.freshload).
# --real-lab: what the real-stack lab (mecpool/reallab) needs on the host, after `apt-get update` (always:
#   the lab resolves its OpenStack package set with apt and fetches it with `apt-get download`, so the
#   indexes must be current).  The OpenStack set itself is not installed: it is unpacked into
#   $MECPOOL_CACHE and laid over /usr, /etc and /var inside the lab's own namespaces.  Host side:
#   unshare/nsenter (util-linux), ip (iproute2), qemu-img (qemu-utils, the image's qcow2 for Glance),
#   ssh (openssh-client), dnsmasq (dnsmasq-base: the DHCP agent runs the host's), the QEMU Nova's libvirt
#   runs (qemu-system-x86).  OSM Release EIGHT's venvs (mecpool/reallab/osm_venvs.py, Python 3.6.15 from
#   pyenv, which no Debian package provides) build pycrypto, netifaces and the like (gcc, libc6-dev) and
#   pycurl against libcurl (libcurl4-openssl-dev); osmclient's python-magic loads libmagic1; the lab's
#   OSM proof asks RO's API with curl.
set -euo pipefail

DEPLOY_PACKAGES=(python3-venv git gcc libc6-dev)
APT_PACKAGES=(
  python3-venv
  iproute2
  rsplib-registrar
  rsplib-services
  rsplib-tools
  gcc
  libc6-dev
  binutils
  qemu-system-x86
  linux-image-amd64
  busybox-static
  cpio
  kmod
  xz-utils
  git
  openssl
  debootstrap
  debian-archive-keyring
  e2fsprogs
  fdisk
  qemu-utils
  apt-utils
  genisoimage
  dnsmasq-base
  openssh-client
  nftables  # tests parse the HSS charm's REST-port ruleset with the real nft (in unshare -rn)
  iptables  # tests put the real lab's router ports under a rule of Neutron's iptables firewall (unshare -rnm)
)

REAL_LAB_PACKAGES=(util-linux iproute2 qemu-utils openssh-client dnsmasq-base qemu-system-x86 apt dpkg
                   gcc libc6-dev libcurl4-openssl-dev libmagic1 curl)

if [ "${1:-}" = "--deploy" ]; then
  APT_PACKAGES=("${DEPLOY_PACKAGES[@]}")
elif [ "${1:-}" = "--real-lab" ]; then
  APT_PACKAGES=("${REAL_LAB_PACKAGES[@]}")
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: the real-stack lab needs root (namespaces, mounts)" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
fi

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
