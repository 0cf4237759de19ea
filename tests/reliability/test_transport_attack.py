"""One suite, run on both paths (``run`` and ``arun``), against hostile servers on loopback.

Every test here is parametrised over ``path`` (sync, async): the async path is
held to exactly the sync path's rules — requests on the wire (counted by the
server), the deadline, what a body may cost, what an answer must be, and that
no credential reaches a message, a log line or a traceback frame.
"""

from __future__ import annotations

import asyncio
import gc
import gzip
import json
import logging
import os
import socket
import threading
import time
import tracemalloc
import warnings
import zlib
from typing import Any, Callable

import pytest
from datadog_case_actions import Connection, RetryPolicy, Runner
from datadog_case_actions.runtime.errors import (
    ActionError,
    ConfigurationError,
    RateLimitedError,
    ServerError,
    TimeoutError,
    TransportError,
    UnexpectedResponseError,
)

from .hostile import HostileServer, drip, raw, reset, respond, stall

API = "SENTINEL-API-9c41e7b2d0"
APP = "SENTINEL-APP-03fa66c1b8"
CREATE = {"title": "Disk full", "type_id": "00000000-0000-0000-0000-000000000001",
          "project_id": "00000000-0000-0000-0000-000000000002"}
GET = ("get_case", {"case_id": "OPS-1"})
POST = ("create_case", CREATE)


class Busy(float):
    """A pause during which an event loop does not run (a worker busy with something else)."""


class Path:
    """Runs calls on one runner, synchronously or all inside one event loop."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name

    def run(self, runner: Runner, *steps: Any) -> list[Any]:
        """Each step is ``(action, inputs)`` or a pause in seconds; the results, or the first error raised."""
        if self.name == "sync":
            out = []
            for step in steps:
                if isinstance(step, (int, float)):
                    time.sleep(step)
                else:
                    out.append(runner.run(*step))
            return out

        async def go() -> list[Any]:
            out = []
            for step in steps:
                if isinstance(step, Busy):
                    time.sleep(step)  # the loop is blocked: it cannot see the server close anything
                elif isinstance(step, (int, float)):
                    await asyncio.sleep(step)  # the loop idles, as a worker between jobs
                else:
                    out.append(await runner.arun(*step))
            return out

        return asyncio.run(asyncio.wait_for(go(), 30))  # a hang fails the test instead of the suite

    def one(self, runner: Runner, step: Any) -> Any:
        return self.run(runner, step)[0]


@pytest.fixture(params=["sync", "async"])
def path(request: pytest.FixtureRequest) -> Path:
    return Path(request.param)


def runner_for(url: str, retry: RetryPolicy | None = None, **options: Any) -> Runner:
    options.setdefault("timeout", 5.0)
    return Runner(Connection(api_key=API, app_key=APP, base_url=url,
                             retry=retry or RetryPolicy(backoff_base=0.01, backoff_max=0.05), **options))


# -- 6. requests on the wire never exceed the policy ------------------------------------------------------


@pytest.mark.parametrize("step", [GET, POST], ids=["read", "create"])
def test_a_reset_with_no_retries_is_exactly_one_request(path: Path, step: Any) -> None:
    with HostileServer(default=reset) as server, runner_for(server.url, RetryPolicy.none()) as r:
        with pytest.raises(TransportError):
            path.one(r, step)
    assert server.count() == 1


def test_resets_never_exceed_max_attempts(path: Path) -> None:
    retry = RetryPolicy(max_attempts=4, backoff_base=0.01, backoff_max=0.02)
    with HostileServer(default=reset) as server, runner_for(server.url, retry) as r:
        with pytest.raises(TransportError, match="after 4 attempts"):
            path.one(r, GET)
        assert server.count() == 4
        with pytest.raises(TransportError, match="may have been applied"):
            path.one(r, POST)  # a create reset after it was sent is never re-sent
        assert server.count("POST") == 1


@pytest.mark.parametrize("pause", [0.3, Busy(0.3)], ids=["idle-loop", "busy-loop"])
def test_a_create_after_the_server_closed_an_idle_connection_goes_out_once(path: Path, pause: float) -> None:
    """The server drops keep-alive connections idle for 0.05 s; the next create must reconnect, not fail."""
    with HostileServer(default=respond(close_idle_after=0.05)) as server, runner_for(server.url) as r:
        created = path.run(r, GET, pause, POST)[1]
    assert created["data"]["id"] == "ok"
    assert server.count("POST") == 1 and server.connections == 2


# -- 9. non-finite rate-limit waits ------------------------------------------------------------------------


@pytest.mark.parametrize("header", [{"Retry-After": "nan"}, {"X-RateLimit-Reset": "NaN"}, {"Retry-After": "inf"},
                                    {"X-RateLimit-Reset": "-Infinity", "Retry-After": "nan"}],
                         ids=["retry-after-nan", "reset-nan", "retry-after-inf", "both"])
def test_non_finite_rate_limit_waits_count_as_missing(path: Path, header: dict[str, str]) -> None:
    limited = respond(429, {"errors": ["slow down"]}, header)
    retry = RetryPolicy(max_attempts=3, backoff_base=0.01, backoff_max=0.02, deadline=5)
    with HostileServer([limited], default=respond()) as server, runner_for(server.url, retry) as r:
        started = time.monotonic()
        assert path.one(r, GET)["data"]["id"] == "ok"
    assert server.count() == 2 and time.monotonic() - started < 2  # the backoff, not a NaN wait


def test_a_rate_limit_that_never_ends_is_raised_not_waited_forever(path: Path) -> None:
    limited = respond(429, {"errors": ["slow down"]}, {"Retry-After": "nan"})
    retry = RetryPolicy(max_attempts=2, backoff_base=0.01, backoff_max=0.02, deadline=5)
    with HostileServer(default=limited) as server, runner_for(server.url, retry) as r:
        with pytest.raises(RateLimitedError) as info:
            path.one(r, GET)
    assert info.value.retry_after is None and server.count() == 2


# -- 10 and 17. what an answer must be -------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 404, 500])
def test_a_100000_deep_body_is_an_unexpected_response(path: Path, status: int) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    with HostileServer(default=respond(status, deep)) as server, runner_for(server.url, RetryPolicy.none()) as r:
        with pytest.raises(UnexpectedResponseError, match="nested deeper") as info:
            path.one(r, GET)
    assert info.value.status == status


def test_nesting_is_bounded_below_the_recursion_limit(path: Path) -> None:
    """200 levels parse in Python, but no consumer (CLI, MCP, chat) should meet them."""
    deep = json.dumps({"data": json.loads("[" * 200 + "]" * 200)}).encode()
    shallow = json.dumps({"data": {"id": "ok", "attributes": {"a": [[[{"b": [1]}]]]}}}).encode()
    with HostileServer([respond(200, deep)], default=respond(200, shallow)) as server, \
            runner_for(server.url, RetryPolicy.none()) as r:
        with pytest.raises(UnexpectedResponseError, match="nested deeper"):
            path.one(r, GET)
        assert path.one(r, GET)["data"]["attributes"]["a"] == [[[{"b": [1]}]]]


@pytest.mark.parametrize("body", [b'{"data": NaN}', b'{"data": {"n": Infinity}}', b'{"data": [-Infinity]}'])
def test_non_json_numbers_are_refused(path: Path, body: bytes) -> None:
    with HostileServer(default=respond(200, body)) as server, runner_for(server.url, RetryPolicy.none()) as r:
        with pytest.raises(UnexpectedResponseError, match="not JSON"):
            path.one(r, GET)


@pytest.mark.parametrize(("body", "kind"), [(b'"ok"', "a JSON string"), (b"[1, 2]", "a JSON array"),
                                            (b"42", "a JSON number"), (b"null", "JSON null")])
def test_a_success_that_is_not_an_object_is_described_exactly(path: Path, body: bytes, kind: str) -> None:
    with HostileServer(default=respond(200, body)) as server, runner_for(server.url, RetryPolicy.none()) as r:
        with pytest.raises(UnexpectedResponseError) as info:
            path.one(r, GET)
    assert f"{kind}, not an object" in str(info.value) and "not JSON" not in str(info.value)


def test_extra_fields_are_read_tolerantly(path: Path) -> None:
    body = {"data": {"id": "ok", "type": "case", "brand_new": {"x": 1}}, "meta": {"unknown": True}, "links": None}
    with HostileServer(default=respond(200, body)) as server, runner_for(server.url) as r:
        assert path.one(r, GET) == body


# -- 12. the deadline bounds the whole call, body included ---------------------------------------------------


def test_a_dripped_body_ends_at_the_deadline(path: Path) -> None:
    retry = RetryPolicy(max_attempts=1, deadline=2)
    with HostileServer(default=drip(100, 0.25)) as server, runner_for(server.url, retry, timeout=30) as r:
        started = time.monotonic()
        with pytest.raises(TimeoutError, match="deadline"):
            path.one(r, GET)
        elapsed = time.monotonic() - started
    assert 1.9 <= elapsed <= 2.6, elapsed


def test_a_stalled_answer_ends_at_the_deadline_not_the_read_timeout(path: Path) -> None:
    retry = RetryPolicy(max_attempts=3, deadline=0.5)
    with HostileServer(default=stall) as server, runner_for(server.url, retry, timeout=30) as r:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            path.one(r, POST)
        elapsed = time.monotonic() - started
    assert elapsed <= 1.0 and server.count() == 1


# -- 13. the decoded body is capped ---------------------------------------------------------------------------


def _bomb(decoded_mb: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(2**20)
    return b"".join(packer.compress(zeros) for _ in range(decoded_mb)) + packer.flush()


BOMB = _bomb(64)


def test_a_gzip_bomb_fails_cleanly_without_the_memory(path: Path) -> None:
    head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
            b"Content-Length: %d\r\n\r\n" % len(BOMB))
    with HostileServer(default=raw(head + BOMB)) as server, \
            runner_for(server.url, RetryPolicy.none(), max_response_bytes=4 * 2**20) as r:
        tracemalloc.start()
        try:
            with pytest.raises(UnexpectedResponseError, match="larger than max_response_bytes"):
                path.one(r, GET)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert len(BOMB) < 200_000 and peak < 16 * 2**20, f"peak {peak / 2**20:.1f} MiB"


def test_compressed_bodies_under_the_cap_are_read(path: Path) -> None:
    body = json.dumps({"data": {"id": "ok", "attributes": {"text": "x" * 100_000}}}).encode()
    for encoding, packed in (("gzip", gzip.compress(body)), ("deflate", zlib.compress(body))):
        head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: %s\r\n"
                b"Content-Length: %d\r\n\r\n" % (encoding.encode(), len(packed)))
        with HostileServer(default=raw(head + packed)) as server, runner_for(server.url) as r:
            assert len(path.one(r, GET)["data"]["attributes"]["text"]) == 100_000
        assert server.requests[0].headers["accept-encoding"] == "gzip, deflate"


def test_the_cap_has_a_default_and_is_configurable() -> None:
    assert Connection().max_response_bytes == 32 * 2**20
    assert Connection(max_response_bytes=10).max_response_bytes == 10
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ConfigurationError, match="max_response_bytes"):
            Connection(max_response_bytes=bad)


def test_a_plain_body_over_the_cap_fails_cleanly(path: Path) -> None:
    body = json.dumps({"data": "x" * 3000}).encode()
    with HostileServer(default=respond(200, body)) as server, \
            runner_for(server.url, RetryPolicy.none(), max_response_bytes=2000) as r:
        with pytest.raises(UnexpectedResponseError, match="larger than max_response_bytes"):
            path.one(r, GET)


def test_chunked_answers_are_read_and_a_negative_chunk_size_refused(path: Path) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    rest = b'a": {"id": "chunked"}}'
    good = head + b'5\r\n{"dat\r\n%x;ext=1\r\n%s\r\n0\r\nX-Trailer: 1\r\n\r\n' % (len(rest), rest)
    bad = head + b"-5\r\nhello\r\n0\r\n\r\n"
    with HostileServer([raw(good, keep=True)], default=raw(bad)) as server, \
            runner_for(server.url, RetryPolicy.none()) as r:
        assert path.one(r, GET)["data"]["id"] == "chunked"
        with pytest.raises(TransportError):
            path.one(r, GET)


# -- 1. credentials: refused when unusable, scrubbed from everything shown ---------------------------------------


@pytest.mark.parametrize(("value", "flaw"), [("secret\r", "a carriage return"), ("secret\n", "a line feed"),
                                             ("sec ret", "a space"), ("sécret", "a non-ASCII character"),
                                             ("sec\x00ret", "a control character"), ("sec\tret", "a tab")])
@pytest.mark.parametrize(("field", "name"), [("api_key", "DD_API_KEY"), ("app_key", "DD_APP_KEY"),
                                             ("access_token", "DD_ACCESS_TOKEN")])
def test_unusable_keys_are_refused_when_the_connection_is_made(value: str, flaw: str, field: str, name: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        Connection(**{field: value})
    assert str(info.value).startswith(f"{name} ({field}) contains {flaw}")
    assert "secret" not in str(info.value).replace("a secret file", "") and "sec" not in str(info.value).split(":")[0]


def test_a_crlf_key_from_the_environment_exits_2_without_echoing_it() -> None:
    import io

    from datadog_case_actions.cli import main

    err = io.StringIO()
    env = {"DD_API_KEY": API + "\r", "DD_APP_KEY": APP}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        code = main(["run", "get_projects", "--base-url", "http://127.0.0.1:9"], stdout=io.StringIO(), stderr=err)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    assert code == 2 and "DD_API_KEY (api_key) contains a carriage return" in err.getvalue()
    assert API not in err.getvalue() and "retry" not in err.getvalue()


def test_a_server_echoing_the_keys_has_them_scrubbed(path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # The package's own log lines; httpcore's DEBUG trace prints response headers as received.
    caplog.set_level(logging.DEBUG, logger="datadog_case_actions")
    echo = respond(500, {"errors": [f"bad key {API}", {"detail": f"app {APP}"}], API: APP}, {"X-Echo": API})
    with HostileServer(default=echo) as server, runner_for(server.url, RetryPolicy(max_attempts=2,
                                                                                  backoff_base=0.01)) as r:
        with pytest.raises(ServerError) as info:
            path.one(r, GET)
    error = info.value
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name == "datadog_case_actions")
    shown = json.dumps([str(error), error.to_dict(), error.headers, error.body, error.messages, ours])
    assert API not in shown and APP not in shown and "bad key ****" in shown, shown


# -- 2. no frame of a raised traceback holds a key ---------------------------------------------------------------


def _leaks(value: Any, depth: int = 0) -> bool:
    """Whether *value* shows a sentinel as a crash reporter or ``pytest --showlocals`` would: its repr,
    and the items of the containers it holds."""
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("latin-1")
    if isinstance(value, str):
        return API in value or APP in value
    if depth < 4 and isinstance(value, dict):
        if any(_leaks(k, depth + 1) or _leaks(v, depth + 1) for k, v in list(value.items())):
            return True
    elif depth < 4 and isinstance(value, (list, tuple, set, frozenset)):
        if any(_leaks(v, depth + 1) for v in list(value)):
            return True
    try:
        text = repr(value)
    except Exception:
        return False
    return API in text or APP in text


def frames_holding_a_key(error: BaseException) -> list[str]:
    """Every frame, in the traceback of *error* and of its causes and contexts, with a key among its locals."""
    found, seen, todo = [], set(), [error]
    while todo:
        exc = todo.pop()
        if exc is None or id(exc) in seen:
            continue
        seen.add(id(exc))
        tb = exc.__traceback__
        while tb is not None:
            frame = tb.tb_frame
            mine = frame.f_code.co_filename == __file__  # the test's own locals are the caller's business
            bad = [] if mine else [name for name, value in frame.f_locals.items() if _leaks(value)]
            if bad:
                found.append(f"{frame.f_code.co_filename}:{frame.f_code.co_name} {bad}")
            tb = tb.tb_next
        todo += [exc.__cause__, exc.__context__]
    return found


def _refused_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


FAILURES: dict[str, Callable[[], Any]] = {
    "refused": lambda: None,
    "reset": lambda: reset,
    "stall": lambda: stall,
    "garbage": lambda: raw(b"NOT HTTP AT ALL\r\n\r\n"),
    "cut-body": lambda: raw(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"),
    "500": lambda: respond(500, {"errors": ["boom"]}),
    "html-200": lambda: raw(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 6\r\n\r\n<html>"),
}


@pytest.mark.parametrize("failure", list(FAILURES))
def test_no_frame_of_a_raised_error_holds_a_key(path: Path, failure: str) -> None:
    step = FAILURES[failure]()
    retry = RetryPolicy(max_attempts=2, backoff_base=0.01, backoff_max=0.02)
    with HostileServer(default=step or respond()) as server:
        url = server.url if step is not None else _refused_url()
        with runner_for(url, retry, timeout=0.3) as r, pytest.raises(ActionError) as info:
            path.one(r, GET if failure != "stall" else POST)
    leaks = frames_holding_a_key(info.value)
    assert leaks == [], leaks


@pytest.mark.parametrize("field", ["api_key", "app_key"])
def test_no_frame_of_a_refused_key_holds_it(field: str) -> None:
    env = {"DD_API_KEY": API, "DD_APP_KEY": APP}
    env["DD_API_KEY" if field == "api_key" else "DD_APP_KEY"] += "\r\n"
    with pytest.raises(ConfigurationError) as info:
        Connection.from_env(env)
    assert frames_holding_a_key(info.value) == []
    with pytest.raises(ConfigurationError) as info:
        Connection(**{field: API + "\n"})
    assert frames_holding_a_key(info.value) == []
    with pytest.raises(ConfigurationError) as info:
        Connection.from_env({}, **{field: API + "\t"})
    assert frames_holding_a_key(info.value) == []


# -- 5. a forked child leaves the parent's async pool alone ------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX only")
def test_a_forked_child_leaves_the_parents_async_pool_alone(path: Path) -> None:
    """The parent keeps one event loop and a keep-alive connection; a forked child uses the same runner
    (on the sync or the async path), closes it and collects garbage.  The parent's next create must
    then go out once and be answered, not hang on a connection the child unregistered."""
    with HostileServer(default=respond()) as server:
        r = runner_for(server.url, RetryPolicy.none(), timeout=3)
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(r.arun(*GET))  # the parent's pool now holds an idle connection
            pid = os.fork()
            if pid == 0:  # the child: never return into pytest
                code = 1
                # As in production: a ResourceWarning must not abort a finaliser half-way
                # (warnings as errors would hide a finaliser that closes the parent's sockets).
                warnings.simplefilter("ignore")
                try:
                    path.one(r, GET)
                    r.close()
                    gc.collect()
                    code = 0
                finally:
                    os._exit(code)
            assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
            created = loop.run_until_complete(asyncio.wait_for(r.arun(*POST), 10))
            assert created["data"]["id"] == "ok" and server.count("POST") == 1
        finally:
            loop.run_until_complete(r.aclose())
            loop.close()


# -- 15. one runner, many event loops: nothing leaks ----------------------------------------------------------------


def test_one_runner_over_many_event_loops_leaks_no_session_or_socket() -> None:
    with HostileServer(default=respond()) as server:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            r = runner_for(server.url)
            for _ in range(5):
                asyncio.run(r.arun(*GET))
            sequential = server.connections
            assert len(r.transport._network._gates) == 1  # the limits of closed loops are not kept

            def worker() -> None:
                async def calls() -> None:
                    await asyncio.gather(*(r.arun(*GET) for _ in range(10)))

                asyncio.run(calls())

            threads = [threading.Thread(target=worker) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            r.close()
            gc.collect()
        assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
        assert sequential == 1  # one keep-alive connection served every loop in turn
        assert server.count() == 45 and server.wait_all_closed() == 0


# -- the async network transport over TLS -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("no openssl command to make a loopback certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


def test_tls_keep_alive_chunked_and_gzip(path: Path, certificate: tuple[str, str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import ssl

    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", cert)  # the client trusts the loopback certificate, and only it
    packed = gzip.compress(json.dumps({"data": {"id": "tls"}}).encode())
    chunked = (b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"%x\r\n%s\r\n0\r\n\r\n" % (len(packed), packed))
    with HostileServer([raw(chunked, keep=True)], default=respond(), tls=context) as server, \
            runner_for(server.url) as r:
        first, second, third = path.run(r, GET, GET, POST)
    assert first["data"]["id"] == "tls" and second["data"]["id"] == third["data"]["id"] == "ok"
    assert server.count() == 3 and server.connections == 1


def test_tls_refuses_an_untrusted_certificate(path: Path, certificate: tuple[str, str]) -> None:
    import ssl

    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with HostileServer(default=respond(), tls=context) as server, runner_for(server.url, RetryPolicy.none()) as r:
        with pytest.raises(TransportError) as info:
            path.one(r, GET)
    assert info.value.sent is False and server.count() == 0


def test_behind_a_proxy_many_event_loops_leak_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """With proxy variables set, httpx's own transport (which honours them) carries the async calls."""
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    with HostileServer(default=respond()) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            r = runner_for("http://cases.example.invalid")
            for _ in range(3):
                assert asyncio.run(r.arun(*GET))["data"]["id"] == "ok"
            r.close()
            gc.collect()
        assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
        assert [q.path for q in proxy.requests] == ["http://cases.example.invalid/api/v2/cases/OPS-1"] * 3
        assert proxy.wait_all_closed() == 0


def test_no_proxy_alone_keeps_the_async_network_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    with HostileServer(default=respond()) as server, runner_for(server.url) as r:
        asyncio.run(r.arun(*GET))
        asyncio.run(r.arun(*GET))
        assert r.transport._network is not None and server.connections == 1


MALFORMED = {
    "binary": b"\x00\xff\xfe garbage \r\n\r\n",
    "no-status-code": b"HTTP/1.1 OK\r\nContent-Length: 2\r\n\r\n{}",
    "http2-line": b"HTTP/2 200\r\nContent-Length: 2\r\n\r\n{}",
    "folded-header": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n X-Folded: yes\r\n\r\n{}",
    "negative-length": b"HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\n{}",
    "two-lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
    "huge-chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFF\r\n{}",
    "chunk-no-crlf": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}XX0\r\n\r\n",
    "head-then-close": b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
    "endless-head": b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"a" * 2**20,
    "unknown-encoding": b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 2\r\n\r\n{}",
    "bad-gzip": b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\nnope",
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_a_malformed_answer_is_one_of_the_package_errors(path: Path, name: str) -> None:
    with HostileServer(default=raw(MALFORMED[name])) as server, runner_for(server.url, RetryPolicy.none()) as r:
        with pytest.raises(ActionError) as info:
            path.one(r, GET)
    assert isinstance(info.value, (TransportError, UnexpectedResponseError)) and server.count() == 1


def test_a_user_agent_that_would_split_a_header_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="user_agent contains a line feed"):
        Connection(user_agent="my-pipeline/1.0\nX-Injected: yes")
    assert Connection(user_agent="my pipeline/1.0 (ops)").user_agent == "my pipeline/1.0 (ops)"


def test_the_command_line_refuses_a_crlf_key_with_exit_2() -> None:
    """The reviewer's reproduction, as a real process: ``DD_API_KEY=$'<key>\\r' dd-cases run get_projects``."""
    import subprocess
    import sys
    from pathlib import Path as FilePath

    env = {**{k: v for k, v in os.environ.items() if not k.startswith("DD_")}, "DD_API_KEY": API + "\r",
           "DD_APP_KEY": APP}
    done = subprocess.run([sys.executable, "-m", "datadog_case_actions.cli", "run", "get_projects", "--base-url",
                           _refused_url()], env=env, capture_output=True, text=True, timeout=60,
                          cwd=FilePath(__file__).resolve().parents[2])
    assert done.returncode == 2, done.stderr
    assert "DD_API_KEY (api_key) contains a carriage return" in done.stderr
    assert API not in done.stdout + done.stderr and APP not in done.stdout + done.stderr
