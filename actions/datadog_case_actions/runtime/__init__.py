"""The runtime: connection and credentials, the one transport, request building, the runner, errors.

Imported lazily by ``datadog_case_actions`` so that listing and describing
actions never pulls in httpx.
"""
