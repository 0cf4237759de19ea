"""The seam through which a named site gets its own httpx transports (the sandbox is one).

The runtime never imports what serves such a site: a backend registers under the
site's name, either in code (``register("sandbox", factory)``) or, for the
installed package, through the ``datadog_case_actions.sites`` entry-point group
(``sandbox = "datadog_case_actions.sandbox.backend:backend"`` in
pyproject.toml).  So the layers point one way: the sandbox uses the runtime,
never the reverse, and another distribution can serve a site of its own.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Callable, Protocol

from .errors import ConfigurationError

if TYPE_CHECKING:
    import httpx

    from .connection import Connection

__all__ = ["GROUP", "SiteBackend", "register", "open_backend"]

GROUP = "datadog_case_actions.sites"


class SiteBackend(Protocol):
    """What a site backend gives a ``Transport``: its transports, and a way to let go of them."""

    def transports(self) -> tuple[httpx.BaseTransport, httpx.AsyncBaseTransport]: ...

    def close(self) -> None: ...


BackendFactory = Callable[["Connection"], SiteBackend]

_LOCK = threading.Lock()
_FACTORIES: dict[str, BackendFactory] = {}


def register(site: str, factory: BackendFactory) -> None:
    """Serve *site* with the backends *factory* makes (one per ``Transport``); replaces any earlier one."""
    with _LOCK:
        _FACTORIES[site] = factory


def _from_entry_points(site: str) -> BackendFactory | None:
    from importlib.metadata import entry_points  # only on the first use of such a site

    for entry_point in entry_points(group=GROUP, name=site):
        factory: BackendFactory = entry_point.load()
        return factory
    return None


def open_backend(site: str, connection: Connection) -> SiteBackend:
    """A new backend for *connection*'s named *site*; ``ConfigurationError`` when nothing serves it."""
    with _LOCK:
        factory = _FACTORIES.get(site)
    if factory is None:
        factory = _from_entry_points(site)
        if factory is None:
            raise ConfigurationError(
                f"nothing serves the site {site!r}: no backend is registered under that name "
                f"(entry-point group {GROUP!r}); is the package installed?")
        register(site, factory)
    return factory(connection)
