"""Notification rules: who hears about which case events in a project."""

from __future__ import annotations

from ..declare import Action

get_project_notification_rules = Action("GetProjectNotificationRules")
create_project_notification_rule = Action("CreateProjectNotificationRule")
update_project_notification_rule = Action("UpdateProjectNotificationRule")
delete_project_notification_rule = Action("DeleteProjectNotificationRule")
