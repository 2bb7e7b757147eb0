"""Each VIM's account as the site gives it, resolved once: the ``OS_*`` environment the ``openstack``
child gets (exactly that: nothing of the operator's shell), and the user/password/project OSM's VIM
account and the project-scoped reads need.

The site names the account in one of three OpenStack conventions (mecpool.site.model.OpenStackAccount):
user and password, an application credential, or a ``cloud`` of a clouds.yaml.  With ``cloud`` the
``openstack`` client reads clouds.yaml itself (OS_CLOUD + OS_CLIENT_CONFIG_FILE), and mecpool reads the
same entry for what OSM needs (Release EIGHT's VIM accounts hold a user and a password)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from mecpool.site.model import Secret, Site

from .errors import InputError

# Where openstacksdk looks for clouds.yaml when OS_CLIENT_CONFIG_FILE is not set (in this order).
CLOUDS_PLACES = ("clouds.yaml", "~/.config/openstack/clouds.yaml", "/etc/openstack/clouds.yaml")
PREFIX = "OS_"


def inherited(environ=None) -> list[str]:
    """The operator's OS_* variables: none of them reaches an ``openstack`` child."""
    environ = os.environ if environ is None else environ
    return sorted(key for key in environ if key.startswith(PREFIX))


@dataclass(frozen=True)
class VimAccount:
    vim: str
    auth_url: str
    project: str
    user: str | None
    password: str | None            # OSM's VIM account (and openstack's, without application credential)
    user_domain: str
    project_domain: str
    region: str | None
    insecure: bool
    cacert: Path | None
    app_credential: tuple[str, str] | None = None
    cloud: tuple[str, Path] | None = None          # (entry, clouds.yaml)
    where: str = ""                                 # for messages: the field that holds the password
    osm_account: str = ""                           # the VIM's account in OSM (its own copy of the password)
    secrets: tuple[str, ...] = field(default=())

    def child_env(self) -> dict[str, str]:
        """Every OS_* variable of an ``openstack`` call to this VIM."""
        env: dict[str, str] = {}
        if self.cloud is not None:
            env["OS_CLOUD"], env["OS_CLIENT_CONFIG_FILE"] = self.cloud[0], str(self.cloud[1])
        else:
            env.update({"OS_AUTH_URL": self.auth_url, "OS_IDENTITY_API_VERSION": "3"})
            if self.app_credential is not None:
                env.update({"OS_AUTH_TYPE": "v3applicationcredential",
                            "OS_APPLICATION_CREDENTIAL_ID": self.app_credential[0],
                            "OS_APPLICATION_CREDENTIAL_SECRET": self.app_credential[1]})
            else:
                env.update({"OS_PROJECT_NAME": self.project, "OS_USERNAME": self.user or "",
                            "OS_PASSWORD": self.password or "", "OS_USER_DOMAIN_NAME": self.user_domain,
                            "OS_PROJECT_DOMAIN_NAME": self.project_domain})
            if self.region:
                env["OS_REGION_NAME"] = self.region
        if self.cacert is not None:
            env["OS_CACERT"] = str(self.cacert)
        return env

    def osm_password(self) -> str:
        """The password OSM's VIM account needs (vim-create); a clear error where the site has none."""
        if self.user and self.password:
            return self.password
        raise InputError(f"{self.where}: OSM Release EIGHT registers a VIM with a user and password (its RO knows "
                         "no application credentials): add user and password_env next to the application "
                         f"credential, or register the VIM account yourself (osm vim-create) and run again")


def _path(site_dir: Path, text: str) -> Path:
    path = Path(text).expanduser()
    return path if path.is_absolute() else site_dir / path


def _cacert(site_dir: Path, text: str | None, field_name: str) -> Path | None:
    if text is None:
        return None
    path = _path(site_dir, text)
    if not path.is_file():
        raise InputError(f"{field_name}: {path} is not a file (the CA bundle of the VIM's endpoints, PEM)")
    return path.resolve()


def clouds_file(site_dir: Path, given: str | None, field_name: str) -> Path:
    if given is not None:
        path = _path(site_dir, given)
        if not path.is_file():
            raise InputError(f"{field_name}: {path} is not a file")
        return path.resolve()
    for place in CLOUDS_PLACES:
        path = _path(site_dir, place)
        if path.is_file():
            return path.resolve()
    raise InputError(f"{field_name}: no clouds.yaml in {', '.join(CLOUDS_PLACES)} (relative to the site file's "
                     "folder): give clouds_file")


def _cloud_entry(path: Path, name: str, field_name: str) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise InputError(f"{field_name}: cannot read {path}: {error}") from None
    clouds = data.get("clouds") if isinstance(data, dict) else None
    if not isinstance(clouds, dict) or not isinstance(clouds.get(name), dict):
        known = ", ".join(sorted(clouds)) if isinstance(clouds, dict) else "none"
        raise InputError(f"{field_name}: no cloud {name!r} in {path} (clouds: {known})")
    return clouds[name]


def resolve(site: Site, site_dir: Path, name: str) -> VimAccount:
    """VIM ``name``'s account; a missing secret, file or clouds.yaml entry is an InputError naming the field."""
    account = site.vims[name].openstack
    base = f"vims.{name}.openstack"
    cacert = _cacert(site_dir, account.cacert, f"{base}.cacert")
    if account.cloud is not None:
        return _from_cloud(site, site_dir, name, account, cacert)
    password = None
    secret = account.secret_password()
    if secret is not None:
        password = _reveal(secret, f"{base}.password{'_env' if account.password_env else ''}")
    app = None
    if account.application_credential is not None:
        cred = account.application_credential
        app = (cred.id, _reveal(Secret(value=cred.secret, env=cred.secret_env),
                                f"{base}.application_credential.secret{'_env' if cred.secret_env else ''}"))
    return VimAccount(vim=name, auth_url=account.auth_url, project=account.project, user=account.user,
                      password=password, user_domain=account.domain, project_domain=account.domain,
                      region=account.region, insecure=account.insecure, cacert=cacert, app_credential=app,
                      where=base, osm_account=site.vims[name].osm_account,
                      secrets=tuple(s for s in (password, app and app[1]) if s))


def _from_cloud(site: Site, site_dir: Path, name: str, account, cacert: Path | None) -> VimAccount:
    base = f"vims.{name}.openstack"
    path = clouds_file(site_dir, account.clouds_file, f"{base}.clouds_file")
    entry = _cloud_entry(path, account.cloud, f"{base}.cloud")
    auth = entry.get("auth") if isinstance(entry.get("auth"), dict) else {}
    where = f"{base}.cloud ({account.cloud} in {path})"
    for key in ("auth_url", "project_name"):
        if not isinstance(auth.get(key), str) or not auth.get(key):
            raise InputError(f"{where}: auth.{key} is missing (mecpool needs it for OSM's VIM account and the "
                             "project's security group)")
    domain = str(auth.get("domain_name") or "Default")
    verify = entry.get("verify", True)
    if cacert is None and isinstance(entry.get("cacert"), str):
        cacert = _cacert(path.parent, entry["cacert"], f"{where}: cacert")
    password = auth.get("password") if isinstance(auth.get("password"), str) else None
    app_secret = auth.get("application_credential_secret")
    return VimAccount(vim=name, auth_url=auth["auth_url"], project=auth["project_name"],
                      user=auth.get("username"), password=password,
                      user_domain=str(auth.get("user_domain_name") or domain),
                      project_domain=str(auth.get("project_domain_name") or domain),
                      region=entry.get("region_name") or account.region, insecure=verify is False or account.insecure,
                      cacert=cacert, cloud=(account.cloud, path), where=where,
                      osm_account=site.vims[name].osm_account,
                      secrets=tuple(s for s in (password, app_secret) if isinstance(s, str) and s))


def _reveal(secret: Secret, field_name: str) -> str:
    try:
        return secret.reveal(field_name)
    except ValueError as error:
        raise InputError(str(error)) from None
