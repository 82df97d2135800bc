import sys

import pytest

from japps.binary import bundled_binary


@pytest.fixture
def distribution(tmp_path, monkeypatch):
    """A distribution `fakejapps` in a site directory of its own, its record naming an
    executable `../bin/japps` as the japps wheel's does."""
    site = tmp_path / "site"
    info = site / "fakejapps-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fakejapps\nVersion: 1.0\n")
    (info / "RECORD").write_text("fakejapps/__init__.py,,\n../bin/japps,,\n")
    monkeypatch.syspath_prepend(str(site))
    return tmp_path


def test_the_recorded_executable_is_found(distribution):
    binary = distribution / "bin" / "japps"
    binary.parent.mkdir()
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    assert bundled_binary("fakejapps") == str(binary.resolve())


def test_a_missing_or_not_executable_file_is_not_used(distribution):
    assert bundled_binary("fakejapps") is None
    binary = distribution / "bin" / "japps"
    binary.parent.mkdir()
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o644)
    assert bundled_binary("fakejapps") is None


def test_no_distribution_no_binary():
    assert bundled_binary("no-such-distribution-here") is None
