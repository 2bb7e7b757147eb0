"""Shared workload library of the MEC-Pool charms.

No ``ops`` import: the charms' ``src/charm.py`` files are the only ops code, so
everything here can be tested on its own with the command runner replaced at
its seam.  Python 3.6 syntax and standard library only (plus jinja2 and PyYAML,
which the charm builder vendors into every built charm).
"""
