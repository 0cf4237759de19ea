"""Custom attribute configurations: which custom attributes the cases of a case type accept.

Not in the seed reference: these come from the live API's "Case Management
Attribute" pages (see ``case-types-and-attributes.md``).  A case takes a value
for a custom attribute (``update_case_custom_attribute``) only when its case
type has a config with that ``key``.
"""

from __future__ import annotations

from ..declare import Action
from .case_types import STANDARD_TYPE_ID

get_all_custom_attributes = Action(
    "GetAllCustomAttributes",
    notes=("Lists the configs of every case type, including soft-deleted ones (live).",),
)
get_all_custom_attribute_configs_by_case_type = Action(
    "GetAllCustomAttributeConfigsByCaseType",
    examples=({"case_type_id": STANDARD_TYPE_ID},),
)
create_custom_attribute_config = Action(
    "CreateCustomAttributeConfig",
    idempotent=False,
    notes=("SELECT options cannot be given on creation (the create schema has no `type_data`): "
           "set them with `update_custom_attribute_config`.",),
    examples=({"case_type_id": STANDARD_TYPE_ID, "key": "aws_region", "display_name": "AWS region",
               "type": "TEXT", "is_multi": False, "description": "Region the case is about"},),
)
update_custom_attribute_config = Action(
    "UpdateCustomAttributeConfig",
    notes=("`key` and `is_multi` cannot be changed; only the attributes sent are changed.",),
)
delete_custom_attribute_config = Action("DeleteCustomAttributeConfig")
