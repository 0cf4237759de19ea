"""Maintenance windows: periods during which matching events open no cases."""

from __future__ import annotations

from ..declare import Action

list_maintenance_windows = Action("ListMaintenanceWindows")
create_maintenance_window = Action("CreateMaintenanceWindow")
update_maintenance_window = Action("UpdateMaintenanceWindow")
delete_maintenance_window = Action("DeleteMaintenanceWindow")
