"""Airflow 3 provider: a hook, an operator that runs any action, and a TaskFlow helper.

Importing this package does not import Airflow: ``get_provider_info`` (the
``apache_airflow_provider`` entry point) must stay cheap and must work in an
environment without Airflow.  The hook and operator live in submodules.

    from datadog_case_actions.adapters.airflow.operators import DatadogCaseActionOperator
    from datadog_case_actions.adapters.airflow.hooks import DatadogCasesHook
    from datadog_case_actions.adapters.airflow.decorators import case_task
    from datadog_case_actions.adapters.airflow.triggers import RateLimitResetTrigger
"""

from __future__ import annotations

from typing import Any

from ... import __version__

__all__ = ["get_provider_info", "CONN_TYPE", "DEFAULT_CONN_ID"]

CONN_TYPE = "datadog_case_actions"
DEFAULT_CONN_ID = "datadog_case_actions_default"
_HOOK = "datadog_case_actions.adapters.airflow.hooks.DatadogCasesHook"


def get_provider_info() -> dict[str, Any]:
    """Provider metadata read by Airflow's providers manager."""
    return {
        "package-name": "datadog-case-actions",
        "name": "Datadog Case Management actions",
        "description": "Every Datadog Case Management API operation as an Airflow task: one operator "
                       "runs any of the 75 actions by id, with validated, templated inputs.",
        "versions": [__version__],
        "integrations": [{"integration-name": "Datadog Case Management",
                          "external-doc-url": "https://docs.datadoghq.com/api/latest/case-management/",
                          "tags": ["service"]}],
        "hooks": [{"integration-name": "Datadog Case Management",
                   "python-modules": ["datadog_case_actions.adapters.airflow.hooks"]}],
        "operators": [{"integration-name": "Datadog Case Management",
                       "python-modules": ["datadog_case_actions.adapters.airflow.operators"]}],
        "connection-types": [{
            "connection-type": CONN_TYPE,
            "hook-class-name": _HOOK,
            "hook-name": "Datadog Case Management",
            # Airflow 3.2+ renders these without importing the hook.
            "conn-fields": {
                "app_key": {"label": "Application key", "description": "Datadog application key",
                            "schema": {"type": ["string", "null"], "format": "password"}},
                "access_token": {"label": "OAuth access token",
                                 "description": "Instead of the API and application keys",
                                 "schema": {"type": ["string", "null"], "format": "password"}},
                "site": {"label": "Site", "description": "datadoghq.com, datadoghq.eu, us5.datadoghq.com... "
                                                         "or 'sandbox' for the embedded sandbox",
                         "schema": {"type": ["string", "null"]}},
                "max_attempts": {"label": "Attempts per call",
                                 "description": "HTTP attempts per call (4); 429 waits never count as failures",
                                 "schema": {"type": ["integer", "null"], "minimum": 1}},
                "max_rate_limit_wait": {"label": "Longest rate-limit wait on a worker (s)",
                                        "description": "A 429 asking for longer defers the task (60)",
                                        "schema": {"type": ["number", "null"], "minimum": 0}},
                "max_concurrency": {"label": "Concurrent calls per runner",
                                    "description": "Across workers, use an Airflow pool",
                                    "schema": {"type": ["integer", "null"], "minimum": 1}},
            },
            "ui-field-behaviour": {
                "hidden-fields": ["schema", "login", "port"],
                "relabeling": {"password": "API key", "host": "API URL (optional, overrides the site)"},
                "placeholders": {"host": "https://api.datadoghq.com", "site": "datadoghq.com"},
            },
        }],
        "triggers": [{"integration-name": "Datadog Case Management",
                      "python-modules": ["datadog_case_actions.adapters.airflow.triggers"]}],
        "task-decorators": [],
    }
