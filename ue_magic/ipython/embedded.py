"""The embedded default: a sandbox started inside the kernel, so any notebook runs without an
account (``%ue_login --sandbox``).

The sandbox needs the ``sandbox`` extra (starlette, uvicorn, PyJWT); without it the error is one
sentence that names the install command. Demo data is asked for only when the installed
sandbox's ``start()`` takes ``demo_data``, so this works with sandboxes with and without it.
"""

from __future__ import annotations

import inspect
from typing import Any

from .._extras import install_command
from ..core.credentials import Credentials
from ..errors import ConfigurationError

__all__ = ["credentials_for", "start_sandbox"]


def start_sandbox() -> Any:
    """A running ``ue_magic.sandbox.Sandbox`` on a free loopback port, with demo data when the
    sandbox offers it. Raises ConfigurationError when the ``sandbox`` extra is missing."""
    try:
        from .. import sandbox
    except ImportError as error:
        raise ConfigurationError(
            f"The sandbox needs the 'sandbox' extra ({error.name or 'a package'} is missing): "
            f"run {install_command('sandbox')} and restart the kernel."
        ) from None
    options: dict[str, Any] = {}
    if "demo_data" in inspect.signature(sandbox.start).parameters:
        options["demo_data"] = True
    return sandbox.start(**options)


def credentials_for(running: Any, profile: str | None = None) -> Credentials:
    """Credentials that point at ``running`` (a Sandbox), whatever the environment says."""
    env = running.env()
    return Credentials(
        client_id=running.client_id,
        client_secret=running.client_secret,
        region="eu",
        audience=env["UE_AUDIENCE"],
        api_url=env.get("UE_API_URL", running.api_url),
        token_url=env.get("UE_TOKEN_URL", running.token_url),
        profile=profile,
    )
