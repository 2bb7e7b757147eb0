"""VDU lab: real VMs booted under QEMU the way OpenStack boots an OSM Release EIGHT VDU.

image.py builds and caches the Debian cloud image, mirror.py the package mirror the lab serves,
configdrive.py the OpenStack config drive and qemu.py the QEMU command line Nova/libvirt would use.
"""
