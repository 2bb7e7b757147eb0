"""The ops side the MEC-Pool charms share (their ``src/charm.py`` files).

Kept apart from ``charmhelpers_mecpool``, which has no ops import so that the
workloads can be tested without ops.  Python 3.6, and only ops API that ops
1.5.4 (what the charms ship, for Juju 2.8) and ops 2.x both have.
"""
