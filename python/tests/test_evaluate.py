"""``python -m japps.evaluate``, run as the service runs it: a subprocess with
the user model on stdin, the hub config in its own directory."""

import json
import os
import subprocess
import sys

import pytest

from japps.evaluate import summary

ALICE = {
    "kind": "user",
    "name": "alice",
    "admin": False,
    "groups": ["staff", "gpu-users"],
    "auth_state": {"access_token": "tok-0123456789abcdef", "oauth_user": {"id": 7}},
}

HEADER = """\
import asyncio
from jupyterhub.spawner import SimpleLocalProcessSpawner
from japps import install_jhub_apps
c = get_config()  # noqa: F821
"""


@pytest.fixture
def hub_dir(tmp_path):
    """The directory of the hub's config file (not the evaluator's cwd)."""
    path = tmp_path / "hub"
    path.mkdir()
    return path


def write_config(hub_dir, body, install=True):
    text = HEADER + body
    if install:
        text += "\ninstall_jhub_apps(c, SimpleLocalProcessSpawner)\n"
    path = hub_dir / "jupyterhub_config.py"
    path.write_text(text)
    return path


def run(setting, config, user=ALICE, args=None, env=None, stdin=None):
    command = [sys.executable, "-m", "japps.evaluate", setting]
    command += ["--config", str(config)] if args is None else args
    full_env = {k: v for k, v in os.environ.items() if k != "JHUB_APP_JWT_SECRET_KEY"}
    full_env.update(env or {})
    return subprocess.run(
        command,
        input=json.dumps(user) if stdin is None else stdin,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
    )


def answer(result):
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def last_line(result):
    return result.stderr.strip().splitlines()[-1]


def test_static_values(hub_dir):
    config = write_config(
        hub_dir,
        "c.JAppsConfig.conda_envs = ['base', 'gpu']\n"
        "c.KubeSpawner.profile_list = [{'display_name': 'Small', 'slug': 'small'}]\n",
    )
    assert answer(run("conda_envs", config)) == ["base", "gpu"]
    assert answer(run("profile_list", config)) == [{"display_name": "Small", "slug": "small"}]


def test_unset_settings_are_empty(hub_dir):
    config = write_config(hub_dir, "")
    assert answer(run("conda_envs", config)) == []
    assert answer(run("profile_list", config)) == []


def test_sync_conda_callable_gets_the_user_model(hub_dir):
    config = write_config(
        hub_dir,
        "c.JAppsConfig.conda_envs = lambda user: ['env-' + user['name'], *user['groups']]\n",
    )
    assert answer(run("conda_envs", config)) == ["env-alice", "staff", "gpu-users"]


def test_async_conda_callable_is_awaited(hub_dir):
    config = write_config(
        hub_dir,
        "async def envs(user):\n"
        "    await asyncio.sleep(0)\n"
        "    return ('a-' + user['name'], user['auth_state']['access_token'][:3])\n"
        "c.JAppsConfig.conda_envs = envs\n",
    )
    assert answer(run("conda_envs", config)) == ["a-alice", "tok"]


def test_async_profile_list_uses_the_fake_spawner(hub_dir):
    config = write_config(
        hub_dir,
        "async def profiles(spawner):\n"
        "    state = await spawner.user.get_auth_state()\n"
        "    groups = [g.name for g in spawner.user.groups]\n"
        "    spawner.log.info('building profiles')\n"
        "    return [{'display_name': f\"{spawner.user.name} #{state['oauth_user']['id']}\",\n"
        "             'description': ','.join(groups), 'admin': spawner.user.admin}]\n"
        "c.KubeSpawner.profile_list = profiles\n",
    )
    assert answer(run("profile_list", config)) == [
        {"display_name": "alice #7", "description": "staff,gpu-users", "admin": False}
    ]


def test_sync_profile_list_works_too(hub_dir):
    # jhub-apps awaited every callable, so a plain function failed there.
    config = write_config(
        hub_dir,
        "c.KubeSpawner.profile_list = lambda spawner: [{'display_name': spawner.user.name}]\n",
    )
    assert answer(run("profile_list", config)) == [{"display_name": "alice"}]


def test_a_raising_callable_fails_with_a_summary(hub_dir):
    config = write_config(
        hub_dir,
        "def envs(user):\n"
        "    raise ValueError('no envs for ' + user['auth_state']['access_token'])\n"
        "c.JAppsConfig.conda_envs = envs\n",
    )
    result = run("conda_envs", config)
    assert result.returncode != 0
    assert result.stdout == ""
    line = last_line(result)
    assert line.startswith("japps.evaluate: conda_envs raised ValueError: no envs for ***")
    assert "jupyterhub_config.py" in line and "in envs" in line
    assert "tok-0123456789abcdef" not in line
    assert "Traceback" in result.stderr, "the full traceback precedes the summary"


def test_a_callable_without_user_data_keeps_plain_messages(hub_dir):
    config = write_config(hub_dir, "c.JAppsConfig.conda_envs = lambda user: user['missing']\n")
    result = run("conda_envs", config, user={"name": "bob"})
    assert result.returncode == 1
    assert "conda_envs raised KeyError: 'missing'" in last_line(result)


def test_non_json_answers_fail(hub_dir):
    config = write_config(hub_dir, "c.JAppsConfig.conda_envs = lambda user: [object()]\n")
    result = run("conda_envs", config)
    assert result.returncode == 1
    assert "not JSON" in last_line(result)


def test_printing_does_not_spoil_the_answer(hub_dir):
    config = write_config(
        hub_dir,
        "import os, subprocess\n"
        "print('hello from the config')\n"
        "def envs(user):\n"
        "    print('hello from the callable')\n"
        "    subprocess.run(['echo', 'hello from a subprocess'])\n"
        "    os.write(1, b'raw fd 1\\n')\n"
        "    return ['x']\n"
        "c.JAppsConfig.conda_envs = envs\n",
    )
    result = run("conda_envs", config)
    assert answer(result) == ["x"]
    for text in ["config", "callable", "subprocess", "raw fd 1"]:
        assert text in result.stderr


def test_evaluating_creates_no_session_key_file(hub_dir, work_dir):
    config = write_config(hub_dir, "c.JAppsConfig.conda_envs = lambda user: ['x']\n")
    before = set(os.listdir(hub_dir)), set(os.listdir(work_dir))
    assert answer(run("conda_envs", config)) == ["x"]
    assert (set(os.listdir(hub_dir)), set(os.listdir(work_dir))) == before
    assert "japps_cookie_secret" not in os.listdir(hub_dir)
    assert "not an executable" not in run("conda_envs", config).stderr


def test_a_broken_config_is_reported(hub_dir):
    config = write_config(hub_dir, "c.JAppsConfig.conda_envs = undefined_name\n")
    result = run("conda_envs", config)
    assert result.returncode == 1
    assert "loading" in last_line(result) and "NameError" in last_line(result)

    result = run("conda_envs", hub_dir / "missing.py")
    assert result.returncode == 1
    assert "no config file at" in last_line(result)


def test_bad_input_is_refused(hub_dir):
    config = write_config(hub_dir, "")
    result = run("conda_envs", config, stdin="not json")
    assert result.returncode == 1
    assert "not a JSON user model" in last_line(result)
    result = run("conda_envs", config, stdin="[1]")
    assert result.returncode == 1
    result = run("nonsense", config)
    assert result.returncode == 2


def test_config_path_defaults_to_japps_config(hub_dir):
    config = write_config(hub_dir, "c.JAppsConfig.conda_envs = ['from-env']\n")
    env = {"JAPPS_CONFIG": json.dumps({"jupyterhub_config_path": str(config)})}
    assert answer(run("conda_envs", config, args=[], env=env)) == ["from-env"]


def test_summary_hides_auth_state_values():
    user = {"auth_state": {"token": "abcd1234", "nested": ["refresh-xyz"], "n": 5, "s": "ab"}}
    line = summary("failed: abcd1234 and refresh-xyz\nsecond line", user)
    assert line == "japps.evaluate: failed: *** and *** second line"
    assert len(summary("x" * 1000, {})) < 350
