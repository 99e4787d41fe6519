"""Unit tier: no real program may run (replay fixtures swap the executor back in)."""

import pytest

from bench.tools import runner
from tests.helpers.replay import forbid_all


@pytest.fixture(autouse=True)
def _no_real_programs():
    with runner.use_executor(forbid_all):
        yield
