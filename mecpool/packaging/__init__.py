"""Build OSM Release EIGHT packages: render templates, build charms, validate, archive."""
