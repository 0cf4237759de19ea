"""Where requests go and with which credentials: ``Connection``, ``Secret``, ``RetryPolicy``.

A connection is plain data (picklable, so an Airflow or Prefect worker can
receive one), holds its keys as ``Secret`` values that never show in a repr,
a log line or an exception, and resolves the site to a base URL.

The embedded sandbox is a site like any other, but only when asked for by name
(``site="sandbox"`` or ``DD_SITE=sandbox``): missing keys never fall back to it,
so a production pipeline without credentials fails loudly.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from .errors import ConfigurationError

__all__ = ["Connection", "RetryPolicy", "Secret", "SITES", "SANDBOX_SITE", "SANDBOX_URL", "site_url"]

#: The eight sites the API reference lists, and their API hosts.
SITES: dict[str, str] = {
    "datadoghq.com": "https://api.datadoghq.com",
    "us3.datadoghq.com": "https://api.us3.datadoghq.com",
    "us5.datadoghq.com": "https://api.us5.datadoghq.com",
    "datadoghq.eu": "https://api.datadoghq.eu",
    "ap1.datadoghq.com": "https://api.ap1.datadoghq.com",
    "ap2.datadoghq.com": "https://api.ap2.datadoghq.com",
    "ddog-gov.com": "https://api.ddog-gov.com",
    "us2.ddog-gov.com": "https://api.us2.ddog-gov.com",
}
SANDBOX_SITE = "sandbox"
#: The base URL of the in-process sandbox; no socket is ever opened for it.
SANDBOX_URL = "http://sandbox.local"

# Other Datadog sites (uk1.datadoghq.com, a new region...) are accepted by name:
# a subdomain of one of Datadog's own domains, nothing else.
_OTHER_SITE = re.compile(r"^(?:[a-z0-9-]+\.)?(?:datadoghq\.com|datadoghq\.eu|ddog-gov\.com)$")


def site_url(site: str) -> str:
    """The API base URL of *site* (``"datadoghq.eu"``, ``"app.datadoghq.eu"``, ``"https://us5.datadoghq.com"``)."""
    name = site.strip().lower()
    name = re.sub(r"^https?://", "", name).rstrip("/")
    name = re.sub(r"^(?:app|api)\.", "", name)
    if name in SITES:
        return SITES[name]
    if _OTHER_SITE.match(name):
        return f"https://api.{name}"
    known = ", ".join(sorted(SITES))
    raise ConfigurationError(
        f"unknown site {site!r}: use one of {known}, another Datadog site by name (uk1.datadoghq.com), "
        f"'{SANDBOX_SITE}' for the embedded sandbox, or an explicit base_url"
    )


class Secret:
    """A credential: ``str()`` and ``repr()`` never show it; ``reveal()`` does, on purpose."""

    __slots__ = ("_value",)

    def __init__(self, value: "str | Secret") -> None:
        self._value = value.reveal() if isinstance(value, Secret) else str(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('****')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value.strip())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Secret, (self._value,))


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to retry.

    ``max_attempts`` counts the first try.  Waits grow as ``backoff_base * 2**n``
    (with jitter, capped at ``backoff_max``); a 429 waits what the rate-limit
    headers ask for, unless that exceeds ``max_rate_limit_wait``.  ``deadline``
    bounds the whole call, every attempt and wait included.  Requests that are
    not idempotent are retried only when they surely never reached the server.
    """

    max_attempts: int = 4
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    max_rate_limit_wait: float = 60.0
    deadline: float | None = 120.0
    retry: bool = True

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigurationError("retry.max_attempts must be at least 1")
        if self.backoff_base < 0 or self.backoff_max < 0 or self.max_rate_limit_wait < 0:
            raise ConfigurationError("retry waits must not be negative")
        if self.deadline is not None and self.deadline <= 0:
            raise ConfigurationError("retry.deadline must be positive (or None for no deadline)")

    @classmethod
    def none(cls) -> "RetryPolicy":
        """One attempt, no retries (for tests and for callers that retry themselves)."""
        return cls(max_attempts=1, retry=False)

    @property
    def attempts(self) -> int:
        return self.max_attempts if self.retry else 1


def _secret(value: "str | Secret | None") -> Secret | None:
    if value is None:
        return None
    return value if isinstance(value, Secret) else Secret(value)


@dataclass(frozen=True)
class Connection:
    """Credentials and site for the Case Management API.

    Either ``api_key`` + ``app_key`` (headers ``DD-API-KEY`` and
    ``DD-APPLICATION-KEY``) or an OAuth ``access_token`` (``Authorization:
    Bearer``).  ``site`` is one of ``SITES``, another Datadog site by name, or
    ``"sandbox"``; ``base_url`` overrides it (a proxy, the sandbox server).
    """

    api_key: Secret | None = None
    app_key: Secret | None = None
    access_token: Secret | None = None
    site: str = "datadoghq.com"
    base_url: str | None = None
    timeout: float = 30.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    user_agent: str | None = None
    #: SQLite file of the sandbox (``site="sandbox"`` only); None = the per-user default
    sandbox_path: str | None = None

    def __post_init__(self) -> None:
        # Accept plain strings for the keys, store Secrets.
        object.__setattr__(self, "api_key", _secret(self.api_key))
        object.__setattr__(self, "app_key", _secret(self.app_key))
        object.__setattr__(self, "access_token", _secret(self.access_token))
        if not isinstance(self.retry, RetryPolicy):
            raise ConfigurationError("retry must be a RetryPolicy")
        if not (isinstance(self.timeout, (int, float)) and self.timeout > 0):
            raise ConfigurationError("timeout must be a positive number of seconds")
        if self.base_url is not None:
            if not re.match(r"^https?://[^/\s]+", self.base_url):
                raise ConfigurationError(f"base_url must be an http(s) URL, got {self.base_url!r}")
        elif not self.is_sandbox:
            site_url(self.site)  # unknown sites fail now, not at the first call

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> "Connection":
        """A connection from ``DD_API_KEY``, ``DD_APP_KEY`` (or ``DD_APPLICATION_KEY``),
        ``DD_ACCESS_TOKEN``, ``DD_SITE``, ``DD_BASE_URL`` and ``DD_SANDBOX_PATH``;
        keyword arguments win over the environment."""
        env = os.environ if env is None else env

        def get(*names: str) -> str | None:
            for name in names:
                value = env.get(name)
                if value not in (None, ""):
                    return value
            return None

        values: dict[str, Any] = {
            "api_key": get("DD_API_KEY"),
            "app_key": get("DD_APP_KEY", "DD_APPLICATION_KEY"),
            "access_token": get("DD_ACCESS_TOKEN"),
            "site": get("DD_SITE") or "datadoghq.com",
            "base_url": get("DD_BASE_URL"),
            "sandbox_path": get("DD_SANDBOX_PATH"),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        if "site" in overrides and "base_url" not in overrides:
            values["base_url"] = None  # an explicit site beats DD_BASE_URL from the environment
        return cls(**values)

    @classmethod
    def sandbox(cls, path: str | os.PathLike[str] | None = None, **options: Any) -> "Connection":
        """A connection to the embedded sandbox (``":memory:"`` for a throwaway one)."""
        return cls(site=SANDBOX_SITE, sandbox_path=None if path is None else str(path), **options)

    @property
    def is_sandbox(self) -> bool:
        return self.base_url is None and self.site.strip().lower() == SANDBOX_SITE

    @property
    def url(self) -> str:
        """The API base URL requests go to (no trailing slash)."""
        if self.base_url:
            return self.base_url.rstrip("/")
        if self.is_sandbox:
            return SANDBOX_URL
        return site_url(self.site)

    def auth_headers(self) -> dict[str, str]:
        """The credential headers; the one place keys are revealed."""
        if self.access_token:
            return {"Authorization": f"Bearer {self.access_token.reveal()}"}
        headers: dict[str, str] = {}
        if self.api_key:
            headers["DD-API-KEY"] = self.api_key.reveal()
        if self.app_key:
            headers["DD-APPLICATION-KEY"] = self.app_key.reveal()
        if not headers and self.is_sandbox:
            # The sandbox checks that keys are present, not what they are.
            headers = {"DD-API-KEY": "sandbox", "DD-APPLICATION-KEY": "sandbox"}
        return headers

    def check(self) -> None:
        """Fail before any request when credentials are missing (never fall back to the sandbox)."""
        if self.access_token or self.is_sandbox:
            return
        missing = [name for name, value in (("DD_API_KEY", self.api_key), ("DD_APP_KEY", self.app_key)) if not value]
        if missing:
            raise ConfigurationError(
                f"missing credentials: set {' and '.join(missing)} (or DD_ACCESS_TOKEN for OAuth), "
                f"or pass them to Connection(...); to try things out without an account use --site sandbox"
            )

    def with_options(self, **changes: Any) -> "Connection":
        """A copy with some fields changed (``conn.with_options(timeout=5)``)."""
        return replace(self, **changes)

    def redact(self) -> dict[str, Any]:
        """A JSON-safe description without secrets (for logs and ``--dry-run``)."""
        return {
            "url": self.url,
            "site": self.site,
            "auth": "oauth" if self.access_token else ("keys" if self.api_key or self.app_key else "none"),
            "api_key": "****" if self.api_key else None,
            "app_key": "****" if self.app_key else None,
            "timeout": self.timeout,
        }

    def __repr__(self) -> str:
        auth = "oauth" if self.access_token else ("keys" if self.api_key or self.app_key else "no credentials")
        return f"Connection(url={self.url!r}, auth={auth})"
