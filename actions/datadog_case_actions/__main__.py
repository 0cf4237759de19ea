"""``python -m datadog_case_actions``: the dd-cases command."""

from .cli import main

raise SystemExit(main())
