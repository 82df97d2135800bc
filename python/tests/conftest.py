import pytest
from traitlets.config import Config

from japps.config import SERVICE_API_TOKEN_ENV
from japps.install import PASS_THROUGH_ENV, SESSION_KEY_ENV


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """Tests must not see the pass-through variables of whoever runs them."""
    for name in (*PASS_THROUGH_ENV, SESSION_KEY_ENV, SERVICE_API_TOKEN_ENV):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def work_dir(tmp_path, monkeypatch):
    """The hub's working directory, where the session key file is created."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def c():
    return Config()
