"""Site parameters: ``load_site(path)`` returns a validated :class:`Site` or raises
:class:`SiteError` listing every problem with its field path."""

from .loader import DEFAULT_SITE_FILES, SiteError, find_site_file, load_site, parse_site  # noqa: F401
from .model import Site  # noqa: F401
