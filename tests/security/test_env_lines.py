"""Two variables on one .env line, whatever separates them (a space, a tab, ``;``, ``,``) and
whichever comes first: refused in one sentence that names the variable and shows no value, so the
secret never rides inside the client id (shown in errors and reprs, sent to the token endpoint)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ue_magic import Credentials
from ue_magic.errors import ConfigurationError

SECRET = "two-on-a-Line-secret-77"


@pytest.mark.parametrize("separator", [";", ",", " ", "\t"])
def test_env_lines_secret_after_the_client_id_is_refused(tmp_path: Path, separator: str) -> None:
    path = tmp_path / "one.env"
    path.write_text(f"UE_CLIENT_ID=my-id{separator}UE_CLIENT_SECRET={SECRET}\n")
    # a secret set elsewhere: the line's own secret would otherwise ride in the client id
    with pytest.raises(ConfigurationError, match=r"UE_CLIENT_ID .* line of its own") as info:
        Credentials.from_env(env_file=path, environ={"UE_CLIENT_SECRET": "s" * 12})
    assert SECRET not in str(info.value) and info.value.__context__ is None


def test_env_lines_client_id_after_the_secret_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "one.env"
    path.write_text(f"UE_CLIENT_SECRET={SECRET} UE_CLIENT_ID=my-id\n")
    with pytest.raises(ConfigurationError, match=r"UE_CLIENT_SECRET .* line of its own") as info:
        Credentials.from_env(env_file=path, environ={})
    assert SECRET not in str(info.value) and "not set" not in str(info.value)


@pytest.mark.parametrize(
    "line",
    ["UE_CLIENT_ID=my-id", "UE_CLIENT_ID=my_id-01"],
)
def test_env_lines_one_variable_a_line_is_read(tmp_path: Path, line: str) -> None:
    path = tmp_path / "ok.env"
    path.write_text(f"{line}\nUE_CLIENT_SECRET={SECRET} with=space-and-equals\n")
    creds = Credentials.from_env(env_file=path, environ={})
    assert creds.client_id == line.partition("=")[2]
    assert creds.client_secret.get_secret_value() == f"{SECRET} with=space-and-equals"
