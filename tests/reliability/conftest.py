"""Report how many generated inputs the property-based suite ran, per action, in the session summary."""

from __future__ import annotations

import sys
from typing import Any


def pytest_terminal_summary(terminalreporter: Any) -> None:
    module = next((m for name, m in list(sys.modules.items()) if name.endswith("test_inputs_property")), None)
    if module is None or not module.RUNS:
        return
    valid, invalid = module.RUNS, module.INVALID_RUNS
    terminalreporter.write_sep("-", "property-based inputs")
    terminalreporter.write_line(
        f"{len(valid)} actions: {sum(valid.values())} valid generated inputs "
        f"(per action min {min(valid.values())}, max {max(valid.values())}); "
        f"{sum(invalid.values())} invalid variants (per action min {min(invalid.values(), default=0)}, "
        f"max {max(invalid.values(), default=0)})")
    terminalreporter.write_line(
        "per action (valid/invalid): " + ", ".join(
            f"{a.split('.', 1)[1]} {valid[a]}/{invalid.get(a, 0)}" for a in sorted(valid)))
