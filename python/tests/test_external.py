"""japps as an external service (c.JAppsConfig.service_url): the hub's service entry,
and ``python -m japps service-env``, the environment of the replicas."""

import json
import logging
import os
import re
import stat

import pytest
from jupyterhub import orm
from jupyterhub.spawner import SimpleLocalProcessSpawner
from traitlets import TraitError
from traitlets.config.loader import PyFileConfigLoader

from helpers import japps_service, role, start_hub
from japps import JAppsConfig, __main__, install_jhub_apps, service_env

TOKEN = "svc-token-" + "t" * 30
URL = "http://japps:10202"
CLIENT_SCOPES = ["servers", "shares", "read:users:name", "read:groups:name", "read:users:shares"]
KEY = "session-key-" + "k" * 40


@pytest.fixture
def external(c):
    c.JAppsConfig.service_url = URL
    c.JAppsConfig.service_api_token = TOKEN
    return c


# --- the hub's service entry ----------------------------------------------------


def test_external_service_entry(external, work_dir):
    install_jhub_apps(external, SimpleLocalProcessSpawner)
    assert japps_service(external) == {
        "name": "japps",
        "url": URL,
        "api_token": TOKEN,
        "oauth_no_confirm": False,
        "display": False,
        "oauth_client_allowed_scopes": CLIENT_SCOPES,
    }
    # The hub gives an external service no environment, so no session key either.
    assert list(work_dir.iterdir()) == []
    # Roles and spawner as for a managed service.
    assert role(external, "japps-service")["services"] == ["japps"]
    assert external.JupyterHub.spawner_class._japps_base is SimpleLocalProcessSpawner


def test_oauth_no_confirm_applies_to_the_external_service(external):
    install_jhub_apps(external, SimpleLocalProcessSpawner, oauth_no_confirm=True)
    assert japps_service(external)["oauth_no_confirm"] is True


def test_the_token_may_come_from_the_environment(c, monkeypatch):
    monkeypatch.setenv("JAPPS_SERVICE_API_TOKEN", TOKEN)
    c.JAppsConfig.service_url = URL
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert japps_service(c)["api_token"] == TOKEN


def test_the_config_wins_over_the_environment(external, monkeypatch):
    monkeypatch.setenv("JAPPS_SERVICE_API_TOKEN", "other-token-value")
    install_jhub_apps(external, SimpleLocalProcessSpawner)
    assert japps_service(external)["api_token"] == TOKEN


def test_a_missing_binary_is_not_warned_about(external, monkeypatch, caplog):
    monkeypatch.setenv("PATH", "")
    external.JAppsConfig.japps_bin = "/nowhere/japps"
    with caplog.at_level(logging.DEBUG):
        install_jhub_apps(external, SimpleLocalProcessSpawner)
    assert "not an executable" not in caplog.text
    assert TOKEN not in caplog.text


def test_the_hub_accepts_the_external_service(external):
    install_jhub_apps(external, SimpleLocalProcessSpawner)
    app = start_hub(external)
    try:
        service = app._service_map["japps"]
        assert not service.managed
        assert service.url == URL
        assert service.oauth_client_id == "service-japps"
        token = orm.APIToken.find(app.db, TOKEN)
        assert token is not None and token.service.name == "japps"
    finally:
        app.db.close()


@pytest.mark.parametrize(
    "token, message",
    [
        (None, "is not set"),
        ("", "is not set"),
        ("t" * 7, "shorter than 8"),
        ("t" * 65, "longer than 64"),
    ],
)
def test_a_missing_or_bad_token_stops_the_hub(c, token, message):
    c.JAppsConfig.service_url = URL
    if token is not None:
        c.JAppsConfig.service_api_token = token
    with pytest.raises(ValueError, match=message) as err:
        install_jhub_apps(c, SimpleLocalProcessSpawner)
    text = str(err.value)
    assert "c.JAppsConfig.service_api_token" in text and "JAPPS_SERVICE_API_TOKEN" in text
    if token:
        assert token not in text


@pytest.mark.parametrize("length", [8, 64])
def test_tokens_of_8_to_64_characters_are_accepted(c, length):
    c.JAppsConfig.service_url = URL
    c.JAppsConfig.service_api_token = "t" * length
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    assert japps_service(c)["api_token"] == "t" * length


def test_evaluation_mode_needs_no_token(c, work_dir, monkeypatch):
    monkeypatch.setenv("JAPPS_EVALUATE", "1")
    c.JAppsConfig.service_url = URL
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    service = japps_service(c)
    assert service["url"] == URL
    assert "command" not in service and "environment" not in service
    assert list(work_dir.iterdir()) == []


def test_hub_only_settings_stay_out_of_japps_config(c, monkeypatch):
    # Managed service, with a token in the hub's environment all the same.
    monkeypatch.setenv("JAPPS_SERVICE_API_TOKEN", TOKEN)
    install_jhub_apps(c, SimpleLocalProcessSpawner)
    text = japps_service(c)["environment"]["JAPPS_CONFIG"]
    assert TOKEN not in text
    assert "service_url" not in json.loads(text)
    assert "service_api_token" not in json.loads(text)


def test_a_token_of_the_wrong_type_is_not_quoted(c):
    c.JAppsConfig.service_api_token = 1234567890123
    with pytest.raises(TraitError, match="service_api_token must be a string") as err:
        JAppsConfig(config=c)
    assert "1234567890123" not in str(err.value)


# --- service_url ------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        URL,
        "http://japps:10202/",
        "https://japps.example.org",
        "http://[fd00::1]:10202",
        "http://10.0.0.7:80",
    ],
)
def test_good_service_urls(c, url):
    c.JAppsConfig.service_url = url
    assert JAppsConfig(config=c).service_url == url


@pytest.mark.parametrize(
    "url, message",
    [
        ("japps:10202", "http:// or https://"),
        ("ftp://japps:10202", "http:// or https://"),
        ("http://:10202", "must name a host"),
        ("http://japps:99999", "invalid port"),
        ("http://japps:port", "invalid port"),
        ("http://japps:10202/services/japps/", "no path"),
        ("http://japps:10202?a=1", "no query or fragment"),
        ("http://japps:10202/#top", "no query or fragment"),
        ("http://japps:10202?", "no query or fragment"),
        ("http://jap ps:10202", "spaces"),
        ("http://[fd00::1:10202", "not a URL"),
    ],
)
def test_bad_service_urls_are_refused(c, url, message):
    c.JAppsConfig.service_url = url
    with pytest.raises(TraitError, match=message):
        JAppsConfig(config=c)


def test_credentials_in_the_service_url_are_refused_unquoted(c):
    c.JAppsConfig.service_url = "http://admin:hunter2@japps:10202"
    with pytest.raises(TraitError, match="credentials") as err:
        JAppsConfig(config=c)
    assert "hunter2" not in str(err.value)


# --- python -m japps service-env ------------------------------------------------

CONFIG = """\
from jupyterhub.spawner import SimpleLocalProcessSpawner
from japps import install_jhub_apps
c = get_config()  # noqa: F821
{settings}
install_jhub_apps(c, SimpleLocalProcessSpawner)
"""

EXTERNAL = f"c.JAppsConfig.service_url = {URL!r}\nc.JAppsConfig.service_api_token = {TOKEN!r}"


@pytest.fixture
def hub_dir(tmp_path):
    """The hub config's directory, apart from the working directory of the command."""
    path = tmp_path / "hub"
    path.mkdir()
    return path


def write_config(hub_dir, settings=EXTERNAL, extra=""):
    path = hub_dir / "jupyterhub_config.py"
    path.write_text(CONFIG.format(settings=f"{settings}\n{extra}"))
    return path


def run_env(capsys, config, *args):
    status = service_env.main(["-f", str(config), *args])
    out, err = capsys.readouterr()
    return status, out, err


def parse(out):
    env = {}
    for line in out.splitlines():
        name, sep, value = line.partition("=")
        assert sep and re.fullmatch(r"[A-Z_]+", name), line
        assert name not in env, f"{name} twice"
        env[name] = value
    return env


def service_environment(capsys, hub_dir, extra="", *args):
    """The variables printed for the external config plus ``extra``, and stderr."""
    status, out, err = run_env(capsys, write_config(hub_dir, extra=extra), *args)
    assert status == 0, err
    return parse(out), err


@pytest.fixture
def with_key(monkeypatch):
    monkeypatch.setenv("JHUB_APP_JWT_SECRET_KEY", KEY)


def test_every_variable_a_replica_needs(capsys, hub_dir, with_key):
    env, err = service_environment(capsys, hub_dir)
    config = json.loads(env.pop("JAPPS_CONFIG"))
    assert env == {
        "JUPYTERHUB_SERVICE_NAME": "japps",
        "JUPYTERHUB_API_TOKEN": TOKEN,
        "JUPYTERHUB_API_URL": "http://127.0.0.1:8081/hub/api",
        "JUPYTERHUB_BASE_URL": "/",
        "JUPYTERHUB_SERVICE_PREFIX": "/services/japps/",
        "JUPYTERHUB_CLIENT_ID": "service-japps",
        "JUPYTERHUB_OAUTH_CALLBACK_URL": "/services/japps/oauth_callback",
        "JUPYTERHUB_OAUTH_ACCESS_SCOPES": '["access:services","access:services!service=japps"]',
        "JUPYTERHUB_SERVICE_URL": URL,
        "JAPPS_BIND_URL": "http://0.0.0.0:10202",
        "JHUB_APP_JWT_SECRET_KEY": KEY,
    }
    assert config["jupyterhub_config_path"] == str(hub_dir / "jupyterhub_config.py")
    assert config["callables"] == []
    assert err == ""


def test_japps_config_is_the_managed_services(capsys, hub_dir, with_key, work_dir):
    settings = (
        "c.JAppsConfig.conda_envs = lambda user: ['base']\n"
        "c.JAppsConfig.banners = {'top': {'text': 'hello'}}\n"
        "c.JupyterHub.template_vars = {'hub_title': 'Hub'}"
    )
    env, _ = service_environment(capsys, hub_dir, settings)
    # The same file without service_url, loaded by the hub itself.
    managed = hub_dir / "managed" / "jupyterhub_config.py"
    managed.parent.mkdir()
    managed.write_text(CONFIG.format(settings=settings))
    c = PyFileConfigLoader(managed.name, str(managed.parent)).load_config()
    expected = json.loads(japps_service(c)["environment"]["JAPPS_CONFIG"])
    expected["jupyterhub_config_path"] = str(hub_dir / "jupyterhub_config.py")
    assert json.loads(env["JAPPS_CONFIG"]) == expected
    assert expected["callables"] == ["conda_envs"]


def test_a_relative_config_path_starts_at_the_config_file(capsys, hub_dir, with_key):
    env, _ = service_environment(
        capsys, hub_dir, "c.JAppsConfig.jupyterhub_config_path = 'conf/hub.py'"
    )
    path = json.loads(env["JAPPS_CONFIG"])["jupyterhub_config_path"]
    assert path == str(hub_dir / "conf" / "hub.py")


@pytest.mark.parametrize(
    "base_url, normalised",
    [("/", "/"), ("/jhub/", "/jhub/"), ("jhub", "/jhub/"), ("/a/b", "/a/b/"), ("", "/")],
)
def test_base_url(capsys, hub_dir, with_key, base_url, normalised):
    env, _ = service_environment(capsys, hub_dir, f"c.JupyterHub.base_url = {base_url!r}")
    assert env["JUPYTERHUB_BASE_URL"] == normalised
    assert env["JUPYTERHUB_API_URL"] == f"http://127.0.0.1:8081{normalised}hub/api"
    assert env["JUPYTERHUB_SERVICE_PREFIX"] == f"{normalised}services/japps/"
    assert env["JUPYTERHUB_OAUTH_CALLBACK_URL"] == f"{normalised}services/japps/oauth_callback"


@pytest.mark.parametrize(
    "settings, api_url",
    [
        ("c.JupyterHub.hub_connect_url = 'http://hub:8081'", "http://hub:8081/jhub/hub/api"),
        # the hub replaces the path with its own prefix
        (
            "c.JupyterHub.hub_connect_url = 'https://hub.internal/x/'",
            "https://hub.internal/jhub/hub/api",
        ),
        ("c.JupyterHub.hub_bind_url = 'http://10.1.2.3:9000'", "http://10.1.2.3:9000/jhub/hub/api"),
        (
            "c.JupyterHub.hub_bind_url = 'http://10.1.2.3:9000'\n"
            "c.JupyterHub.hub_connect_url = 'http://hub:8081'",
            "http://hub:8081/jhub/hub/api",
        ),
        (
            "c.JupyterHub.hub_ip = '10.0.0.5'\nc.JupyterHub.hub_port = 8082",
            "http://10.0.0.5:8082/jhub/hub/api",
        ),
        ("c.JupyterHub.hub_port = 8082", "http://127.0.0.1:8082/jhub/hub/api"),
        ("c.JupyterHub.hub_ip = 'fd00::5'", "http://[fd00::5]:8081/jhub/hub/api"),
        (
            "c.JupyterHub.hub_ip = '0.0.0.0'\nc.JupyterHub.hub_connect_ip = 'hub'",
            "http://hub:8081/jhub/hub/api",
        ),
    ],
)
def test_api_url_from_the_hub_settings(capsys, hub_dir, with_key, settings, api_url):
    env, err = service_environment(capsys, hub_dir, f"c.JupyterHub.base_url = '/jhub/'\n{settings}")
    assert env["JUPYTERHUB_API_URL"] == api_url
    assert err == ""


@pytest.mark.parametrize(
    "settings",
    [
        "c.JupyterHub.hub_ip = '0.0.0.0'",
        "c.JupyterHub.hub_ip = ''",
        "c.JupyterHub.hub_ip = '::'",
        "c.JupyterHub.hub_bind_url = 'http://0.0.0.0:8081'",
    ],
)
def test_a_hub_on_every_interface_gives_loopback_and_a_warning(capsys, hub_dir, with_key, settings):
    env, err = service_environment(capsys, hub_dir, settings)
    assert env["JUPYTERHUB_API_URL"] == "http://127.0.0.1:8081/hub/api"
    assert "warning" in err and "--api-url" in err


def test_api_url_option_wins(capsys, hub_dir, with_key):
    env, err = service_environment(
        capsys, hub_dir, "c.JupyterHub.hub_ip = '0.0.0.0'", "--api-url", "http://hub:8081/hub/api"
    )
    assert env["JUPYTERHUB_API_URL"] == "http://hub:8081/hub/api"
    assert err == ""


def test_a_bad_api_url_option_is_refused(capsys, hub_dir, with_key):
    with pytest.raises(SystemExit) as exit:
        service_env.main(["-f", str(write_config(hub_dir)), "--api-url", "hub:8081"])
    assert exit.value.code == 2


def test_a_unix_socket_hub_needs_the_api_url_option(capsys, hub_dir, with_key):
    config = write_config(hub_dir, extra="c.JupyterHub.hub_bind_url = 'unix+http://%2Frun%2Fhub'")
    status, out, err = run_env(capsys, config)
    assert status == 1 and out == "" and "--api-url" in err


def test_public_url_host_and_cookie_prefix_only_when_set(capsys, hub_dir, with_key):
    env, _ = service_environment(capsys, hub_dir)
    for name in (
        "JUPYTERHUB_PUBLIC_URL",
        "JUPYTERHUB_HOST",
        "JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED",
    ):
        assert name not in env


def test_public_url(capsys, hub_dir, with_key):
    settings = (
        "c.JupyterHub.base_url = '/jhub/'\n"
        "c.JupyterHub.public_url = 'https://hub.example.org:8443/jhub/'"
    )
    env, _ = service_environment(capsys, hub_dir, settings)
    # as the hub gives it to a managed service: the service's own public URL
    assert env["JUPYTERHUB_PUBLIC_URL"] == "https://hub.example.org:8443/jhub/services/japps/"
    assert env["JUPYTERHUB_HOST"] == "https://hub.example.org:8443"


@pytest.mark.parametrize("subdomain_host", ["https://hub.example.org", "hub.example.org"])
def test_subdomain_host(capsys, hub_dir, with_key, subdomain_host):
    setting = f"c.JupyterHub.subdomain_host = {subdomain_host!r}"
    env, _ = service_environment(capsys, hub_dir, setting)
    assert env["JUPYTERHUB_HOST"] == "https://hub.example.org"
    assert env["JUPYTERHUB_PUBLIC_URL"] == "https://hub.example.org/services/japps/"


def test_cookie_host_prefix(capsys, hub_dir, with_key):
    env, _ = service_environment(capsys, hub_dir, "c.JupyterHub.cookie_host_prefix_enabled = True")
    assert env["JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED"] == "1"


@pytest.mark.parametrize(
    "url, bind",
    [
        ("https://japps.example.org", "http://0.0.0.0:443"),
        ("http://japps", "http://0.0.0.0:80"),
        ("http://japps:9000/", "http://0.0.0.0:9000"),
    ],
)
def test_replicas_listen_on_every_interface_at_the_urls_port(capsys, hub_dir, with_key, url, bind):
    env, _ = service_environment(capsys, hub_dir, f"c.JAppsConfig.service_url = {url!r}")
    assert env["JAPPS_BIND_URL"] == bind
    assert env["JUPYTERHUB_SERVICE_URL"] == url


def test_logging_is_passed_through_and_nothing_of_the_hubs_python(
    capsys, hub_dir, with_key, monkeypatch
):
    monkeypatch.setenv("RUST_LOG", "japps=debug")
    monkeypatch.setenv("JAPPS_LOG_FORMAT", "json")
    monkeypatch.setenv("PYTHONPATH", "/opt/site")
    env, _ = service_environment(capsys, hub_dir)
    assert env["RUST_LOG"] == "japps=debug"
    assert env["JAPPS_LOG_FORMAT"] == "json"
    assert "PYTHONPATH" not in env and "JAPPS_PYTHON" not in env


# --- the session key ---


def test_session_key_from_the_environment(capsys, hub_dir, with_key):
    (hub_dir / "japps_cookie_secret").write_text("f" * 64)
    (hub_dir / "japps_cookie_secret").chmod(0o600)
    env, _ = service_environment(capsys, hub_dir)
    assert env["JHUB_APP_JWT_SECRET_KEY"] == KEY


def test_session_key_from_the_hubs_key_file(capsys, hub_dir, work_dir):
    key_file = hub_dir / "japps_cookie_secret"
    key_file.write_text(f"{KEY}\n")
    key_file.chmod(0o600)
    env, err = service_environment(capsys, hub_dir)
    assert env["JHUB_APP_JWT_SECRET_KEY"] == KEY
    assert err == ""
    assert not (work_dir / "japps_cookie_secret").exists()


def test_an_open_key_file_is_refused_without_its_content(capsys, hub_dir):
    key_file = hub_dir / "japps_cookie_secret"
    key_file.write_text(KEY)
    key_file.chmod(0o644)
    status, out, err = run_env(capsys, write_config(hub_dir))
    assert status == 1 and out == ""
    assert "group or others" in err and KEY not in err


def test_a_new_session_key_is_generated_and_not_stored(capsys, hub_dir, work_dir):
    config = write_config(hub_dir)
    before = sorted(p.relative_to(work_dir) for p in work_dir.rglob("*"))
    env, err = service_environment(capsys, hub_dir)
    key = env["JHUB_APP_JWT_SECRET_KEY"]
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert "generated" in err and "every replica" in err and key not in err
    assert sorted(p.relative_to(work_dir) for p in work_dir.rglob("*")) == before
    assert config.exists()


# --- refusals, output ---


def test_without_service_url_exit_2(capsys, hub_dir, with_key):
    status, out, err = run_env(capsys, write_config(hub_dir, settings=""))
    assert status == 2 and out == ""
    assert "service_url is not set" in err


@pytest.mark.parametrize("token", ["", "tok-7ch"])
def test_without_a_good_token_exit_1(capsys, hub_dir, with_key, token):
    settings = f"c.JAppsConfig.service_url = {URL!r}\nc.JAppsConfig.service_api_token = {token!r}"
    status, out, err = run_env(capsys, write_config(hub_dir, settings=settings))
    assert status == 1 and out == ""
    assert "service_api_token" in err
    if token:
        assert token not in err


def test_the_token_from_the_environment(capsys, hub_dir, with_key, monkeypatch):
    monkeypatch.setenv("JAPPS_SERVICE_API_TOKEN", TOKEN)
    config = write_config(hub_dir, settings=f"c.JAppsConfig.service_url = {URL!r}")
    status, out, err = run_env(capsys, config)
    assert status == 0, err
    assert parse(out)["JUPYTERHUB_API_TOKEN"] == TOKEN


@pytest.mark.parametrize("name", ["RUST_LOG", "JHUB_APP_JWT_SECRET_KEY"])
def test_a_newline_in_a_value_is_refused(capsys, hub_dir, with_key, monkeypatch, name):
    value = "first-line-" + "x" * 32 + "\nSECOND=line"
    monkeypatch.setenv(name, value)
    status, out, err = run_env(capsys, write_config(hub_dir))
    assert status == 1 and out == ""
    assert name in err and "newline" in err
    assert "first-line" not in err


def test_a_broken_config_exit_1(capsys, hub_dir):
    config = hub_dir / "jupyterhub_config.py"
    config.write_text("raise RuntimeError('broken')\n")
    status, out, err = run_env(capsys, config)
    assert status == 1 and out == "" and "broken" in err


def test_prints_of_the_config_stay_out_of_the_variables(capsys, hub_dir, with_key):
    status, out, err = run_env(capsys, write_config(hub_dir, extra="print('hello from config')"))
    assert status == 0
    assert "hello from config" in err
    parse(out)


def test_evaluation_mode_is_restored(capsys, hub_dir, with_key):
    assert "JAPPS_EVALUATE" not in os.environ
    run_env(capsys, write_config(hub_dir))
    assert "JAPPS_EVALUATE" not in os.environ


def test_output_file_is_private(capsys, hub_dir, with_key, tmp_path):
    config = write_config(hub_dir)
    status, expected, _ = run_env(capsys, config)
    path = tmp_path / "japps.env"
    status, out, err = run_env(capsys, config, "--output", str(path))
    assert status == 0 and out == ""
    assert path.read_text() == expected
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(err.splitlines()) == 1 and str(path) in err and TOKEN not in err


def test_output_file_replaces_an_open_one(capsys, hub_dir, with_key, tmp_path):
    path = tmp_path / "japps.env"
    path.write_text("OLD=" + "x" * 10000 + "\n")
    path.chmod(0o644)
    status, _, _ = run_env(capsys, write_config(hub_dir), "--output", str(path))
    assert status == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "OLD=" not in path.read_text()
    assert parse(path.read_text())["JUPYTERHUB_API_TOKEN"] == TOKEN


def test_output_file_created_private_under_a_loose_umask(capsys, hub_dir, with_key, tmp_path):
    path = tmp_path / "japps.env"
    old = os.umask(0)
    try:
        status, _, _ = run_env(capsys, write_config(hub_dir), "--output", str(path))
    finally:
        os.umask(old)
    assert status == 0 and stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_command_line_dispatches_service_env(capsys, hub_dir, with_key):
    status = __main__.main(["service-env", "-f", str(write_config(hub_dir))])
    out, _ = capsys.readouterr()
    assert status == 0
    assert parse(out)["JUPYTERHUB_SERVICE_URL"] == URL


def test_the_usage_names_service_env(capsys):
    assert __main__.main(["nope"]) == 2
    assert "service-env" in capsys.readouterr().err
