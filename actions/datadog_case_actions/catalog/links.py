"""Case links: typed relations between cases and other entities."""

from __future__ import annotations

from ..declare import Action

list_case_links = Action("ListCaseLinks")
create_case_link = Action("CreateCaseLink")
delete_case_link = Action("DeleteCaseLink")
