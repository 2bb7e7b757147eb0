"""The real-stack lab: OpenStack Zed from Debian bookworm's archive (and, later, OSM Release EIGHT's
own NBI, LCM and RO) run on this machine without installing anything system-wide.

packages.py resolves the Debian package set (with versions) and keys the cache on it; unpack.py fetches
and unpacks it into $MECPOOL_CACHE; sandbox.py makes the private mount, network and PID namespaces with
the overlay; configs.py generates every service's configuration; services.py starts the services as
processes; database.py creates the databases (a dump cached for warm starts); stack.py ties them
together and tears everything down; smoke.py proves the stack with a VM booted by Nova.
"""
