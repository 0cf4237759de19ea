"""Case types: the kinds of case (Standard, Security…) a case's ``type_id`` names.

Not in the seed reference: these come from the live API's "Case Management
Type" pages (see ``case-types-and-attributes.md``).  ``create_case`` needs a
``type_id``, and ``get_all_case_types`` is the only way to list them.
"""

from __future__ import annotations

from ..declare import Action

#: the built-in "Standard" case type, present in every organisation
STANDARD_TYPE_ID = "00000000-0000-0000-0000-000000000001"

_READ_ONLY = ("`deleted_at` is read-only: the reference lists it in the request only because the request and "
              "response share one schema; leave it out.",)

get_all_case_types = Action(
    "GetAllCaseTypes",
    notes=("Deleted case types stay in the list with `deleted_at` set (a soft delete, as the live API answers); "
           f"the built-in Standard type is `{STANDARD_TYPE_ID}`.",),
)
create_case_type = Action(
    "CreateCaseType",
    idempotent=False,
    notes=(*_READ_ONLY, "`emoji` must be a real emoji: the live API answers 400 for other text."),
    examples=({"name": "Security investigation", "description": "Investigations run by the SOC", "emoji": "🛡️"},),
)
update_case_type = Action("UpdateCaseType", notes=_READ_ONLY)
delete_case_type = Action(
    "DeleteCaseType",
    notes=("A soft delete: the type stays listed with `deleted_at` set, and deleting it again answers 204 again "
           "(live), so repeating the call is safe.",),
)
