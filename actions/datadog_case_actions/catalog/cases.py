"""Actions on a single case or on the case collection (29 operations)."""

from __future__ import annotations

from ..declare import Action, Effect

_UUID = {"format": "uuid"}
_A_USER = "5f2d7c1e-8b4a-4c3e-9d6f-1a2b3c4d5e6f"  # any user UUID: the live API refuses a non-UUID assignee (400)
_NOT_A_UUID = ("The reference's example gives the user id `\"string\"`, which the live API refuses (400: not a "
               "UUID); the example uses a user UUID instead.")

create_case = Action(
    "CreateCase",
    names={"assignee": "assignee_id", "project": "project_id"},
    required=("project_id",),
    example_fix={"assignee_id": _A_USER},
    notes=("The reference marks `relationships` optional but `project` required inside it: every case belongs "
           "to a project, so `project_id` is required.", _NOT_A_UUID),
    examples=(
        {
            "title": "Checkout latency above SLO",
            "type_id": "00000000-0000-0000-0000-000000000001",
            "project_id": "d4bbe1af-f36e-42f1-87c1-493ca35c320e",
            "priority": "P2",
            "description": "p99 latency of checkout-api is 2.3 s since 14:05 UTC.",
        },
    ),
)
search_cases = Action(
    "SearchCases",
    effect=Effect.READ,
    schema={"page_size": {"minimum": 1, "maximum": 100}, "page_number": {"minimum": 1}},
    pagination={"page": "page_number", "size": "page_size", "items": "data", "first_page": 1, "max_size": 100},
    examples=({"filter": "status:open priority:P1", "page_size": 50, "sort_field": "created_at", "sort_asc": False},),
    notes=("Pages are numbered from 1, as the official SDK's paginator does; page size is at most 100.",),
)
get_case = Action("GetCase")
update_case_title = Action("UpdateCaseTitle", idempotent=True)
update_case_description = Action("UpdateCaseDescription", idempotent=True)
update_status = Action("UpdateStatus", idempotent=True, examples=({"case_id": "CASEM-4523", "status_name": "Closed"},))
update_priority = Action("UpdatePriority", idempotent=True)
assign_case = Action(
    "AssignCase",
    idempotent=True,
    example_fix={"assignee_id": _A_USER},
    notes=(_NOT_A_UUID,),
)
unassign_case = Action("UnassignCase", idempotent=True)
archive_case = Action("ArchiveCase", idempotent=True)
unarchive_case = Action("UnarchiveCase", idempotent=True)
update_attributes = Action("UpdateAttributes", idempotent=True)
comment_case = Action("CommentCase")
update_case_comment = Action("UpdateCaseComment", idempotent=True)
delete_case_comment = Action("DeleteCaseComment")
update_case_custom_attribute = Action(
    "UpdateCaseCustomAttribute",
    idempotent=True,
    example_fix={"type": "TEXT", "value": "eu-west-1"},
    notes=("The reference's request example gives `value` as an object with empty `description` and `type`, "
           "which none of the documented value types allows; the example uses a TEXT attribute with a string value instead.",),
)
delete_case_custom_attribute = Action("DeleteCaseCustomAttribute")
update_case_due_date = Action(
    "UpdateCaseDueDate",
    idempotent=True,
    schema={"due_date": {"type": ["string", "null"], "format": "date"}},
    notes=("due_date is typed as a string but documented as `YYYY-MM-DD`, with null to clear it: "
           "the input accepts a date or null.",),
)
update_case_resolved_reason = Action("UpdateCaseResolvedReason", idempotent=True)
aggregate_cases = Action("AggregateCases", effect=Effect.READ, idempotent=True)
count_cases = Action("CountCases")
bulk_update_cases = Action(
    "BulkUpdateCases",
    names={"type": "action"},
    example_fix={"payload": {"priority": "P2"}},
    examples=({"case_ids": ["CASEM-1", "CASEM-2"], "action": "priority", "payload": {"priority": "P1"}},),
    notes=("The reference's example sends the payload `{\"<any-key>\": \"string\"}` with the `priority` action, "
           "which the API refuses; the example sends a priority instead.",),
)
list_case_timeline = Action(
    "ListCaseTimeline",
    schema={"page_size": {"minimum": 1, "maximum": 100}, "page_number": {"minimum": 0}},
    pagination={"page": "page_number", "size": "page_size", "items": "data", "first_page": 0, "max_size": 100},
    notes=("Pages are numbered from 0 (the reference: \"Zero-based page number\"), unlike search_cases; "
           "`iterate` and `--all-pages` walk them all.",),
)
list_case_watchers = Action("ListCaseWatchers")
watch_case = Action("WatchCase", idempotent=True)
unwatch_case = Action("UnwatchCase", effect=Effect.WRITE)
add_case_insights = Action(
    "AddCaseInsights",
    schema={"insights": {"minItems": 1, "maxItems": 100}},
    notes=("At most 100 insights per request, the API's limit.",),
)
remove_case_insights = Action(
    "RemoveCaseInsights",
    effect=Effect.WRITE,
    schema={"insights": {"minItems": 1, "maxItems": 100}},
    notes=("Removing insights only detaches references, so it is a write, not a destructive action.",),
)
move_case_to_project = Action("MoveCaseToProject", idempotent=True, names={"/data/id": "project_id"})
