"""The runtime: connection and credentials, the one transport, request building, the runner, errors.

Imported lazily by ``actions.datadog_cases`` so that listing and describing
actions never pulls in httpx.
"""
