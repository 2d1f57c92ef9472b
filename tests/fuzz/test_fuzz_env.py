"""``.env`` reading: any bytes in the file give settings or ue-magic's ConfigurationError,
within the time budget, and neither the error nor the credentials' repr holds the secret."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.strategies import SECRET, pieces
from ue_magic import Credentials
from ue_magic.errors import UsageEngineError

lines = st.lists(
    st.one_of(
        pieces,
        st.sampled_from(
            [
                f"UE_CLIENT_SECRET={SECRET}",
                f"UE_CLIENT_SECRET='{SECRET}",
                f'export UE_CLIENT_SECRET="{SECRET}"',
                "UE_CLIENT_ID=me",
                "UE_API_URL=http://127.0.0.1:1/",
                "UE_REGION=mars",
                "UE_API_URL=ftp://x",
                "UE_CLIENT_ID",
                "=x",
            ]
        ),
    ),
    max_size=12,
)


@given(lines, st.sampled_from(["\n", "\r\n", "\r"]), st.sampled_from([b"", b"\xef\xbb\xbf"]))
def test_any_env_file(body: list[str], newline: str, bom: bytes) -> None:
    data = bom + newline.join(body).encode("utf-8", "surrogatepass")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ".env"
        path.write_bytes(data)
        try:
            credentials = Credentials.from_env(env_file=path, environ={}, cwd=folder)
        except UsageEngineError as error:
            assert SECRET not in str(error), str(error)
            return
        assert SECRET not in repr(credentials)
