"""The real-stack lab: OpenStack Zed from Debian bookworm's archive and OSM Release EIGHT's own NBI, LCM
and RO, run on this machine without installing anything system-wide.

packages.py resolves the Debian package set (with versions) and keys the cache on it; unpack.py fetches
and unpacks it into $MECPOOL_CACHE; sandbox.py makes the private mount, network and PID namespaces with
the overlay; configs.py generates every service's configuration; services.py starts the services as
processes; database.py creates the databases (a dump cached for warm starts); stack.py ties them
together and tears everything down; smoke.py proves the stack with a VM booted by Nova.

OSM: osm_sources.py finds and checks OSM's v8.0 archives; osm_venvs.py builds them into cached Python 3.6
venvs (pins in osm_pins/); osm_configs.py writes RO's, LCM's and NBI's configs; osm_launch.py (Python 3.6)
runs RO, and NBI with LCM in one process; osm.py starts them in the lab; osm_proof.py proves them with
osmclient against the lab's Keystone; osm_onboard.py takes our built packages through the real NBI.
"""
