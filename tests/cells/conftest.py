"""The shell most cell tests use: logged in to the sandbox, its counters zeroed after the login."""

from __future__ import annotations

from typing import Any

import pytest
from IPython.utils.capture import capture_output

from ue_magic.sandbox import Sandbox


@pytest.fixture
def shell(ip: Any, sandbox: Sandbox) -> Any:
    with capture_output():
        ip.run_line_magic("ue_login", "")
    sandbox.reset()
    return ip
