"""Thin doors onto the one runtime: Airflow, Prefect, chat commands, MCP.

Each adapter only translates (credentials in, inputs in, result or error out);
validation, requests, retries and errors all live in ``runtime``.  Each needs
its framework, installed through the matching extra (``[airflow]``,
``[prefect]``, ``[mcp]``); chat needs nothing.
"""
