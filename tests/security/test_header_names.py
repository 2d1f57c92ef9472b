"""A server that echoes the token in a header's name, or split across two headers (issue 22,
tenth attack): the kept answer's headers hold no token."""

from __future__ import annotations

import socket

import pytest

from tests.security.reach import find, secret_forms
from tests.security.servers import TOKEN_PATH, Seen, answer, serving, token_answer
from tests.security.test_answer_limits import creds_for
from ue_magic import UsageEngineClient
from ue_magic.core.token import _Token

TOKEN = "tok.ZZTOKENZZ.0123456789abcdef"


def headers_of(shape: str, token: str) -> tuple[tuple[str, str], ...]:
    if shape == "name":
        return ((f"x-{token}", "1"), ("x-other", "fine"))
    return (("x-auth-1", token[:14]), ("x-auth-2", token[14:]), ("x-other", "fine"))


@pytest.mark.parametrize("shape", ["name", "split"])
def test_a_token_in_a_header_name_or_across_headers_is_not_kept(shape: str) -> None:
    def respond(seen: Seen, conn: socket.socket) -> None:
        if seen.target == TOKEN_PATH:
            token_answer(conn, TOKEN)
            return
        token = seen.headers.get("authorization", "").rpartition(" ")[2]
        answer(conn, 200, {"ok": True}, headers_of(shape, token))

    with serving(respond) as server, UsageEngineClient(creds_for(server)) as ue:
        response = ue.get("x")
        found, _ = find({"response": response}, {"token": secret_forms(TOKEN)}, (_Token,))
        assert found == []
        assert "ZZTOK" not in str(response.headers.multi_items())
        assert response.headers["x-other"] == "fine" and response.json() == {"ok": True}
