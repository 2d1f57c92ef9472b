"""A password in ``UE_TOKEN_URL``'s userinfo is shown as ``***`` in the token endpoint's
messages, "Could not reach the token endpoint" included (break8 L2), and in the token source's
repr."""

from __future__ import annotations

from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

PASSWORD = "pw-ZZPASSZZ-123"


def test_a_password_in_the_token_url_is_never_shown(
    ip: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UE_TOKEN_URL", f"http://me:{PASSWORD}@127.0.0.1:9/oauth/token")
    with capture_output() as captured, pytest.raises(UsageError) as info:
        ip.run_line_magic("ue_login", "")
    said = str(info.value)
    assert "Could not reach the token endpoint http://me:***@127.0.0.1:9/oauth/token" in said
    assert PASSWORD not in said + captured.stdout + captured.stderr


def test_the_token_source_repr_shows_no_password() -> None:
    from ue_magic.core.credentials import Credentials
    from ue_magic.core.token import TokenManager

    url = f"http://me:{PASSWORD}@127.0.0.1:9/oauth/token"
    creds = Credentials("cid", "secret-value-1234", "eu", "aud", "http://127.0.0.1:9/", url)
    manager = TokenManager(creds)
    try:
        assert PASSWORD not in repr(manager) and "me:***@127.0.0.1:9" in repr(manager)
    finally:
        manager.close()
