import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "packaging"))

from pkgfixtures import build_example, example_site  # noqa: E402


@pytest.fixture(scope="session")
def example():
    return example_site()


@pytest.fixture(scope="session")
def example_build(tmp_path_factory, example):
    root = tmp_path_factory.mktemp("desc-build")
    return root / "build", build_example(root / "build", root / "charms", example)
