"""Automation rules: actions triggered by case events in a project."""

from __future__ import annotations

from ..declare import Action

# The reference's request example fills every member of the trigger's data with the placeholder "string",
# which the allowed values of `change_type` refuse; a case_created rule needs no trigger data at all.
_EXAMPLE_FIX = {"trigger": {"type": "case_created"}}
_EXAMPLE_NOTE = ("The reference's request example sets every trigger-data member to the placeholder \"string\", "
                 "which `change_type` does not allow; the example keeps its case_created rule without trigger data.",)

list_case_automation_rules = Action("ListCaseAutomationRules")
create_case_automation_rule = Action("CreateCaseAutomationRule", example_fix=_EXAMPLE_FIX, notes=_EXAMPLE_NOTE)
get_case_automation_rule = Action("GetCaseAutomationRule")
update_case_automation_rule = Action("UpdateCaseAutomationRule", example_fix=_EXAMPLE_FIX, notes=_EXAMPLE_NOTE)
delete_case_automation_rule = Action("DeleteCaseAutomationRule")
enable_case_automation_rule = Action("EnableCaseAutomationRule", idempotent=True)
disable_case_automation_rule = Action("DisableCaseAutomationRule", idempotent=True)
