"""Connection: sites, credentials from arguments or the environment, secrets that never show."""

from __future__ import annotations

import pickle

import pytest

from datadog_case_actions import Connection, RetryPolicy, Secret
from datadog_case_actions.runtime.connection import SANDBOX_URL, SITES, site_url
from datadog_case_actions.runtime.errors import ConfigurationError

KEY = "SENTINEL-API-KEY-CONN-1"
APP = "SENTINEL-APP-KEY-CONN-2"
TOKEN = "SENTINEL-TOKEN-CONN-3"


@pytest.mark.parametrize("site", sorted(SITES))
def test_the_eight_reference_sites(site: str) -> None:
    assert Connection(api_key=KEY, app_key=APP, site=site).url == f"https://api.{site}"


@pytest.mark.parametrize(
    ("given", "url"),
    [
        ("uk1.datadoghq.com", "https://api.uk1.datadoghq.com"),
        ("app.datadoghq.eu", "https://api.datadoghq.eu"),
        ("https://us5.datadoghq.com/", "https://api.us5.datadoghq.com"),
        ("API.US3.DATADOGHQ.COM", "https://api.us3.datadoghq.com"),
    ],
)
def test_other_datadog_sites_by_name(given: str, url: str) -> None:
    assert site_url(given) == url


@pytest.mark.parametrize("site", ["example.com", "datadoghq.com.evil.io", "", "us5"])
def test_unknown_site_is_refused_at_construction(site: str) -> None:
    with pytest.raises(ConfigurationError, match="unknown site"):
        Connection(api_key=KEY, app_key=APP, site=site)


def test_base_url_overrides_the_site_and_must_be_http() -> None:
    assert Connection(base_url="http://127.0.0.1:8126/").url == "http://127.0.0.1:8126"
    with pytest.raises(ConfigurationError, match="base_url"):
        Connection(base_url="ftp://x")


def test_from_env_reads_the_documented_variables_and_arguments_win() -> None:
    env = {"DD_API_KEY": KEY, "DD_APPLICATION_KEY": APP, "DD_SITE": "datadoghq.eu"}
    conn = Connection.from_env(env)
    assert conn.url == "https://api.datadoghq.eu"
    assert conn.auth_headers() == {"DD-API-KEY": KEY, "DD-APPLICATION-KEY": APP}
    assert Connection.from_env({**env, "DD_APP_KEY": "other"}).app_key == Secret("other")
    assert Connection.from_env(env, site="ap1.datadoghq.com").url == "https://api.ap1.datadoghq.com"
    # an explicit site beats a DD_BASE_URL left in the environment
    assert Connection.from_env({**env, "DD_BASE_URL": "http://127.0.0.1:1"}, site="us3.datadoghq.com").url == \
        "https://api.us3.datadoghq.com"


def test_oauth_token_uses_a_bearer_header() -> None:
    conn = Connection.from_env({"DD_ACCESS_TOKEN": TOKEN})
    assert conn.auth_headers() == {"Authorization": f"Bearer {TOKEN}"}
    conn.check()


def test_missing_keys_fail_before_any_request_and_never_fall_back_to_the_sandbox() -> None:
    conn = Connection.from_env({})
    assert conn.url == "https://api.datadoghq.com" and not conn.is_sandbox
    with pytest.raises(ConfigurationError, match="DD_API_KEY and DD_APP_KEY"):
        conn.check()
    with pytest.raises(ConfigurationError, match="DD_APP_KEY"):
        Connection(api_key=KEY).check()


def test_sandbox_only_when_named() -> None:
    conn = Connection.from_env({"DD_SITE": "sandbox"})
    assert conn.is_sandbox and conn.url == SANDBOX_URL
    conn.check()  # no keys needed
    assert Connection.sandbox(":memory:").sandbox_path == ":memory:"
    # a base URL means a server, not the in-process sandbox
    assert not Connection(site="sandbox", base_url="http://127.0.0.1:8126").is_sandbox


def test_secrets_never_show_in_repr_str_or_redact_and_survive_pickling() -> None:
    conn = Connection(api_key=KEY, app_key=APP, access_token=TOKEN)
    for text in (repr(conn), str(conn), repr(conn.api_key), str(conn.app_key), str(conn.redact()),
                 repr(conn.with_options(timeout=5))):
        assert KEY not in text and APP not in text and TOKEN not in text
    copy = pickle.loads(pickle.dumps(conn))
    assert copy == conn and copy.api_key.reveal() == KEY
    assert Secret(Secret(KEY)).reveal() == KEY
    assert not Secret("  ")


def test_invalid_options_are_refused_with_their_name() -> None:
    with pytest.raises(ConfigurationError, match="timeout"):
        Connection(timeout=0)
    with pytest.raises(ConfigurationError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ConfigurationError, match="deadline"):
        RetryPolicy(deadline=-1)
    assert RetryPolicy.none().attempts == 1 and RetryPolicy().attempts == 4
