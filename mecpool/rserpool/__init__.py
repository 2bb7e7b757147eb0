"""The one place where RSerPool (RSPLIB) command lines and service units are made.

Used by the Pool Registrar and Pool Element charms (vendored into them by the
package builder), by the cloud-init of the PE VDU (which runs ``python3 -m
mecpool.rserpool.configure`` on the VM, so a scaled-out PE configures itself),
and by the local testbed.

This package must stay importable on Python 3.6 with the standard library only:
it runs on Ubuntu 18.04 and 20.04 VDUs.  ``tests/test_py36_compat.py`` checks it.
"""

from .commands import (  # noqa: F401
    ASAP_PORT,
    ENRP_PORT,
    PE_PORT,
    ConfigError,
    Endpoint,
    PoolElementConfig,
    PoolUserConfig,
    RegistrarConfig,
    hsdump_argv,
    pool_element_argv,
    pool_user_argv,
    registrar_argv,
)
