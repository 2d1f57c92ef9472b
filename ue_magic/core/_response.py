"""The responses ``UsageEngineClient`` returns: httpx's, with an error message that says why.

``raise_for_status()`` raises httpx's own ``HTTPStatusError`` (so ``except`` clauses written for
httpx still work), with the message the magics show: status, method, path and the API's own
``message`` (``400 Bad Request from POST /usage-metering/v1/meters: meterTypeId is not a
known meter type``), instead of httpx's generic text and a link to MDN.
"""

from __future__ import annotations

import httpx

from ._httpx_private import become

__all__ = ["ApiResponse", "explained"]


class ApiResponse(httpx.Response):
    """An ``httpx.Response`` whose ``raise_for_status()`` message carries the API's reason."""

    def raise_for_status(self) -> httpx.Response:
        try:
            return super().raise_for_status()
        except httpx.HTTPStatusError as error:
            if not self.is_error:  # 1xx/3xx: httpx's words are the right ones
                raise
            from ._media import decode_body
            from .problem import describe_error  # here, not at import: %load_ext stays quick

            try:
                body = decode_body(self)
            except httpx.ResponseNotRead:  # a streamed answer: its body is not at hand
                raise error from None
            raise httpx.HTTPStatusError(
                describe_error(self, body), request=error.request, response=self
            ) from None


def explained(response: httpx.Response) -> httpx.Response:
    """``response`` as an ``ApiResponse`` (the same object: only its class changes)."""
    if type(response) is httpx.Response:
        become(response, ApiResponse)
    return response
