"""Values shared by the deploy tests and their conftest (a module of its own: several
test folders have a conftest.py, so ``from conftest import`` depends on import order)."""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
K = "0123456789abcdef0123456789abcdef"
OP = "fedcba9876543210fedcba9876543210"
MEC_PASSWORD = "mec-secret-pw"
PMC_PASSWORD = "pmc-secret-pw"
SECRETS = (K, OP, MEC_PASSWORD, PMC_PASSWORD)
