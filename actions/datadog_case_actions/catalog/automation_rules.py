"""Automation rules: actions triggered by case events in a project."""

from __future__ import annotations

from ..declare import Action

list_case_automation_rules = Action("ListCaseAutomationRules")
create_case_automation_rule = Action("CreateCaseAutomationRule")
get_case_automation_rule = Action("GetCaseAutomationRule")
update_case_automation_rule = Action("UpdateCaseAutomationRule")
delete_case_automation_rule = Action("DeleteCaseAutomationRule")
enable_case_automation_rule = Action("EnableCaseAutomationRule", idempotent=True)
disable_case_automation_rule = Action("DisableCaseAutomationRule", idempotent=True)
