"""Case links: typed relations between cases and other entities."""

from __future__ import annotations

from ..declare import Action

# The reference gives these values in prose on the link itself (its `*_entity_type` and `relationship`);
# the list filters take the same values, and a misspelt one would silently match nothing.
_ENTITY_TYPES = ["CASE", "INCIDENT", "PAGE", "AGENT_CONVERSATION"]
_RELATIONSHIPS = ["RELATES_TO", "CAUSES", "BLOCKS", "DUPLICATES", "PARENT_OF", "SUCCESSOR_OF", "ESCALATES_TO"]

list_case_links = Action(
    "ListCaseLinks",
    schema={"entity_type": {"enum": _ENTITY_TYPES}, "relationship": {"enum": _RELATIONSHIPS}},
    notes=("The `entity_type` and `relationship` filters take the values a link's entity types and relationship "
           "allow (the reference lists them in prose for the link, and only gives examples for the filters).",),
)
create_case_link = Action("CreateCaseLink")
delete_case_link = Action("DeleteCaseLink")
