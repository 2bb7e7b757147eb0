"""Keystone's service project, the service users and the catalog of the real-stack lab.

Run by Debian's python3 inside the lab's namespace (it imports openstacksdk from the Debian set and
nothing of mecpool): `python3 identity_setup.py <json>` with the settings the caller passes.
Idempotent: what exists is kept.
"""

import json
import sys

import openstack

SERVICES = (
    # (user, service name, type, url)
    ("glance", "glance", "image", "{glance}"),
    ("placement", "placement", "placement", "{placement}"),
    ("nova", "nova", "compute", "{nova}"),
    ("neutron", "neutron", "network", "{neutron}"),
)


def main(cfg):
    conn = openstack.connect(auth_url=cfg["auth_url"], username="admin", password=cfg["admin_password"],
                             project_name="admin", user_domain_name="Default",
                             project_domain_name="Default", region_name=cfg["region"])
    ident = conn.identity
    project = ident.find_project("service") or ident.create_project(name="service", domain_id="default",
                                                                     description="Service project")
    admin_role = ident.find_role("admin")
    for role in ("member", "reader"):
        if ident.find_role(role) is None:
            ident.create_role(name=role)
    for user_name, name, kind, url in SERVICES:
        user = ident.find_user(user_name, domain_id="default") or ident.create_user(
            name=user_name, password=cfg["password"], domain_id="default")
        ident.assign_project_role_to_user(project, user, admin_role)
        service = next((x for x in ident.services() if x.type == kind), None) or ident.create_service(
            name=name, type=kind, is_enabled=True)
        have = {e.interface for e in ident.endpoints(service_id=service.id)}
        for interface in ("public", "internal", "admin"):
            if interface not in have:
                ident.create_endpoint(service_id=service.id, interface=interface,
                                      url=url.format(**cfg["urls"]), region_id=cfg["region"])
    print(json.dumps({"project": project.id, "services": [s.type for s in ident.services()]}))


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
