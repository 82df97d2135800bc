import pytest
from traitlets.config import Config

from japps.install import PASS_THROUGH_ENV


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """Tests must not see the pass-through variables of whoever runs them."""
    for name in PASS_THROUGH_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def c():
    return Config()
