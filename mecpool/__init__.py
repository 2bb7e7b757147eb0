"""MEC-Pool: RSerPool workload offloading for MEC, deployed with OSM Release EIGHT."""

__version__ = "0.1.0"
