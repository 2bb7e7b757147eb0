"""Day 0-2 on OSM Release EIGHT + OpenStack: the ``osm`` / ``openstack`` CLI
seams, OpenStack preparation, onboarding, the instantiation config, PE
scaling, status, teardown and Juju debugging.  ``cli.COMMANDS`` are the
``mecpool`` commands."""
