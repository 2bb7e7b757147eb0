#!/bin/sh
# /init of the testbed guest (busybox sh).  Mounts the basics, loads the
# kernel modules listed (in dependency order) by the initramfs builder, mounts
# the host's shared folder and runs the plan the host put there.  The host
# reads the console for the MECPOOL-* lines; results go to the shared folder.
export PATH=/usr/bin:/usr/sbin
export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=755 tmpfs /run
/usr/bin/ip link set lo up

while read -r module; do
    insmod "/usr/lib/modules/$module" || echo "MECPOOL-ERROR insmod $module"
done < /etc/mecpool/modules

mkdir -p /share
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=none share /share; then
    echo "MECPOOL-ERROR cannot mount the shared folder"
    poweroff -f
fi
read -r uptime _ < /proc/uptime
echo "MECPOOL-READY $uptime"

MECPOOL_OUT=/share sh /share/plan/plan.sh
echo "MECPOOL-EXIT $?"
sync
umount /share
poweroff -f
