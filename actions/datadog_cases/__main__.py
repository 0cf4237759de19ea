"""``python -m actions.datadog_cases``: the dd-cases command."""

from .cli import main

raise SystemExit(main())
