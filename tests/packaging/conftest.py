import pytest

from pkgfixtures import build_example, example_site


@pytest.fixture(scope="session")
def site():
    return example_site()


@pytest.fixture(scope="session")
def built(tmp_path_factory, site):
    """The example site built once: (out dir, [Built])."""
    root = tmp_path_factory.mktemp("built")
    return root / "build", build_example(root / "build", root / "charms", site)
