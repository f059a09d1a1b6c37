"""The routing tests build their market with the matching and follow-up fixtures."""

from tests.followup.conftest import clock  # noqa: F401  (pytest fixtures)
from tests.matching.conftest import market  # noqa: F401
