"""``dd-cases export --format openapi``: a valid OpenAPI 3.1 document, proven by a generic client on the sandbox.

The client below knows nothing of this package: it walks the document (servers,
security schemes, paths, parameters with their examples, request body examples)
and sends each operation with plain httpx to the sandbox server on loopback.
"""

from __future__ import annotations

import copy
import io
import json
import re
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qsl, quote

import httpx
import jsonschema
import pytest
from openapi_spec_validator import OpenAPIV2SpecValidator, OpenAPIV31SpecValidator

from datadog_case_actions.cli import main
from datadog_case_actions.registry import describe
from datadog_case_actions.runtime.connection import SITES
from datadog_case_actions.runtime.request import prepare
from datadog_case_actions.sandbox import Sandbox, start_server_in_thread

MANIFESTS = Path(__file__).resolve().parent.parent / "manifests"
INDEX = json.loads((MANIFESTS / "index.json").read_text(encoding="utf-8"))["actions"]
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Operations the sandbox cannot complete from the document's examples: operationId -> (status, answer).
# Kept exact (none today), so the test fails when one stops working.
EXPECTED_FAILURES: dict[str, tuple[int, Any]] = {}
# What the generic client had to do beyond sending an operation's first example, kept exact likewise:
# a case holds one Jira issue: CreateCaseJiraIssue made one, so LinkJiraIssueToCase answers 409 until the
# DELETE on the same path has removed it.
EXPECTED_DETOURS = [("LinkJiraIssueToCase", "deleted first after 409")]


def _export(*args: str) -> dict[str, Any]:
    out = io.StringIO()
    assert main(["export", *args], stdout=out) == 0
    return json.loads(out.getvalue())  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return _export("--format", "openapi")


def _operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


# -- the document ----------------------------------------------------------------------------------------------------

def test_the_document_is_valid_openapi_3_1_with_every_operation(document: dict[str, Any]) -> None:
    OpenAPIV31SpecValidator(document).validate()
    assert document["openapi"] == "3.1.0"
    found = {(method.upper(), path): op for path, method, op in _operations(document)}
    assert {(a["method"], a["path"]) for a in INDEX.values()} == set(found)
    assert sorted(op["x-action-id"] for op in found.values()) == sorted(INDEX)
    for summary in INDEX.values():
        operation = found[(summary["method"], summary["path"])]
        assert operation["operationId"] == summary["operation_id"] and operation["tags"] == [summary["group"]]
        assert operation["x-effect"] == summary["effect"]
    assert len({op["operationId"] for op in found.values()}) == len(INDEX)
    assert {tag["name"] for tag in document["tags"]} == {a["group"] for a in INDEX.values()}


def test_sites_servers_and_key_headers(document: dict[str, Any]) -> None:
    urls = [server["url"] for server in document["servers"]]
    assert urls[: len(SITES)] == list(SITES.values())
    assert urls[len(SITES):] == ["http://127.0.0.1:{port}"]
    schemes = document["components"]["securitySchemes"]
    assert {(s["type"], s["in"], s["name"]) for s in schemes.values()} == {
        ("apiKey", "header", "DD-API-KEY"), ("apiKey", "header", "DD-APPLICATION-KEY")}
    assert document["security"] == [{name: [] for name in schemes}]


def test_the_validator_refuses_a_broken_document(document: dict[str, Any]) -> None:
    # the validation above can fail: a path parameter the operation does not declare is refused
    broken = copy.deepcopy(document)
    operation = broken["paths"]["/api/v2/cases/{case_id}"]["get"]
    operation["parameters"] = [p for p in operation["parameters"] if p["name"] != "case_id"]
    with pytest.raises(Exception, match="case_id"):
        OpenAPIV31SpecValidator(broken).validate()


def test_real_api_names_and_json_api_bodies(document: dict[str, Any]) -> None:
    search = document["paths"]["/api/v2/cases"]["get"]
    assert {p["name"] for p in search["parameters"]} >= {"page[size]", "page[number]", "sort[field]", "filter"}
    assert all(p["in"] == "query" for p in search["parameters"]) and "requestBody" not in search
    create = document["paths"]["/api/v2/cases"]["post"]
    body = create["requestBody"]["content"]["application/json"]
    data = body["schema"]["properties"]["data"]
    assert data["properties"]["type"] == {"type": "string", "enum": ["case"]}
    assert {"title", "type_id"} <= set(data["properties"]["attributes"]["required"])
    project = data["properties"]["relationships"]["properties"]["project"]["properties"]["data"]
    assert project["properties"]["type"]["enum"] == ["project"] and project["required"] == ["id", "type"]
    assert create["responses"]["201"]["content"]["application/json"]["schema"]["properties"]["data"]
    assert "content" not in document["paths"]["/api/v2/cases/projects/{project_id}"]["delete"]["responses"]["204"]


def test_every_example_fits_its_schema(document: dict[str, Any]) -> None:
    checked = 0
    for path, method, operation in _operations(document):
        for parameter in operation.get("parameters", ()):
            for example in parameter.get("examples", {}).values():
                jsonschema.Draft202012Validator(parameter["schema"]).validate(example["value"])
                checked += 1
        content = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if content:
            assert content.get("examples"), (method, path)
            for example in content["examples"].values():
                jsonschema.Draft202012Validator(content["schema"]).validate(example["value"])
                checked += 1
    assert checked >= len(INDEX)


# -- a generic OpenAPI client ------------------------------------------------------------------------------------------

_REFERENCE = re.compile(r"_(id|uuid|key)s?$")


def _reference(name: str) -> tuple[str, str] | None:
    """What a name refers to: ``project_id`` -> (project, id), ``case_ids`` -> (case, id),
    ``custom_attribute_key`` -> (custom_attribute, key); None for other names."""
    found = _REFERENCE.search(name)
    return (name[:found.start()], "key" if found.group(1) == "key" else "id") if found else None


def _kind_matches(stem: str, resource_type: str) -> bool:
    """``rule`` names a ``rule``; ``cell`` names a ``timeline_cell``."""
    return resource_type == stem or resource_type.endswith("_" + stem)


def _response_type(operation: dict[str, Any]) -> str | None:
    """The JSON:API type a successful response holds, from its schema (one enum value), if any."""
    for status, response in operation["responses"].items():
        if not status.startswith("2"):
            continue
        schema = response.get("content", {}).get("application/json", {}).get("schema", {})
        data = schema.get("properties", {}).get("data", {})
        data = data.get("items", data)
        kinds = data.get("properties", {}).get("type", {}).get("enum", [])
        if len(kinds) == 1:
            return str(kinds[0])
    return None


def _path_names(path: str) -> list[str]:
    return re.findall(r"{([^}]+)}", path)


Operation = tuple[str, str, dict[str, Any]]  # path, method, operation object
Need = tuple[str, str, str]  # ("id", kind, "") or ("key", kind, the key)


class GenericClient:
    """Sends any operation of an OpenAPI document from its examples, using resources it created itself.

    The examples' ids are made up.  Which values refer to a resource is read from the document: the
    example value of a path parameter (``case_id`` -> a case), a ``*_id``/``*_ids`` key (of the kind its
    ``*_type`` sibling names, if any) and JSON:API resource identifiers ``{"type", "id"}``.  A made-up id
    is replaced by the id of a resource of that kind the client created: an operation that answers with
    a resource of a kind and does not name that kind in its path creates it (``POST .../rules`` ->
    ``rule``).  Distinct made-up ids in one request get distinct resources (a link between two cases).
    A key (``custom_attribute_key``) is the client's to choose, not the server's: it is kept, and a
    resource with that key is created first, from the creating operation's example that names it.
    """

    def __init__(self, doc: dict[str, Any], client: httpx.Client) -> None:
        self.doc, self.client = doc, client
        self.created: dict[str, list[dict[str, Any]]] = {}  # kind -> resources created here, in order
        self.placeholders: dict[str, tuple[str, str]] = {}  # a path parameter's example value -> reference
        self.creators: dict[str, Operation] = {}
        self.detours: list[tuple[str, str]] = []  # (operationId, what it took beyond its first example)
        for path, method, operation in _operations(doc):
            for parameter in operation.get("parameters", ()):
                reference = _reference(parameter["name"])
                if parameter["in"] != "path" or reference is None:
                    continue
                for example in parameter.get("examples", {}).values():
                    self.placeholders.setdefault(str(example["value"]), reference)
            kind = _response_type(operation)
            if method == "post" and kind and not any(_kind_matches(ref[0], kind) for n in _path_names(path)
                                                     if (ref := _reference(n))):
                self.creators.setdefault(kind, (path, method, operation))

    def _kinds(self, stem: str) -> list[str]:
        """The creatable kinds *stem* names: itself if creatable (``rule``), else ``*_stem`` (``timeline_cell``)."""
        return [stem] if stem in self.creators else sorted(k for k in self.creators if _kind_matches(stem, k))

    def _reference_of(self, value: str, key: str | None, siblings: dict[str, Any]) -> tuple[str, str] | None:
        """What a string refers to, if anything (see the class)."""
        if value in self.placeholders:
            return self.placeholders[value]
        reference = _reference(key) if key else None
        if reference and reference[1] == "id" and key:
            kind = siblings.get(_REFERENCE.sub("_type", key))
            if isinstance(kind, str):
                return kind.lower(), "id"
        return reference

    def _resolve(self, stem: str, field: str, value: str, refs: dict[tuple[str, str], list[str]]) -> str:
        kinds = self._kinds(stem)
        if not kinds:
            return value
        seen = refs.setdefault((field, kinds[0]), [])
        if value not in seen:
            seen.append(value)
        if field == "key":
            return value  # the client's own name: a resource with it must exist (see needs)
        ids = [resource["id"] for resource in self.created.get(kinds[0], ())]
        index = seen.index(value)
        return ids[index] if index < len(ids) else value

    def _rewrite(self, value: Any, refs: dict[tuple[str, str], list[str]], key: str | None = None,
                 siblings: dict[str, Any] | None = None) -> Any:
        """*value* with created ids in place of made-up ones; *refs* collects the references per kind."""
        if isinstance(value, dict):
            identifier = isinstance(value.get("type"), str) and isinstance(value.get("id"), str)
            return {k: self._resolve(value["type"], "id", v, refs) if identifier and k == "id"
                    else self._rewrite(v, refs, k, value) for k, v in value.items()}
        if isinstance(value, list):  # the items of case_ids are case ids
            return [self._rewrite(v, refs, key, siblings) for v in value]
        if isinstance(value, str):
            reference = self._reference_of(value, key, siblings or {})
            return self._resolve(*reference, value, refs) if reference else value
        return value

    def _has_key(self, kind: str, key: str) -> bool:
        return any(resource.get("attributes", {}).get("key") == key for resource in self.created.get(kind, ()))

    def needs(self, operation: Operation) -> set[Need]:
        """What the operation's examples refer to that the client has not created yet (never what the
        operation itself creates)."""
        own = {kind for kind, creator in self.creators.items() if creator[:2] == operation[:2]}
        missing: set[Need] = set()
        for example in self._examples(operation[2]):
            refs: dict[tuple[str, str], list[str]] = {}
            self._rewrite([example["parameters"], example["body"]], refs)
            for (field, kind), values in refs.items():
                if kind in own:
                    continue
                if field == "id" and len(values) > len(self.created.get(kind, ())):
                    missing.add(("id", kind, ""))
                missing |= {("key", kind, v) for v in values if field == "key" and not self._has_key(kind, v)}
        return missing

    def _examples(self, operation: dict[str, Any]) -> list[dict[str, Any]]:
        """Each example of the operation: its parameter values and body, keyed as the document keys them."""
        parameters = operation.get("parameters", ())
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        keys: list[str | None] = []
        for holder in [*parameters, body or {}]:
            keys += [k for k in holder.get("examples", {}) if k not in keys]
        return [{"key": key, "parameters": {p["name"]: p["examples"][key]["value"] for p in parameters
                                            if key in p.get("examples", {})},
                 "body": body["examples"][key]["value"] if body else None} for key in keys or [None]]

    def example_naming(self, operation: dict[str, Any], value: str) -> str | None:
        """The key of the operation's first example that holds *value*."""
        return next((e["key"] for e in self._examples(operation)
                     if json.dumps(value) in json.dumps([e["parameters"], e["body"]])), None)

    @staticmethod
    def _query_text(value: Any, parameter: dict[str, Any]) -> str:
        if isinstance(value, list):  # style form, explode false: one parameter, items joined by commas
            assert parameter.get("explode") is False, parameter["name"]
            return ",".join(GenericClient._query_text(v, {}) for v in value)
        return json.dumps(value) if isinstance(value, bool) else str(value)

    def _request(self, path: str, method: str, operation: dict[str, Any], example: dict[str, Any]) -> httpx.Response:
        refs: dict[tuple[str, str], list[str]] = {}  # one request: the same made-up id is the same resource
        values = self._rewrite(example["parameters"], refs)
        body = self._rewrite(example["body"], refs)
        url, query = path, list[tuple[str, str]]()
        for parameter in operation.get("parameters", ()):
            name = parameter["name"]
            if name not in values:
                assert not parameter.get("required"), f"{operation['operationId']}: no example for {name}"
            elif parameter["in"] == "path":
                url = url.replace("{" + name + "}", quote(str(values[name]), safe=""))
            elif parameter["in"] == "query":
                query.append((name, self._query_text(values[name], parameter)))
        return self.client.request(method.upper(), url, params=tuple(query),
                                   json=body if "requestBody" in operation else None)

    def send(self, path: str, method: str, operation: dict[str, Any], only: str | None = None) -> httpx.Response:
        """The first successful answer of the operation's examples (or only the one named), else the last failure."""
        status = 0
        for number, example in enumerate(self._examples(operation)):
            if only is not None and example["key"] != only:
                continue
            response = self._request(path, method, operation, example)
            undo = self.doc["paths"][path].get("delete")
            if response.status_code == 409 and method != "delete" and undo is not None:
                # the resource is already there (one Jira issue per case): remove it and try again
                self._request(path, "delete", undo, self._examples(undo)[0]).raise_for_status()
                self.detours.append((operation["operationId"], "deleted first after 409"))
                response = self._request(path, method, operation, example)
            if response.is_success:
                if number and only is None:
                    self.detours.append((operation["operationId"], f"example {number + 1} after {status}"))
                break
            status = response.status_code
        kind = _response_type(operation)
        if response.is_success and kind and self.creators.get(kind, ("",))[:2] == (path, method):
            data = response.json()["data"]
            self.created.setdefault(kind, []).append(data if isinstance(data, dict) else data[0])
        return response

    def created_order(self, path: str) -> int:
        """For a DELETE of a resource this client created (path ends with its id): how late it was created."""
        names = _path_names(path)
        reference = _reference(names[-1]) if names and path.endswith("}") else None
        kinds = [k for k in self._kinds(reference[0]) if k in self.created] if reference else []
        return list(self.created).index(kinds[0]) if kinds else -1


def _schedule(client: GenericClient, doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any], str | None]]:
    """Every operation once (last item ``None``), and the extra creates they need (the example to use, or
    ``"any"``).  Operations that need nothing uncreated first; then the deletes: relations first, then the
    created resources, last created first (a case's comment before the project)."""
    pending = [op for op in _operations(doc) if op[1] != "delete"]
    while pending:
        ready = next((op for op in pending if not client.needs(op)), None)
        if ready is not None:
            pending.remove(ready)
            yield (*ready, None)
            continue
        # one more resource of a kind made before, or one with the key an operation names
        wanted = sorted(need for op in pending for need in client.needs(op)
                        if need[0] == "key" or need[1] in client.created)
        assert wanted, f"nothing can run: {[(p, m, client.needs((p, m, o))) for p, m, o in pending]}"
        field, kind, key = wanted[0]
        creator = client.creators[kind]
        example = client.example_naming(creator[2], key) if field == "key" else "any"
        assert example is not None, f"no example of {creator[2]['operationId']} makes a {kind} {key!r}"
        yield (*creator, example)
    deletes = [op for op in _operations(doc) if op[1] == "delete"]
    for op in sorted(deletes, key=lambda op: (client.created_order(op[0]) >= 0, -client.created_order(op[0]))):
        yield (*op, None)


def _sandbox_url(doc: dict[str, Any], port: int) -> str:
    server = next(s for s in doc["servers"] if "variables" in s)
    url = str(server["url"])
    for name, variable in server["variables"].items():
        url = url.replace("{" + name + "}", str(port) if name == "port" else variable["default"])
    return url


def test_a_generic_client_runs_every_operation_on_the_sandbox_server(document: dict[str, Any]) -> None:
    sandbox = Sandbox(":memory:")
    server, _ = start_server_in_thread(sandbox)
    headers = {scheme["name"]: "sandbox" for scheme in document["components"]["securitySchemes"].values()
               if scheme["type"] == "apiKey" and scheme["in"] == "header"}
    failures: dict[str, tuple[int, Any]] = {}
    sent = 0
    try:
        with httpx.Client(base_url=_sandbox_url(document, server.server_address[1]), headers=headers,
                          timeout=10) as http:
            client = GenericClient(document, http)
            for path, method, operation, extra in _schedule(client, document):
                response = client.send(path, method, operation, None if extra in (None, "any") else extra)
                sent += extra is None
                if not response.is_success:
                    failures[operation["operationId"]] = (response.status_code, response.json())
                    continue
                expected = operation["responses"]
                assert str(response.status_code) in expected, (operation["operationId"], response.status_code)
                schema = expected[str(response.status_code)].get("content", {}).get("application/json", {})
                if schema and response.content:
                    jsonschema.Draft202012Validator(schema["schema"]).validate(response.json())
    finally:
        server.stop()
        sandbox.close()
    assert sent == len(INDEX)
    assert sorted(client.detours) == sorted(EXPECTED_DETOURS)
    assert failures == EXPECTED_FAILURES


def test_the_generic_client_sends_what_the_package_sends_for_every_example(document: dict[str, Any]) -> None:
    # The sandbox ignores query parameters it does not know, as the API does: this holds their names
    # (and everything else) to what prepare() builds from the same example.
    sent: list[httpx.Request] = []

    def keep(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(599)

    transport = httpx.MockTransport(keep)
    compared = 0
    with httpx.Client(base_url="http://127.0.0.1:9", transport=transport) as http:
        client = GenericClient(document, http)  # has created nothing: the examples' ids go out unchanged
        for path, method, operation in _operations(document):
            manifest = describe(operation["x-action-id"])
            examples = {example["key"]: example for example in client._examples(operation)}
            for number, expected in enumerate(manifest["examples"], 1):
                example = examples.get(f"example{number}")
                if example is None:  # an example without inputs, of an operation without a body
                    assert expected["input"] == {} and "requestBody" not in operation, operation["operationId"]
                    example = {"parameters": {}, "body": None}
                client._request(path, method, operation, example)
                request, want = sent.pop(), prepare(manifest, expected["input"])
                query = sorted(parse_qsl(request.url.query.decode(), keep_blank_values=True))
                body = json.loads(request.content) if request.content else None
                assert (request.method, request.url.raw_path.split(b"?")[0].decode(), query, body) == (
                    want.method, want.path, sorted(want.params), want.body), operation["operationId"]
                compared += 1
    assert compared == sum(len(describe(a)["examples"]) for a in INDEX)


# -- Swagger 2.0 -------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def swagger() -> dict[str, Any]:
    return _export("--format", "swagger2")


def test_the_swagger2_document_is_valid_with_every_operation(document: dict[str, Any],
                                                             swagger: dict[str, Any]) -> None:
    OpenAPIV2SpecValidator(swagger).validate()
    assert swagger["swagger"] == "2.0" and swagger["host"] == "api.datadoghq.com" and swagger["schemes"] == ["https"]
    assert {(path, method, op["operationId"]) for path, method, op in _operations(swagger)} == {
        (path, method, op["operationId"]) for path, method, op in _operations(document)}
    assert {(d["in"], d["name"]) for d in swagger["securityDefinitions"].values()} == {
        ("header", "DD-API-KEY"), ("header", "DD-APPLICATION-KEY")}
    assert "anyOf" not in json.dumps(swagger).replace('"x-anyOf"', "")


# Swagger 2.0's schema object (its specification, section "Schema Object"); the validator's meta-schema
# takes draft 4's `type` (a list allowed) for it, so the test holds the keywords and the type itself.
SWAGGER2_SCHEMA_KEYS = {"$ref", "format", "title", "description", "default", "multipleOf", "maximum",
                        "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength", "minLength", "pattern",
                        "maxItems", "minItems", "uniqueItems", "maxProperties", "minProperties", "required", "enum",
                        "type", "items", "allOf", "properties", "additionalProperties", "discriminator", "readOnly",
                        "xml", "externalDocs", "example"}


def _swagger2_schemas(swagger: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from swagger["definitions"].values()
    for _, _, operation in _operations(swagger):
        yield from (p["schema"] for p in operation.get("parameters", ()) if p["in"] == "body")
        yield from (r["schema"] for r in operation["responses"].values() if "schema" in r)


def _subschemas(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield schema
    for sub in [*schema.get("properties", {}).values(), *schema.get("allOf", ())]:
        yield from _subschemas(sub)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield from _subschemas(schema[key])


def test_swagger2_schemas_use_only_what_swagger2_knows(swagger: dict[str, Any]) -> None:
    count = 0
    for schema in _swagger2_schemas(swagger):
        for sub in _subschemas(schema):
            assert {k for k in sub if not k.startswith("x-")} <= SWAGGER2_SCHEMA_KEYS, sub
            assert isinstance(sub.get("type", ""), str), sub
            count += 1
    assert count > len(INDEX)
    # a nullable input (type ["string", "null"]) keeps its type and says null with x-nullable
    body = swagger["paths"]["/api/v2/cases/{case_id}/due_date"]["post"]["parameters"][-1]["schema"]
    due = body["properties"]["data"]["properties"]["attributes"]["properties"]["due_date"]
    assert (due["type"], due["x-nullable"], due["format"]) == ("string", True, "date")


def test_the_swagger2_validator_refuses_what_swagger2_cannot_say(swagger: dict[str, Any]) -> None:
    broken = copy.deepcopy(swagger)
    body = broken["paths"]["/api/v2/cases"]["post"]["parameters"][-1]["schema"]
    body["properties"]["data"]["anyOf"] = [{"type": "object"}, {"type": "string"}]
    with pytest.raises(Exception, match="anyOf"):
        OpenAPIV2SpecValidator(broken).validate()


def _swagger2_request(swagger: dict[str, Any], path: str, operation: dict[str, Any]) -> tuple[str, list[Any], Any]:
    """Path, query pairs and body from the Swagger 2.0 document's own examples (x-example, schema example)."""
    url, query, body = swagger["basePath"].rstrip("/") + path, [], None
    for parameter in operation.get("parameters", ()):
        if parameter["in"] == "body":
            body = parameter["schema"]["example"]
        elif "x-example" in parameter:
            value = parameter["x-example"]
            if parameter["in"] == "path":
                url = url.replace("{" + parameter["name"] + "}", quote(str(value), safe=""))
            else:
                text = ",".join(map(str, value)) if parameter.get("collectionFormat") == "csv" else value
                query.append((parameter["name"], json.dumps(text) if isinstance(text, bool) else str(text)))
    return url, sorted(query), body


def test_swagger2_examples_fit_their_schemas_and_build_the_package_request(swagger: dict[str, Any]) -> None:
    for path, _, operation in _operations(swagger):
        manifest = describe(operation["x-action-id"])
        # Swagger 2.0 holds one example: the first one that says something (inputs, or a body)
        has_body = any(p["in"] == "body" for p in operation.get("parameters", ()))
        first: dict[str, Any] = next((e["input"] for e in manifest["examples"] if e["input"] or has_body), {})
        want = prepare(manifest, first)
        for parameter in operation.get("parameters", ()):
            if parameter["in"] == "body":
                jsonschema.Draft4Validator(parameter["schema"]).validate(parameter["schema"]["example"])
        assert _swagger2_request(swagger, path, operation) == (want.path, sorted(want.params), want.body), path


@pytest.mark.parametrize(("site", "host", "scheme", "base"), [
    ("datadoghq.eu", "api.datadoghq.eu", "https", "/"),
    ("app.us5.datadoghq.com", "api.us5.datadoghq.com", "https", "/"),
    ("sandbox", "127.0.0.1:8126", "http", "/"),
    ("https://proxy.example:8443/dd/", "proxy.example:8443", "https", "/dd")])
def test_swagger2_names_the_host_of_the_chosen_site(site: str, host: str, scheme: str, base: str) -> None:
    doc = _export("--format", "swagger2", "--site", site)
    assert (doc["host"], doc["schemes"], doc["basePath"]) == (host, [scheme], base)
    if base != "/":
        OpenAPIV2SpecValidator(doc).validate()


@pytest.mark.parametrize(("args", "message"), [
    (["--site", "datadoghq.eu"], "the catalogue document lists every site"),
    (["--format", "openapi", "--site", "datadoghq.eu"], "the openapi document lists every site"),
    (["--format", "swagger2", "--site", "example.com"], "unknown site 'example.com'")])
def test_export_refuses_a_site_it_cannot_use(args: list[str], message: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["export", *args])
    assert info.value.code == 2 and message in capsys.readouterr().err


def test_export_help_explains_every_format(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["export", "--help"])
    text = capsys.readouterr().out
    assert info.value.code == 0
    for word in ("catalogue", "openapi", "swagger2", "OpenAPI 3.1", "Swagger 2.0", "page[size]", "--site",
                 "DD-API-KEY"):
        assert word in text, word


def test_swagger2_downgrade_of_each_json_schema_form() -> None:
    # forms the manifests may hold tomorrow (a plugin's, or an API change), each as Swagger 2.0 says it
    from datadog_case_actions.export import _swagger2_schema

    assert _swagger2_schema({"const": "case", "$comment": "x", "examples": ["case"]}) == {"enum": ["case"]}
    assert _swagger2_schema({"oneOf": [{"type": "integer"}, {"type": "null"}]}) == {"type": "integer",
                                                                                    "x-nullable": True}
    assert _swagger2_schema({"anyOf": [{"type": "object", "properties": {"a": {"type": "string"}}},
                                       {"type": "object", "properties": {"b": {"type": "integer"}}}]}) == {
        "type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}}
    assert _swagger2_schema({"anyOf": [{"type": "string"}, {"type": "number"}]}) == {
        "x-anyOf": [{"type": "string"}, {"type": "number"}]}
    assert _swagger2_schema({"type": "object", "additionalProperties": {"type": ["number", "null"]}}) == {
        "type": "object", "additionalProperties": {"type": "number", "x-nullable": True}}
    assert _swagger2_schema({"$ref": "#/components/schemas/Errors"}) == {"$ref": "#/definitions/Errors"}
    with pytest.raises(ValueError, match="prefixItems"):
        _swagger2_schema({"type": "array", "prefixItems": [{"type": "string"}]})


def test_inputs_given_together_are_required_together_in_the_body(document: dict[str, Any]) -> None:
    operation = document["paths"]["/api/v2/cases/projects/{project_id}/rules/{rule_id}"]["put"]
    content = operation["requestBody"]["content"]["application/json"]
    validator = jsonschema.Draft202012Validator(content["schema"])
    body = copy.deepcopy(content["examples"]["example1"]["value"])
    validator.validate(body)
    del body["data"]["attributes"]["name"]
    assert {e.validator for e in validator.iter_errors(body)} == {"dependentRequired"}
    assert "With `state`, give `action`, `name`, `trigger` too." in operation["description"]


def test_an_example_its_own_schema_refuses_is_left_out() -> None:
    from datadog_case_actions.export import _operation

    manifest = copy.deepcopy(describe("datadog.update_priority"))
    manifest["examples"].append({"summary": "no such priority", "input": {"case_id": "OPS-1", "priority": "P9"}})
    operation = _operation(manifest)
    assert list(operation["requestBody"]["content"]["application/json"]["examples"]) == ["example1"]
    assert [list(p.get("examples", {})) for p in operation["parameters"]] == [["example1"]]
