"""A server that echoes the token in a cookie's attributes (issue 22, tenth attack): its path,
a comment, an attribute the jar does not know. The client's jar keeps no such cookie."""

from __future__ import annotations

import socket

import pytest

from tests.security.reach import find, secret_forms
from tests.security.servers import TOKEN_PATH, Seen, answer, serving, token_answer
from tests.security.test_answer_limits import creds_for
from ue_magic import UsageEngineClient
from ue_magic.core.token import _Token

TOKEN = "tok-" + "c" * 40

ATTRIBUTES = {
    "path": "Path=/x/{}",
    "comment": "Comment={}",
    "unknown value": "X-Echo={}",
    "unknown name": "{}=1",
    "quoted": 'Comment="seen {}"',
}


@pytest.mark.parametrize("attribute", list(ATTRIBUTES))
def test_a_cookie_that_holds_the_token_in_an_attribute_is_dropped(attribute: str) -> None:
    def respond(seen: Seen, conn: socket.socket) -> None:
        if seen.target == TOKEN_PATH:
            token_answer(conn, TOKEN)
            return
        token = seen.headers.get("authorization", "").rpartition(" ")[2]
        cookie = "sid=1; " + ATTRIBUTES[attribute].format(token)
        answer(conn, 200, {"ok": True}, (("Set-Cookie", cookie), ("Set-Cookie", "kept=1; Path=/")))

    with serving(respond) as server, UsageEngineClient(creds_for(server)) as ue:
        ue.get("cookie")
        jar = ue._http.cookies.jar
        assert [cookie.name for cookie in jar] == ["kept"]  # the other was stored, and dropped
        found, _ = find({"client": ue}, {"token": secret_forms(TOKEN)}, (_Token,))
        assert found == []
