import logging

import pytest
from jupyterhub.spawner import SimpleLocalProcessSpawner

from japps import install_jhub_apps
from japps.version import binary_version, warn_if_versions_differ


def fake_japps(path, output, status=0):
    path.write_text(f"#!/bin/sh\necho '{output}'\nexit {status}\n")
    path.chmod(0o755)
    return str(path)


def test_binary_version_reads_the_version_line(tmp_path):
    assert binary_version(fake_japps(tmp_path / "japps", "japps 1.2.3 (abc)")) == "1.2.3 (abc)"


@pytest.mark.parametrize(
    "output,status", [("something 1.2.3", 0), ("japps 1.2.3 (abc)", 1), ("", 0)]
)
def test_what_is_not_japps_has_no_version(tmp_path, output, status):
    assert binary_version(fake_japps(tmp_path / "other", output, status)) is None


def test_missing_binary_has_no_version(tmp_path):
    assert binary_version(str(tmp_path / "nowhere")) is None


def test_different_versions_are_warned_about(tmp_path, caplog):
    service = fake_japps(tmp_path / "service", "japps 1.2.3 (abc)")
    same = fake_japps(tmp_path / "same", "japps 1.2.3 (def)")
    older = fake_japps(tmp_path / "older", "japps 1.0.0 (abc)")
    with caplog.at_level(logging.WARNING, logger="JupyterHub.japps"):
        warn_if_versions_differ(service, same)
        assert caplog.text == ""
        warn_if_versions_differ(service, older)
    assert "japps 1.2.3" in caplog.text and "japps 1.0.0" in caplog.text


def test_install_warns_about_different_binaries(c, tmp_path, caplog):
    c.JAppsConfig.japps_bin = fake_japps(tmp_path / "service", "japps 2.0.0 (abc)")
    c.JAppsConfig.launcher_bin = fake_japps(tmp_path / "launcher", "japps 1.0.0 (abc)")
    with caplog.at_level(logging.WARNING, logger="JupyterHub.japps"):
        install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert "the launcher" in caplog.text and "japps 1.0.0" in caplog.text
