"""The whole catalogue as one document, for low-code builders, form renderers and OpenAPI importers.

    dd-cases export [--format catalogue|openapi|swagger2] [--site SITE] [--output FILE] [--compact]

``catalogue`` (the default): every action with its manifest fields, JSON Schemas a
form renderer can use directly (self-contained, every enum with its values, every
property typed) and its ``request`` mapping, which says where each flat input goes
on the wire.  ``openapi``: an OpenAPI 3.1 document of the operations as the API
really takes them.  ``swagger2``: the same for builders that import only Swagger 2.0.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Mapping, Sequence, TextIO

from . import __version__, registry
from .runtime.errors import ConfigurationError, InputError

__all__ = ["export_catalogue", "export_openapi", "export_swagger2", "request_mapping", "main", "FORMAT_VERSION",
           "ENCODING_RULES"]

FORMAT_VERSION = 1
_FIELDS = ("id", "operation_id", "title", "description", "group", "method", "path", "scope", "preview", "effect",
           "idempotent", "success_status", "input_schema", "output_schema", "examples", "notes", "pagination")

#: How a builder turns flat inputs into a request with an action's ``request`` mapping (also in the document).
ENCODING_RULES = (
    "path: replace {name} in the action's path with the input's text, percent-encoded as one segment "
    "(every character but A-Z a-z 0-9 - . _ ~ encoded, '/' too)",
    "query: send each given, non-null input under its API name; true/false in lower case, "
    "a list as its items joined by commas",
    "body: when body_template is not null, send JSON (Content-Type: application/json): start from a copy of "
    "body_template, set each given input at its JSON pointer (creating objects on the way), "
    "then set the pointers of its 'with' constants; inputs not given are left out",
    "rename: before placing an input that has 'rename', replace an old spelling by the current one "
    "('values': old -> current) at each 'at' path inside the value (object keys; '[]' for every item of a list)",
    "headers: DD-API-KEY and DD-APPLICATION-KEY; base URL: one of 'sites'",
)
_AUTH_HEADERS = {"api_key": "DD-API-KEY", "application_key": "DD-APPLICATION-KEY"}
_JSON = "application/json"


def _inline(schema: Any, root: Any, depth: int = 0) -> Any:
    """*schema* with every local ``$ref`` replaced by what it points to (the manifests have none today;
    a plugin's might)."""
    if depth > 50:
        raise ValueError("schema references nest too deep (a cycle?)")
    if isinstance(schema, dict):
        if "$ref" in schema and isinstance(schema["$ref"], str) and schema["$ref"].startswith("#/"):
            target: Any = root
            for part in schema["$ref"][2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            return _inline({**target, **rest}, root, depth + 1)
        return {k: _inline(v, root, depth + 1) for k, v in schema.items() if k not in ("$defs", "definitions")}
    if isinstance(schema, list):
        return [_inline(v, root, depth + 1) for v in schema]
    return schema


def request_mapping(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """Where each flat input of *manifest* goes (path, query or body pointer), and the fixed body parts."""
    binding = manifest["request"]
    inputs: dict[str, Any] = {name: {"in": "path", "name": name} for name in binding.get("path", ())}
    inputs.update({name: {"in": "query", "name": api_name} for name, api_name in binding.get("query", {}).items()})
    for name, spec in binding.get("body", {}).items():
        inputs[name] = {"in": "body", "pointer": spec["pointer"]}
        if spec.get("with"):
            inputs[name]["with"] = dict(spec["with"])
    for name, entries in binding.get("normalize", {}).items():
        inputs[name]["rename"] = [{"at": list(entry["steps"]), "values": dict(entry["aliases"])} for entry in entries]
    template = binding.get("body_template")
    if template is None and binding.get("body"):
        template = {}  # body fields without a template still travel in a JSON object (runtime/request.py)
    return {"method": manifest["method"], "path": manifest["path"], "body_template": template,
            "content_type": _JSON if template is not None else None, "inputs": inputs}


def _manifests() -> list[tuple[Any, dict[str, Any]]]:
    return [(info, registry.describe(info.id)) for info in sorted(registry.list_actions(), key=lambda a: a.id)]


def _sites() -> dict[str, str]:
    from .runtime.connection import SITES

    return dict(SITES)


def export_catalogue() -> dict[str, Any]:
    """Every installed action's manifest and request mapping, schemas self-contained, sorted by id."""
    actions = []
    for info, manifest in _manifests():
        entry = {key: manifest[key] for key in _FIELDS if key in manifest}
        for key in ("input_schema", "output_schema"):
            entry[key] = _inline(manifest[key], manifest[key])
        entry["request"] = request_mapping(manifest)
        entry["distribution"] = info.distribution
        actions.append(entry)
    return {"format_version": FORMAT_VERSION, "package": "datadog-case-actions", "package_version": __version__,
            "sites": _sites(), "auth_headers": dict(_AUTH_HEADERS), "encoding": list(ENCODING_RULES),
            "count": len(actions), "actions": actions}


# -- OpenAPI 3.1 ---------------------------------------------------------------------------------------------------

def _schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """An input or output schema as an OpenAPI schema object: inlined, without its own ``$schema``."""
    inlined = _inline(dict(schema), schema)
    inlined.pop("$schema", None)
    return inlined  # type: ignore[no-any-return]


def _const_schema(value: Any) -> dict[str, Any]:
    """The schema of a fixed body part: an enum of one value, which OpenAPI 3.0 importers read too."""
    if isinstance(value, dict):
        schema: dict[str, Any] = {"type": "object", "properties": {k: _const_schema(v) for k, v in value.items()}}
        if value:
            schema["required"] = sorted(value)
        return schema
    kind = {str: "string", bool: "boolean", int: "integer", float: "number"}.get(type(value))
    return {"type": kind, "enum": [value]} if kind else {"enum": [value]}


def _require(node: dict[str, Any], key: str) -> None:
    if key not in node.setdefault("required", []):
        node["required"].append(key)


def _place_schema(root: dict[str, Any], pointer: str, schema: dict[str, Any], *, path_required: bool,
                  leaf_required: bool) -> None:
    """Put *schema* at *pointer* inside the object schema *root*, making object schemas on the way."""
    keys = pointer.lstrip("/").split("/")
    node = root
    for key in keys[:-1]:
        if path_required:
            _require(node, key)
        node = node.setdefault("properties", {}).setdefault(key, {"type": "object"})
    if leaf_required:
        _require(node, keys[-1])
    node.setdefault("properties", {})[keys[-1]] = schema


def _body_schema(manifest: Mapping[str, Any], mapping: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON:API request body as JSON Schema: the template's fixed parts, each body input at its pointer."""
    properties = manifest["input_schema"].get("properties", {})
    wanted = set(manifest["input_schema"].get("required", ()))
    body = _const_schema(mapping["body_template"])
    for name, where in mapping["inputs"].items():
        if where["in"] != "body":
            continue
        required = name in wanted
        constants = where.get("with", {})
        # an input with constants is one half of a pair such as a relationship's {id, type}: both or neither
        _place_schema(body, where["pointer"], _schema(properties[name]), path_required=required,
                      leaf_required=required or bool(constants))
        for pointer, constant in constants.items():
            _place_schema(body, pointer, _const_schema(constant), path_required=required, leaf_required=True)
    _place_dependencies(body, manifest["input_schema"].get("dependentRequired", {}), mapping["inputs"])
    return body


def _place_dependencies(body: dict[str, Any], dependencies: Mapping[str, Sequence[str]],
                        inputs: Mapping[str, Any]) -> None:
    """The inputs' ``dependentRequired`` on the body object that holds them (when one object holds them all)."""
    for name, needed in dependencies.items():
        pointers = [inputs[n].get("pointer", "") for n in (name, *needed)]
        parents = {pointer.rpartition("/")[0] for pointer in pointers}
        if len(parents) != 1 or "" in pointers:
            continue  # spread over objects: the operation's description says it
        node = body
        for key in parents.pop().lstrip("/").split("/"):
            node = node["properties"][key]
        node.setdefault("dependentRequired", {})[pointers[0].rpartition("/")[2]] = [
            pointer.rpartition("/")[2] for pointer in pointers[1:]]


def _parameters(manifest: Mapping[str, Any], mapping: Mapping[str, Any],
                examples: list[tuple[str, tuple[str, dict[str, Any]]]]) -> list[dict[str, Any]]:
    """The path and query parameters of an operation, under their API names, with their examples."""
    properties = manifest["input_schema"].get("properties", {})
    wanted = set(manifest["input_schema"].get("required", ()))
    out = []
    for name, where in mapping["inputs"].items():
        if where["in"] == "body":
            continue
        schema = _schema(properties[name])
        parameter: dict[str, Any] = {"name": where["name"], "in": where["in"],
                                     "required": where["in"] == "path" or name in wanted, "schema": schema}
        if schema.get("description"):
            parameter["description"] = schema["description"]
        if schema.get("type") == "array":
            parameter.update(style="form", explode=False)  # items joined by commas (runtime/request.py)
        if name != where["name"]:
            parameter["x-input-name"] = name
        found = {key: {"summary": summary, "value": inputs[name]} for key, (summary, inputs) in examples
                 if name in inputs}
        if found:
            parameter["examples"] = found
        out.append(parameter)
    return out


def _examples(manifest: Mapping[str, Any]) -> list[tuple[str, tuple[str, dict[str, Any]]]]:
    """The manifest's examples that its own schema accepts (a plugin's may not), keyed by their position."""
    from .runtime.request import validate

    out = []
    for i, example in enumerate(manifest.get("examples", ())):
        try:
            validate(manifest, example["input"])
        except InputError:
            continue
        out.append((f"example{i + 1}", (example.get("summary") or f"Example {i + 1}", dict(example["input"]))))
    return out


def _operation(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """One manifest as an OpenAPI operation object."""
    from .runtime.request import prepare

    mapping = request_mapping(manifest)
    examples = _examples(manifest)
    description = manifest.get("description") or manifest["title"]
    notes = list(manifest.get("notes") or ())
    if manifest.get("preview"):
        notes.append("A preview operation of the API: it may change without notice.")
    for name, needed in manifest["input_schema"].get("dependentRequired", {}).items():
        notes.append(f"With `{name}`, give {', '.join(f'`{n}`' for n in needed)} too.")
    notes.append(f"Needs the `{manifest['scope']}` permission." if manifest.get("scope") else "")
    notes.append(f"Runs as `dd-cases run {manifest['id'].removeprefix('datadog.')}` with the same flat inputs.")
    operation: dict[str, Any] = {
        "operationId": manifest["operation_id"], "summary": manifest["title"],
        "description": "\n\n".join([description, *(n for n in notes if n)]), "tags": [manifest["group"]],
        "x-action-id": manifest["id"], "x-effect": manifest["effect"], "x-idempotent": manifest["idempotent"],
    }
    if manifest.get("preview"):
        operation["x-preview"] = True
    parameters = _parameters(manifest, mapping, examples)
    if parameters:
        operation["parameters"] = parameters
    if mapping["body_template"] is not None:
        content: dict[str, Any] = {"schema": _body_schema(manifest, mapping)}
        if examples:
            content["examples"] = {key: {"summary": summary, "value": prepare(manifest, inputs).body}
                                   for key, (summary, inputs) in examples}
        operation["requestBody"] = {"required": True, "content": {_JSON: content}}
    status = str(manifest["success_status"])
    success: dict[str, Any] = {"description": f"{manifest['title']}: done"}
    if status != "204":
        success["content"] = {_JSON: {"schema": _schema(manifest["output_schema"])}}
    operation["responses"] = {status: success,
                              "default": {"description": "An error: the API's reasons in 'errors'",
                                          "content": {_JSON: {"schema": {"$ref": "#/components/schemas/Errors"}}}}}
    return operation


def _errors_schema() -> dict[str, Any]:
    return {"type": "object", "properties": {"errors": {"type": "array", "items": {
        "anyOf": [{"type": "string"}, {"type": "object"}]}}}, "required": ["errors"],
        "description": "The API's error reasons (strings, or JSON:API error objects)."}


def export_openapi() -> dict[str, Any]:
    """Every installed action as one OpenAPI 3.1 document: real paths, parameters and JSON:API bodies."""
    from .sandbox.server import DEFAULT_PORT

    paths: dict[str, dict[str, Any]] = {}
    groups: list[str] = []
    for _, manifest in _manifests():
        item = paths.setdefault(manifest["path"], {})
        method = manifest["method"].lower()
        if method in item:  # two installed actions (a plugin's?) claim one operation: say which
            raise ValueError(f"{manifest['id']} and {item[method]['x-action-id']} are both "
                             f"{manifest['method']} {manifest['path']}")
        item[method] = _operation(manifest)
        if manifest["group"] not in groups:
            groups.append(manifest["group"])
    servers: list[dict[str, Any]] = [{"url": url, "description": f"Datadog site {site}"}
                                     for site, url in _sites().items()]
    servers.append({"url": "http://127.0.0.1:{port}", "description": "The local sandbox: `dd-cases serve` "
                    "(any key is accepted; no Datadog account needed)",
                    "variables": {"port": {"default": str(DEFAULT_PORT)}}})
    return {
        "openapi": "3.1.0",
        "info": {"title": "Datadog Case Management API", "version": __version__,
                 "summary": "Every operation datadog-case-actions knows, as the API takes it.",
                 "description": "Generated by `dd-cases export --format openapi` from the action manifests of "
                                "datadog-case-actions. Each operation's `x-action-id` names the action that "
                                "runs it (`dd-cases run`).",
                 "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"}},
        "servers": servers,
        "security": [{"apiKeyAuth": [], "appKeyAuth": []}],
        "tags": [{"name": group, "description": f"The {group.replace('_', ' ')} operations"}
                 for group in sorted(groups)],
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": {
                "apiKeyAuth": {"type": "apiKey", "in": "header", "name": _AUTH_HEADERS["api_key"],
                               "description": "A Datadog API key"},
                "appKeyAuth": {"type": "apiKey", "in": "header", "name": _AUTH_HEADERS["application_key"],
                               "description": "A Datadog application key with the operation's permission"}},
            "schemas": {"Errors": _errors_schema()}},
    }


# -- Swagger 2.0 ---------------------------------------------------------------------------------------------------

# What a Swagger 2.0 schema object may hold (besides x- extensions); anything else must be rewritten.
_SWAGGER2_SCHEMA_KEYS = frozenset({
    "$ref", "format", "title", "description", "default", "multipleOf", "maximum", "exclusiveMaximum", "minimum",
    "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems", "maxProperties",
    "minProperties", "required", "enum", "type", "items", "allOf", "properties", "additionalProperties",
    "discriminator", "readOnly", "xml", "externalDocs", "example"})
_SWAGGER2_PARAMETER_KEYS = frozenset({
    "type", "format", "items", "collectionFormat", "default", "maximum", "exclusiveMaximum", "minimum",
    "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems", "enum",
    "multipleOf"})


def _swagger2_schema(schema: Any) -> Any:
    """A JSON Schema 2020-12 schema as a Swagger 2.0 schema: no anyOf, const or type lists."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "properties":
            out[key] = {name: _swagger2_schema(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties"):
            out[key] = _swagger2_schema(value)
        elif key == "allOf":
            out[key] = [_swagger2_schema(sub) for sub in value]
        elif key == "const":
            out["enum"] = [value]
        elif key == "type" and isinstance(value, list):
            kinds = [kind for kind in value if kind != "null"]
            if len(kinds) == 1:
                out["type"] = kinds[0]
            if "null" in value:
                out["x-nullable"] = True
        elif key in ("anyOf", "oneOf"):
            out.update(_swagger2_union([_swagger2_schema(sub) for sub in value]))
        elif key == "$ref":
            out[key] = value.replace("#/components/schemas/", "#/definitions/")
        elif key in _SWAGGER2_SCHEMA_KEYS or key.startswith("x-"):
            out[key] = value
        elif key in ("$schema", "$comment", "examples", "dependentRequired"):
            continue  # nothing in Swagger 2.0 says these; dependentRequired is in the description
        else:
            raise ValueError(f"no Swagger 2.0 form for the JSON Schema keyword {key!r}")
    return out


def _swagger2_union(options: list[dict[str, Any]]) -> dict[str, Any]:
    """What Swagger 2.0 can say of ``anyOf``: one option (and null), objects merged, else any value."""
    real = [option for option in options if option.get("type") != "null"]
    nullable = {"x-nullable": True} if len(real) < len(options) else {}
    if len(real) == 1:
        return {**real[0], **nullable}
    if real and all(option.get("type") == "object" for option in real):
        merged: dict[str, Any] = {}
        for option in real:
            merged.update(option.get("properties", {}))
        return {"type": "object", "properties": merged, **nullable}
    # no type: any JSON value; the options stay readable for people in the extension
    return {"x-anyOf": real, **nullable}


def _swagger2_parameter(parameter: dict[str, Any], example: str | None) -> dict[str, Any]:
    schema = _swagger2_schema(parameter["schema"])
    out: dict[str, Any] = {key: parameter[key] for key in ("name", "in", "required", "description")
                           if key in parameter}
    out.update({key: value for key, value in schema.items() if key in _SWAGGER2_PARAMETER_KEYS
                or key.startswith("x-")})
    if out.get("type") == "array":
        out["collectionFormat"] = "csv"  # items joined by commas, as OpenAPI 3's style form, explode false
    out.update({key: value for key, value in parameter.items() if key.startswith("x-")})
    if example in parameter.get("examples", {}):
        out["x-example"] = parameter["examples"][example]["value"]
    return out


def _swagger2_operation(operation: dict[str, Any]) -> dict[str, Any]:
    """One OpenAPI 3.1 operation in Swagger 2.0; of its examples, the first (Swagger 2.0 holds one)."""
    out = {key: value for key, value in operation.items()
           if key in ("operationId", "summary", "description", "tags") or key.startswith("x-")}
    content = operation.get("requestBody", {}).get("content", {}).get(_JSON)
    named = {key for holder in [*operation.get("parameters", ()), content or {}] for key in holder.get("examples", {})}
    example = min(named, key=lambda key: int(key.removeprefix("example"))) if named else None
    parameters = [_swagger2_parameter(p, example) for p in operation.get("parameters", ())]
    if content is not None:
        schema = _swagger2_schema(content["schema"])
        if example in content.get("examples", {}):
            schema["example"] = content["examples"][example]["value"]
        parameters.append({"name": "body", "in": "body", "required": True, "schema": schema})
    if parameters:
        out["parameters"] = parameters
    out["responses"] = {}
    for status, response in operation["responses"].items():
        answer = {"description": response["description"]}
        if _JSON in response.get("content", {}):
            answer["schema"] = _swagger2_schema(response["content"][_JSON]["schema"])
        out["responses"][status] = answer
    return out


def export_swagger2(site: str = "datadoghq.com") -> dict[str, Any]:
    """The OpenAPI 3.1 document as Swagger 2.0 for one host: *site*, ``sandbox`` or a base URL."""
    openapi = export_openapi()
    base_path = "/"
    if site == "sandbox":
        from .sandbox.server import DEFAULT_PORT

        host, scheme = f"127.0.0.1:{DEFAULT_PORT}", "http"
    elif site.startswith(("https://", "http://")):  # an explicit base URL: a proxy, a gateway
        from urllib.parse import urlsplit

        parts = urlsplit(site)
        scheme, host, base_path = parts.scheme, parts.netloc, parts.path.rstrip("/") or "/"
    else:
        from .runtime.connection import site_url

        scheme, _, host = site_url(site).partition("://")
    others = ", ".join(url.partition("://")[2] for url in _sites().values())
    info = {key: value for key, value in openapi["info"].items() if key in ("title", "version", "description")}
    info["description"] += (f" Swagger 2.0 has one host: this file targets {host}; for another Datadog site "
                            f"export with --site (API hosts: {others}).")
    info["license"] = {"name": openapi["info"]["license"]["name"]}
    schemes = openapi["components"]["securitySchemes"]
    return {
        "swagger": "2.0", "info": info, "host": host, "basePath": base_path, "schemes": [scheme],
        "consumes": [_JSON], "produces": [_JSON],
        "securityDefinitions": {name: {key: scheme[key] for key in ("type", "in", "name", "description")}
                                for name, scheme in schemes.items()},
        "security": openapi["security"], "tags": openapi["tags"],
        "paths": {path: {method: _swagger2_operation(operation) for method, operation in item.items()}
                  for path, item in openapi["paths"].items()},
        "definitions": {name: _swagger2_schema(schema)
                        for name, schema in openapi["components"]["schemas"].items()},
    }


_FORMATS = ("catalogue", "openapi", "swagger2")

_EPILOG = """formats:
  catalogue  (default) every action: manifest fields, self-contained JSON Schemas for forms, and the
             'request' mapping: for each flat input where it goes (path parameter, query parameter
             such as page[size], or JSON pointer in the JSON:API body such as /data/attributes/title)
             and the fixed body parts (data.type...), with the encoding rules and the site URLs.
  openapi    an OpenAPI 3.1 document: real paths, path and query parameters under their API names,
             JSON:API request bodies as JSON Schema, responses with the output schemas, the
             DD-API-KEY / DD-APPLICATION-KEY security schemes, a server per Datadog site and the
             local sandbox, one tag per group, examples.  For importers of OpenAPI 3.1 (Postman,
             Insomnia...); docs/lowcode.md says which builder takes which format.
  swagger2   the same as Swagger 2.0, for builders that import nothing newer (Power Automate and
             Power Apps custom connectors, Logic Apps...): one host, chosen with --site
             (default datadoghq.com; 'sandbox' for dd-cases serve); anyOf becomes x-anyOf and
             nullable x-nullable, which Swagger 2.0 cannot say otherwise.

examples:
  dd-cases export -o catalogue.json
  dd-cases export --format openapi -o datadog-cases.openapi.json
  dd-cases export --format swagger2 --site datadoghq.eu -o datadog-cases.swagger.json
"""


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dd-cases export", epilog=_EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     description="Export every action as one JSON document, for low-code builders, "
                                                 "form renderers and OpenAPI importers (see docs/lowcode.md).")
    parser.add_argument("--format", "-f", choices=_FORMATS, default="catalogue",
                        help="what to write (default: catalogue; see below)")
    parser.add_argument("--site", metavar="SITE",
                        help="with swagger2: the Datadog site whose API host the file names (default "
                             "datadoghq.com), 'sandbox', or a base URL such as https://proxy.example:8443/dd")
    parser.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of stdout")
    parser.add_argument("--compact", action="store_true", help="one line instead of indented JSON")
    args = parser.parse_args(argv)
    if args.site is not None and args.format != "swagger2":
        parser.error("--site chooses the one host of --format swagger2; "
                     f"the {args.format} document lists every site")
    if args.format == "swagger2":
        try:
            document = export_swagger2(args.site or "datadoghq.com")
        except ConfigurationError as exc:
            parser.error(str(exc))
    else:
        document = export_openapi() if args.format == "openapi" else export_catalogue()
    text = json.dumps(document, indent=None if args.compact else 2, ensure_ascii=False,
                      separators=(",", ":") if args.compact else None) + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        (out or sys.stdout).write(text)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
