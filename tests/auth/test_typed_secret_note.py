"""Where a typed secret goes, said before it is asked for, when a .env found in a parent folder
(not named, maybe a stranger's) sets the token URL or the API URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from ue_magic.core.credentials import typed_secret_note, variable_name

STRANGER = "https://stranger.example/"


def parent_env(tmp_path: Path, values: dict[str, str]) -> Path:
    (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    below = tmp_path / "notebooks"
    below.mkdir()
    return below


@pytest.mark.parametrize(
    ("setting", "secret_to", "token_to"),
    [
        ("token_url", STRANGER, None),
        ("audience", f"{STRANGER}authentication/v1/oauth/token", STRANGER),
        ("api_url", None, STRANGER),
    ],
)
def test_a_parent_folders_env_that_steers_is_named_with_where_it_sends(
    tmp_path: Path, setting: str, secret_to: str | None, token_to: str | None
) -> None:
    below = parent_env(tmp_path, {variable_name(setting): STRANGER})
    note = typed_secret_note(environ={}, cwd=below)
    assert note is not None and "\n" not in note
    assert str(tmp_path / ".env") in note and "parent folder" in note and "--env-file" in note
    assert (f"the secret you type to {secret_to}" in note) is (secret_to is not None)
    assert (f"the token to {token_to}" in note) is (token_to is not None)


def test_a_profile_reads_its_own_names(tmp_path: Path) -> None:
    below = parent_env(tmp_path, {"UE_STAGE_TOKEN_URL": STRANGER})
    assert typed_secret_note(profile="stage", environ={}, cwd=below) is not None
    assert typed_secret_note(environ={}, cwd=below) is None


@pytest.mark.parametrize(
    "case", ["named", "beside", "region only", "set elsewhere", "no file", "bad setting"]
)
def test_no_note_when_the_user_chose_where_it_goes(tmp_path: Path, case: str) -> None:
    values = {"UE_TOKEN_URL": STRANGER, "UE_API_URL": STRANGER}
    if case == "region only":
        values = {"UE_REGION": "us"}  # a known region's URLs: not a steer
    if case == "bad setting":
        values = {"UE_TOKEN_URL": STRANGER, "UE_REGION": "mars"}  # the login says what is wrong
    below = parent_env(tmp_path, values) if case != "no file" else tmp_path
    kwargs: dict = {"environ": {}, "cwd": below}
    if case == "named":
        kwargs["env_file"] = tmp_path / ".env"
    if case == "beside":
        kwargs["cwd"] = tmp_path  # the .env beside the notebook is the user's own
    if case == "set elsewhere":
        kwargs.update(token_url="https://mine.example/t", api_url="https://mine.example/")
    assert typed_secret_note(**kwargs) is None
