"""The routing tests' story starts, like the follow-ups', on the eve of the job's day: a place taken
then is followed up the morning after the work."""

from datetime import datetime

import pytest

from tests.followup.conftest import EVE


@pytest.fixture
def clock_start() -> datetime:
    return EVE
