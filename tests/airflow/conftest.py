"""The Airflow suite prints what its rate-limited runs measured at the end."""

from tests.rate_limited_server import pytest_terminal_summary  # noqa: F401  (a pytest hook)
