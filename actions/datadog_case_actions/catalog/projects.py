"""Projects: the containers cases live in."""

from __future__ import annotations

from ..declare import Action

create_project = Action("CreateProject", examples=({"name": "Operations", "key": "OPS"},))
get_projects = Action("GetProjects")
get_project = Action("GetProject")
update_project = Action("UpdateProject", idempotent=True)
delete_project = Action("DeleteProject")
