"""Case views: saved searches of a project."""

from __future__ import annotations

from ..declare import Action

list_case_views = Action("ListCaseViews")
create_case_view = Action("CreateCaseView")
get_case_view = Action("GetCaseView")
update_case_view = Action("UpdateCaseView")
delete_case_view = Action("DeleteCaseView")
