"""Issue 21, point 1: every call to a VIM runs with exactly the site's account, nothing of the operator's
shell; the OpenStack conventions operators use (clouds.yaml, application credentials, a CA bundle)."""

import hashlib

import yaml

from deploy_constants import PMC_PASSWORD
from deploy_helpers import edit_site

GJOVIK = "https://gjovik.nornet.example.org:5000/v3"
ADMIN_SHELL = {"OS_PROJECT_ID": "admin-project-id", "OS_CLOUD": "admin", "OS_INTERFACE": "internal",
               "OS_PROJECT_DOMAIN_ID": "default", "OS_TENANT_NAME": "admin"}
SITE_ENV = {"OS_AUTH_URL", "OS_IDENTITY_API_VERSION", "OS_PROJECT_NAME", "OS_USERNAME", "OS_PASSWORD",
            "OS_USER_DOMAIN_NAME", "OS_PROJECT_DOMAIN_NAME"}


def openstack_envs(fakes):
    return [r["os_env"] for r in fakes.records() if r["tool"] == "openstack"]


def test_the_operators_openrc_does_not_reach_openstack(fakes, mecpool, env):
    for key, value in ADMIN_SHELL.items():
        env.setenv(key, value)
    out = mecpool("openstack-prepare", "--site", "site.yaml", "--vim", "gjovik", "--dry-run").stdout
    # the dry run names what it clears, and shows the VIM's variables once, not before every command
    assert "cleared from your shell: OS_CLOUD, OS_INTERFACE, OS_PROJECT_DOMAIN_ID, OS_PROJECT_ID, OS_TENANT_NAME" in out
    assert out.count("openstack runs with exactly: OS_AUTH_URL=" + GJOVIK) == 1
    assert "$ OS_" not in out and "$ openstack " in out
    mecpool("openstack-prepare", "--site", "site.yaml", "--vim", "gjovik")
    envs = openstack_envs(fakes)
    assert envs and all(set(e) == SITE_ENV for e in envs), envs[0]
    assert {e["OS_PROJECT_NAME"] for e in envs} == {"mecpool"}
    # the work landed in the site's project, not the admin project of the shell
    assert [g["project"] for g in fakes.openstack_state()[GJOVIK]["groups"]] == ["mecpool"]


def test_a_vim_named_by_clouds_yaml(fakes, mecpool, workdir):
    (workdir / "clouds.yaml").write_text(yaml.safe_dump({"clouds": {"gjovik-lab": {
        "auth": {"auth_url": GJOVIK, "username": "osm", "password": PMC_PASSWORD, "project_name": "mecpool",
                 "user_domain_name": "Default", "project_domain_name": "Default"},
        "region_name": "RegionTwo"}}}))
    edit_site(workdir, lambda d: d["vims"]["gjovik"].update(openstack={"cloud": "gjovik-lab",
                                                                        "clouds_file": "clouds.yaml"}))
    mecpool("openstack-prepare", "--site", "site.yaml", "--vim", "gjovik")
    envs = openstack_envs(fakes)
    assert envs and all(e == {"OS_CLOUD": "gjovik-lab", "OS_CLIENT_CONFIG_FILE": str(workdir / "clouds.yaml")}
                        for e in envs)
    create = next(c for c in fakes.calls("osm") if "vim-create" in c)
    assert create[create.index("--auth_url") + 1] == GJOVIK and create[create.index("--user") + 1] == "osm"
    assert "region_name: RegionTwo" in create[create.index("--config") + 1]
    assert fakes.openstack_state()[GJOVIK]["flavors"]
    # a cloud that clouds.yaml does not have: exit 2 naming the field, nothing called
    edit_site(workdir, lambda d: d["vims"]["gjovik"]["openstack"].update(cloud="nope"))
    fakes.reset_calls()
    result = mecpool("openstack-prepare", "--site", "site.yaml", "--vim", "gjovik", expect=2)
    assert "vims.gjovik.openstack.cloud: no cloud 'nope'" in result.stderr and "gjovik-lab" in result.stderr
    assert fakes.records() == []


def test_application_credential_and_ca_bundle(fakes, mecpool, workdir, env):
    (workdir / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    env.setenv("GJOVIK_APP_SECRET", "app-secret-value")

    def app_credential(d, password=True):
        account = {"auth_url": GJOVIK, "project": "mecpool", "cacert": "ca.pem",
                   "application_credential": {"id": "appcred1", "secret_env": "GJOVIK_APP_SECRET"}}
        if password:
            account.update(user="osm", password_env="MECPOOL_PMC_PASSWORD")
        d["vims"]["gjovik"]["openstack"] = account
    edit_site(workdir, lambda d: app_credential(d, password=False))
    # OSM R8 cannot register a VIM by application credential: said before anything is written
    result = mecpool("openstack-prepare", "--site", "site.yaml", "--vim", "gjovik", expect=2)
    assert "vims.gjovik.openstack: OSM Release EIGHT registers a VIM with a user and password" in result.stderr
    assert all(c[0].endswith("list") or "list" in c for c in fakes.calls())
    assert "app-secret-value" not in result.stdout + result.stderr
    edit_site(workdir, app_credential)
    out = mecpool("openstack-prepare", "--site", "site.yaml", "--vim", "gjovik").stdout
    assert "app-secret-value" not in out
    envs = openstack_envs(fakes)
    secret = hashlib.sha256(b"app-secret-value").hexdigest()
    assert envs and all(e == {"OS_AUTH_URL": GJOVIK, "OS_IDENTITY_API_VERSION": "3",
                              "OS_AUTH_TYPE": "v3applicationcredential", "OS_APPLICATION_CREDENTIAL_ID": "appcred1",
                              "OS_APPLICATION_CREDENTIAL_SECRET": secret, "OS_CACERT": str(workdir / "ca.pem")}
                        for e in envs)
    (workdir / "ca.pem").unlink()
    result = mecpool("openstack-prepare", "--site", "site.yaml", "--vim", "gjovik", "--dry-run", expect=2)
    assert "vims.gjovik.openstack.cacert:" in result.stderr and "ca.pem is not a file" in result.stderr


def site_error(workdir):
    from mecpool.site import SiteError, load_site
    try:
        load_site(workdir / "site.yaml")
    except SiteError as error:
        return str(error)
    raise AssertionError("the site was accepted")


def test_site_rejects_mixed_conventions(workdir):
    edit_site(workdir, lambda d: d["vims"]["gjovik"]["openstack"].update(cloud="lab"))
    assert "takes the account from clouds.yaml: leave out auth_url, project, user, password_env" in site_error(workdir)
    edit_site(workdir, lambda d: d["vims"]["gjovik"]["openstack"].update(cloud=None, insecure=True,
                                                                          cacert="ca.pem"))
    assert "insecure and cacert exclude each other" in site_error(workdir)
