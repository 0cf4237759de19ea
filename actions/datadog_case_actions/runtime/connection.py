"""Where requests go and with which credentials: ``Connection``, ``Secret``, ``RetryPolicy``.

A connection is plain data (picklable, so an Airflow or Prefect worker can
receive one), holds its keys as ``Secret`` values that never show in a repr,
a log line or an exception, and resolves the site to a base URL.

The embedded sandbox is a site like any other, but only when asked for by name
(``site="sandbox"`` or ``DD_SITE=sandbox``): missing keys never fall back to it,
so a production pipeline without credentials fails loudly.
"""

from __future__ import annotations

import math
import os
import re
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


class _Frozen:
    """Immutable, comparable, picklable value objects without ``dataclasses``.

    Why not dataclasses: importing it (and ``inspect``) and generating the
    methods cost a fresh process ~8 ms, a tenth of a cold one-action run.
    """

    __slots__ = ()
    _fields: tuple[str, ...] = ()

    def _set(self, **values: Any) -> None:
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def _values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._fields}

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; make a changed copy with with_options(...)")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Frozen) and type(other) is type(self) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash((type(self).__name__, *self._values().values()))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self._values()))

    def with_options(self, **changes: Any) -> Any:
        """A copy with some fields changed (``conn.with_options(timeout=5)``)."""
        unknown = set(changes) - set(self._fields)
        if unknown:
            raise ConfigurationError(f"unknown option(s) {', '.join(sorted(unknown))}")
        return type(self)(**{**self._values(), **changes})


def _rebuild(cls: type, values: dict[str, Any]) -> Any:
    return cls(**values)


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


class RetryPolicy(_Frozen):
    """When and how long to retry.

    ``max_attempts`` counts the first try.  Waits grow as ``backoff_base * 2**n``
    (with jitter, capped at ``backoff_max``); a 429 waits what the rate-limit
    headers ask for, unless that exceeds ``max_rate_limit_wait``, and so does a
    call that finds the shared rate-limit budget spent.  A 429 that comes with
    the budget headers is not counted in ``max_attempts`` while a ``deadline``
    bounds the call.  ``deadline`` bounds the whole call, every attempt and wait
    included.  Requests that are not idempotent are retried only when they
    surely never reached the server.
    """

    __slots__ = ("max_attempts", "backoff_base", "backoff_max", "max_rate_limit_wait", "deadline", "retry")
    _fields = __slots__
    max_attempts: int
    backoff_base: float
    backoff_max: float
    max_rate_limit_wait: float
    deadline: float | None
    retry: bool

    def __init__(self, max_attempts: int = 4, backoff_base: float = 0.5, backoff_max: float = 30.0,
                 max_rate_limit_wait: float = 60.0, deadline: float | None = 120.0, retry: bool = True) -> None:
        if max_attempts < 1:
            raise ConfigurationError("retry.max_attempts must be at least 1")
        if backoff_base < 0 or backoff_max < 0 or max_rate_limit_wait < 0:
            raise ConfigurationError("retry waits must not be negative")
        if deadline is not None and deadline <= 0:
            raise ConfigurationError("retry.deadline must be positive (or None for no deadline)")
        self._set(max_attempts=max_attempts, backoff_base=backoff_base, backoff_max=backoff_max,
                  max_rate_limit_wait=max_rate_limit_wait, deadline=deadline, retry=retry)

    def __repr__(self) -> str:
        return "RetryPolicy(" + ", ".join(f"{k}={v!r}" for k, v in self._values().items()) + ")"

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


#: The environment variable each credential is read from: the name errors use for it.
_KEY_NAMES = {"api_key": "DD_API_KEY", "app_key": "DD_APP_KEY", "access_token": "DD_ACCESS_TOKEN"}
_NAMED_CHARACTERS = {"\r": "a carriage return", "\n": "a line feed", " ": "a space", "\t": "a tab"}
#: The default cap on a response body, decoded (decompressed) size.
MAX_RESPONSE_BYTES = 32 * 2**20


def _flaw(text: str) -> str | None:
    """What makes *text* unusable in an HTTP header (never the text itself), or None."""
    for char in text:
        if char in _NAMED_CHARACTERS:
            return _NAMED_CHARACTERS[char]
        if not " " < char < "\x7f":
            return "a non-ASCII character" if char > "\x7f" else "a control character"
    return None


def _check_credentials(secrets: Mapping[str, Secret | None]) -> None:
    """Refuse keys that cannot go into a header, naming the field and never echoing the value.

    A CR or LF (a CRLF ``.env`` file, a secret mounted with its trailing newline), a space,
    a control or non-ASCII character would otherwise fail inside the HTTP library, whose
    error text quotes the value.  This frame holds ``Secret`` objects only: a traceback's
    locals show no key.
    """
    for field, secret in secrets.items():
        flaw = None if secret is None else _flaw(secret.reveal())
        if flaw is not None:
            raise ConfigurationError(
                f"{_KEY_NAMES[field]} ({field}) contains {flaw}: remove it and set the key again "
                f"(a CRLF .env file or a secret file with a trailing newline does this)"
            )


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """The connection options found in *env*, keys already wrapped as ``Secret``."""

    def get(*names: str) -> str | None:
        for name in names:
            value = env.get(name)
            if value not in (None, ""):
                return value
        return None

    return {
        "api_key": _secret(get("DD_API_KEY")),
        "app_key": _secret(get("DD_APP_KEY", "DD_APPLICATION_KEY")),
        "access_token": _secret(get("DD_ACCESS_TOKEN")),
        "site": get("DD_SITE") or "datadoghq.com",
        "base_url": get("DD_BASE_URL"),
        "sandbox_path": get("DD_SANDBOX_PATH"),
    }


class Connection(_Frozen):
    """Credentials and site for the Case Management API.

    Either ``api_key`` + ``app_key`` (headers ``DD-API-KEY`` and
    ``DD-APPLICATION-KEY``) or an OAuth ``access_token`` (``Authorization:
    Bearer``).  ``site`` is one of ``SITES``, another Datadog site by name, or
    ``"sandbox"``; ``base_url`` overrides it (a proxy, the sandbox server).
    ``sandbox_path`` is the sandbox's SQLite file (``site="sandbox"`` only;
    None = the per-user default).  Keys may be given as ``str`` or ``Secret``;
    keys with a line break, a space, a control or non-ASCII character are refused
    here.  ``max_response_bytes`` caps a response body's decoded size (32 MiB).
    """

    __slots__ = ("api_key", "app_key", "access_token", "site", "base_url", "timeout", "retry", "user_agent",
                 "sandbox_path", "max_response_bytes")
    _fields = __slots__
    api_key: Secret | None
    app_key: Secret | None
    access_token: Secret | None
    site: str
    base_url: str | None
    timeout: float
    retry: RetryPolicy
    user_agent: str | None
    sandbox_path: str | None
    max_response_bytes: int

    def __init__(self, api_key: str | Secret | None = None, app_key: str | Secret | None = None,
                 access_token: str | Secret | None = None, site: str = "datadoghq.com", base_url: str | None = None,
                 timeout: float = 30.0, retry: RetryPolicy | None = None, user_agent: str | None = None,
                 sandbox_path: str | None = None, max_response_bytes: int = MAX_RESPONSE_BYTES) -> None:
        # Wrapped first, so that no frame of an error raised below holds a key as a plain str.
        api_key, app_key, access_token = _secret(api_key), _secret(app_key), _secret(access_token)
        _check_credentials({"api_key": api_key, "app_key": app_key, "access_token": access_token})
        retry = RetryPolicy() if retry is None else retry
        if not isinstance(retry, RetryPolicy):
            raise ConfigurationError("retry must be a RetryPolicy")
        if isinstance(timeout, bool) or not (isinstance(timeout, (int, float)) and math.isfinite(timeout)
                                             and timeout > 0):
            raise ConfigurationError("timeout must be a positive number of seconds")
        if isinstance(max_response_bytes, bool) or not (isinstance(max_response_bytes, int) and max_response_bytes > 0):
            raise ConfigurationError("max_response_bytes must be a positive number of bytes")
        flaw = None if user_agent is None else _flaw(user_agent.replace(" ", "_"))  # spaces are fine there
        if flaw is not None:
            raise ConfigurationError(f"user_agent contains {flaw}")
        self._set(api_key=api_key, app_key=app_key, access_token=access_token,
                  site=site, base_url=base_url, timeout=timeout, retry=retry, user_agent=user_agent,
                  sandbox_path=sandbox_path, max_response_bytes=max_response_bytes)
        if base_url is not None:
            if not re.match(r"^https?://[^/\s]+", base_url):
                raise ConfigurationError(f"base_url must be an http(s) URL, got {base_url!r}")
        elif not self.is_sandbox:
            site_url(site)  # unknown sites fail now, not at the first call

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> "Connection":
        """A connection from ``DD_API_KEY``, ``DD_APP_KEY`` (or ``DD_APPLICATION_KEY``),
        ``DD_ACCESS_TOKEN``, ``DD_SITE``, ``DD_BASE_URL`` and ``DD_SANDBOX_PATH``;
        keyword arguments win over the environment."""
        values = _from_env(os.environ if env is None else env)
        values.update({k: _secret(v) if k in _KEY_NAMES else v for k, v in overrides.items() if v is not None})
        if "site" in overrides and "base_url" not in overrides:
            values["base_url"] = None  # an explicit site beats DD_BASE_URL from the environment
        # This frame is in the traceback of a refused key: no plain key among its locals.
        del env, overrides
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

    def scrub(self, text: str) -> str:
        """*text* with every credential of this connection replaced by ``****``.

        The one helper for any text from elsewhere (a library's exception, a
        server's answer) that reaches an error message or a log line.  Values
        shorter than four characters are not real keys and are left alone (they
        would blank out ordinary words).
        """
        for secret in (self.api_key, self.app_key, self.access_token):
            if secret and len(secret.reveal()) >= 4 and secret.reveal() in text:
                text = text.replace(secret.reveal(), "****")
        return text

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
