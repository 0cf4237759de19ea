"""Project favorites of the calling user."""

from __future__ import annotations

from ..declare import Action, Effect

list_user_case_project_favorites = Action("ListUserCaseProjectFavorites")
favorite_case_project = Action("FavoriteCaseProject", idempotent=True)
unfavorite_case_project = Action(
    "UnfavoriteCaseProject",
    effect=Effect.WRITE,
    notes=("Unfavoriting only changes the caller's list of favorites, so it is a write, not a destructive action.",),
)
