"""Credentials: precedence of the sources, profiles, defaults, clear errors, a secret that hides."""

from __future__ import annotations

import copy
import os
import pickle
import string
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ue_magic.core.credentials import REGIONS, TOKEN_PATH, Credentials, Secret, variable_name
from ue_magic.errors import ConfigurationError, MissingCredentialsError

SECRET = "s3cr3t-VALUE-xyz"
BASE = {"UE_CLIENT_ID": "cid", "UE_CLIENT_SECRET": SECRET}


def write_env(folder: Path, values: dict[str, str], name: str = ".env") -> Path:
    path = folder / name
    path.write_text("".join(f"{key}='{value}'\n" for key, value in values.items()))
    return path


# -- Secret ---------------------------------------------------------------------------------------
def test_secret_hides_its_value_everywhere_it_could_be_shown() -> None:
    secret = Secret(SECRET)
    shown = [
        repr(secret),
        str(secret),
        f"{secret}",
        f"{secret!r}",
        f"{secret}",
        f"{[secret]}",
    ]
    assert all(SECRET not in text for text in shown)
    assert repr(secret) == "Secret('**********')"
    assert secret.get_secret_value() == SECRET


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_secret_refuses_pickling(protocol: int) -> None:
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(Secret(SECRET), protocol=protocol)


def test_credentials_refuse_pickling_and_hide_the_secret_in_repr() -> None:
    creds = Credentials.from_env(environ=BASE, cwd=tempfile.gettempdir())
    assert SECRET not in repr(creds) and SECRET not in str(creds)
    with pytest.raises(TypeError):
        pickle.dumps(creds)


@pytest.mark.parametrize(
    ("left", "right", "equal"),
    [("a", "a", True), ("a", "b", False), ("", "", True), ("abc", "abcd", False)],
)
def test_secret_equality_and_truth(left: str, right: str, equal: bool) -> None:
    assert (Secret(left) == Secret(right)) is equal
    assert bool(Secret(left)) is bool(left)
    assert Secret(left) != left  # never equal to the plain string: no accidental comparisons


def test_secret_copies_are_the_same_object_and_it_is_immutable() -> None:
    secret = Secret(SECRET)
    assert copy.copy(secret) is secret and copy.deepcopy(secret) is secret
    with pytest.raises(AttributeError):
        secret._value = "other"  # type: ignore[misc]


# -- defaults and derived settings ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("env", "audience", "api_url", "token_url"),
    [
        ({}, REGIONS["eu"], REGIONS["eu"], REGIONS["eu"] + TOKEN_PATH),
        ({"UE_REGION": "us"}, REGIONS["us"], REGIONS["us"], REGIONS["us"] + TOKEN_PATH),
        ({"UE_REGION": "US"}, REGIONS["us"], REGIONS["us"], REGIONS["us"] + TOKEN_PATH),
        (
            {"UE_AUDIENCE": "https://x.example/"},
            "https://x.example/",
            "https://x.example/",
            "https://x.example/" + TOKEN_PATH,
        ),
        (  # kept exactly as given: no slash added to the audience itself
            {"UE_AUDIENCE": "https://x.example"},
            "https://x.example",
            "https://x.example",
            "https://x.example/" + TOKEN_PATH,
        ),
        (
            {"UE_AUDIENCE": "https://a.example/", "UE_API_URL": "https://b.example/v/"},
            "https://a.example/",
            "https://b.example/v/",
            "https://a.example/" + TOKEN_PATH,
        ),
        (
            {"UE_TOKEN_URL": "https://auth.example/t"},
            REGIONS["eu"],
            REGIONS["eu"],
            "https://auth.example/t",
        ),
        (
            {"UE_AUDIENCE": "http://127.0.0.1:8787/"},
            "http://127.0.0.1:8787/",
            "http://127.0.0.1:8787/",
            "http://127.0.0.1:8787/" + TOKEN_PATH,
        ),
        (
            {"UE_AUDIENCE": "http://localhost:1/"},
            "http://localhost:1/",
            "http://localhost:1/",
            "http://localhost:1/" + TOKEN_PATH,
        ),
        (
            {"UE_AUDIENCE": "http://[::1]:1/"},
            "http://[::1]:1/",
            "http://[::1]:1/",
            "http://[::1]:1/" + TOKEN_PATH,
        ),
    ],
)
def test_defaults_and_derived_urls(
    env: dict[str, str], audience: str, api_url: str, token_url: str, tmp_path: Path
) -> None:
    creds = Credentials.from_env(environ={**BASE, **env}, cwd=tmp_path)
    assert (creds.audience, creds.api_url, creds.token_url) == (audience, api_url, token_url)
    assert creds.scope is None and creds.env_file is None


def test_env_file_is_found_upwards_and_never_copied_into_os_environ(tmp_path: Path) -> None:
    name = "UE_CLIENT_ID_NOT_IN_OS_ENVIRON_TEST"
    path = write_env(tmp_path, {"UE_CLIENT_ID": "from-file", "UE_CLIENT_SECRET": SECRET})
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    before = dict(os.environ)
    creds = Credentials.from_env(environ={}, cwd=deep)
    assert creds.client_id == "from-file"
    assert creds.client_secret.get_secret_value() == SECRET
    assert creds.env_file == str(path)
    assert dict(os.environ) == before and name not in os.environ


def test_explicit_env_file_relative_to_cwd(tmp_path: Path) -> None:
    write_env(tmp_path, {"UE_CLIENT_ID": "x", "UE_CLIENT_SECRET": "y"}, name="my.env")
    creds = Credentials.from_env("my.env", environ={}, cwd=tmp_path)
    assert creds.client_id == "x" and creds.env_file == str(tmp_path / "my.env")


def test_overrides_of_none_mean_not_given(tmp_path: Path) -> None:
    creds = Credentials.from_env(environ=BASE, cwd=tmp_path, region=None, scope=None)
    assert creds.region == "eu" and creds.scope is None


def test_a_secret_object_is_accepted_as_override(tmp_path: Path) -> None:
    creds = Credentials.from_env(environ={}, cwd=tmp_path, client_id="c", client_secret=Secret("z"))
    assert creds.client_secret == Secret("z")


# -- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("env", "profile", "missing"),
    [
        ({}, None, ("UE_CLIENT_ID", "UE_CLIENT_SECRET")),
        ({"UE_CLIENT_ID": "x"}, None, ("UE_CLIENT_SECRET",)),
        ({"UE_CLIENT_SECRET": "x"}, None, ("UE_CLIENT_ID",)),
        ({"UE_CLIENT_ID": "  "}, None, ("UE_CLIENT_ID", "UE_CLIENT_SECRET")),
        (BASE, "stage-2", ("UE_STAGE_2_CLIENT_ID", "UE_STAGE_2_CLIENT_SECRET")),
    ],
)
def test_missing_credentials_name_the_variables_and_where_we_looked(
    env: dict[str, str], profile: str | None, missing: tuple[str, ...], tmp_path: Path
) -> None:
    with pytest.raises(MissingCredentialsError) as info:
        Credentials.from_env(environ=env, cwd=tmp_path, profile=profile)
    assert info.value.missing == missing
    message = str(info.value)
    assert all(name in message for name in missing)
    assert "environment" in message and str(tmp_path) in message


def test_missing_credentials_message_names_the_env_file_read(tmp_path: Path) -> None:
    path = write_env(tmp_path, {"UE_CLIENT_ID": "x"})
    with pytest.raises(MissingCredentialsError, match="UE_CLIENT_SECRET") as info:
        Credentials.from_env(environ={}, cwd=tmp_path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("plain", "said"),
    [
        (
            BASE,
            "the file has UE_CLIENT_ID and UE_CLIENT_SECRET, which profile p0 does not read: "
            "write them there as UE_P0_CLIENT_ID and UE_P0_CLIENT_SECRET",
        ),
        (
            {"UE_CLIENT_SECRET": SECRET, "UE_P0_CLIENT_ID": "cid"},
            "the file has UE_CLIENT_SECRET, which profile p0 does not read: write it there as "
            "UE_P0_CLIENT_SECRET",
        ),
    ],
)
def test_a_profile_over_a_file_of_plain_names_says_how_to_name_them(
    tmp_path: Path, plain: dict[str, str], said: str
) -> None:
    """As ``ue-sandbox --env-file`` writes it: UE_CLIENT_ID, not the profile's UE_P0_CLIENT_ID."""
    path = write_env(tmp_path, plain, name="sandbox.env")
    with pytest.raises(MissingCredentialsError) as info:
        Credentials.from_env(env_file=path, profile="p0", environ={})
    assert said in str(info.value) and said in info.value.looked_in
    assert SECRET not in str(info.value)
    with pytest.raises(MissingCredentialsError) as without_profile:  # no profile: no such hint
        Credentials.from_env(env_file=write_env(tmp_path, {}, name="none.env"), environ={})
    assert "does not read" not in str(without_profile.value)


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"UE_REGION": "mars"}, ["'mars'", "UE_REGION", "eu", "us"]),
        ({"UE_API_URL": "ftp://x.example/"}, ["UE_API_URL", "ftp://x.example/", "http(s)"]),
        ({"UE_API_URL": "http://x.example/"}, ["UE_API_URL", "plain http", "loopback"]),
        ({"UE_TOKEN_URL": "http://10.0.0.1/t"}, ["UE_TOKEN_URL", "plain http"]),
        ({"UE_AUDIENCE": "http://x.example/"}, ["UE_AUDIENCE", "plain http"]),
        ({"UE_AUDIENCE": "urn:thing"}, ["UE_AUDIENCE", "http(s)"]),
        ({"UE_API_URL": "not a url"}, ["UE_API_URL"]),
        ({"UE_API_URL": "https://"}, ["UE_API_URL"]),
    ],
)
def test_bad_settings_give_a_clear_error(
    env: dict[str, str], names: list[str], tmp_path: Path
) -> None:
    with pytest.raises(ConfigurationError) as info:
        Credentials.from_env(environ={**BASE, **env}, cwd=tmp_path)
    assert not isinstance(info.value, MissingCredentialsError)
    for name in names:
        assert name in str(info.value)
    assert SECRET not in str(info.value)


def test_env_file_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.env"
    with pytest.raises(ConfigurationError, match="does not exist") as info:
        Credentials.from_env(missing, environ=BASE, cwd=tmp_path)
    assert str(missing) in str(info.value)


def test_env_file_that_is_a_folder_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="is a folder; name the file in it") as info:
        Credentials.from_env(env_file=tmp_path, environ=BASE)
    assert "does not exist" not in str(info.value) and str(tmp_path / ".env") in str(info.value)


@pytest.mark.parametrize("profile", ["", "a b", "../x", "x;y", "-x"])
def test_bad_profile_names_are_refused(profile: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="profile"):
        Credentials.from_env(environ=BASE, cwd=tmp_path, profile=profile)


def test_unknown_override_is_a_type_error(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="client_sekret"):
        Credentials.from_env(environ=BASE, cwd=tmp_path, client_sekret="x")


def test_direct_construction_validates_and_wraps_the_secret() -> None:
    creds = Credentials("c", SECRET, "eu", "a", "https://x.example/", "https://x.example/t")  # type: ignore[arg-type]
    assert isinstance(creds.client_secret, Secret)
    with pytest.raises(ConfigurationError):
        Credentials("c", Secret(SECRET), "eu", "a", "http://x.example/", "https://x.example/t")


# -- precedence, for random values and profiles ---------------------------------------------------
TEXT = st.text(alphabet=string.ascii_letters + string.digits + "-_.~", min_size=1, max_size=12)
HOST = st.from_regex(r"[a-z]{1,10}\.example", fullmatch=True)
URL = st.builds(
    lambda host, path: f"https://{host}/{path}", HOST, st.from_regex(r"[a-z/]{0,8}", fullmatch=True)
)
STRATEGIES = {
    "client_id": TEXT,
    "client_secret": TEXT,
    "region": st.sampled_from(["eu", "us", "EU", "Us"]),
    "audience": URL,
    "api_url": URL,
    "token_url": URL,
    "scope": TEXT,
}
SOURCE = st.sampled_from(["override", "environ", "file", "absent"])


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[str | None, dict[str, dict[str, str]]]:
    """A profile and, for each setting, a value in some of the three sources."""
    profile = draw(st.none() | st.from_regex(r"[a-zA-Z][a-zA-Z0-9_-]{0,6}", fullmatch=True))
    table: dict[str, dict[str, str]] = {}
    for setting, values in STRATEGIES.items():
        present = draw(st.sets(st.sampled_from(["override", "environ", "file"])))
        if setting in ("client_id", "client_secret"):
            present.add(draw(st.sampled_from(["override", "environ", "file"])))
        table[setting] = {source: draw(values) for source in present}
    return profile, table


@pytest.mark.parametrize("setting", ["token_url", "api_url", "audience"])
def test_a_found_env_file_cannot_steer_a_secret_from_the_environment(
    tmp_path: Path, setting: str
) -> None:
    value = "https://stranger.example/"
    write_env(tmp_path, {variable_name(setting): value})  # a stranger's, one folder up
    below = tmp_path / "notebooks"
    below.mkdir()
    environ = {"UE_CLIENT_ID": "mine", "UE_CLIENT_SECRET": "s3cret-of-mine"}
    with pytest.raises(ConfigurationError) as refused:
        Credentials.from_env(environ=environ, cwd=below)
    message = str(refused.value)
    assert variable_name(setting) in message and str(tmp_path / ".env") in message
    assert "s3cret-of-mine" not in message
    named = Credentials.from_env(environ=environ, cwd=below, env_file=tmp_path / ".env")
    assert named.client_id == "mine"  # a file the user names is theirs
    both = {**environ, variable_name(setting): value}  # or all of it in one place
    assert Credentials.from_env(environ=both, cwd=below).client_id == "mine"


def test_a_found_env_file_may_pick_the_region(tmp_path: Path) -> None:
    write_env(tmp_path, {"UE_REGION": "us"})  # one of the known regions' URLs: not a steer
    creds = Credentials.from_env(
        environ={"UE_CLIENT_ID": "a", "UE_CLIENT_SECRET": "b"}, cwd=tmp_path
    )
    assert creds.region == "us"


def test_a_found_env_file_may_hold_the_secret_and_the_urls(tmp_path: Path) -> None:
    write_env(tmp_path, {"UE_CLIENT_SECRET": "s", "UE_API_URL": "https://api.example/"})
    creds = Credentials.from_env(environ={"UE_CLIENT_ID": "mine"}, cwd=tmp_path)
    assert creds.api_url == "https://api.example/"


@settings(max_examples=150, deadline=None)
@given(scenarios(), TEXT)
def test_precedence_overrides_then_environ_then_file_then_defaults(
    scenario: tuple[str | None, dict[str, dict[str, str]]], decoy: str
) -> None:
    profile, table = scenario
    overrides = {s: v["override"] for s, v in table.items() if "override" in v}
    environ = {variable_name(s, profile): v["environ"] for s, v in table.items() if "environ" in v}
    in_file = {variable_name(s, profile): v["file"] for s, v in table.items() if "file" in v}
    if profile is not None:  # the plain variables must not leak into a profile
        environ.update({variable_name(s): decoy for s in ("client_id", "client_secret", "scope")})
    with tempfile.TemporaryDirectory() as folder:
        write_env(Path(folder), in_file)
        named = Path(folder) / ".env"  # named: its URLs may steer a secret from the environment
        creds = Credentials.from_env(
            profile=profile, environ=environ, cwd=folder, env_file=named, **overrides
        )

    def expected(setting: str) -> str | None:
        found = table[setting]
        for source in ("override", "environ", "file"):
            if source in found:
                return found[source]
        return None

    region = (expected("region") or "eu").lower()
    audience = expected("audience") or REGIONS[region]
    base = audience if audience.endswith("/") else audience + "/"
    assert creds.client_id == expected("client_id")
    assert creds.client_secret.get_secret_value() == expected("client_secret")
    assert creds.region == region
    assert creds.audience == audience
    assert creds.api_url == (expected("api_url") or audience)
    assert creds.token_url == (expected("token_url") or base + TOKEN_PATH)
    assert creds.scope == expected("scope")
    assert creds.profile == profile


@pytest.mark.parametrize("where", ["environ", "override", "file"])
def test_a_verbose_traceback_shows_no_secret_in_our_frames(where: str, tmp_path: Path) -> None:
    """IPython's %xmode Verbose prints every frame's locals: ours hold only masked secrets."""
    environ = {"UE_CLIENT_ID": "cid", "UE_REGION": "mars"}
    overrides: dict[str, str] = {}
    if where == "environ":
        environ["UE_CLIENT_SECRET"] = SECRET
    elif where == "override":
        overrides["client_secret"] = SECRET
    else:
        write_env(tmp_path, {"UE_CLIENT_SECRET": SECRET})
    with pytest.raises(ConfigurationError) as info:
        Credentials.from_env(environ=environ, cwd=tmp_path, **overrides)
    tb, shown = info.value.__traceback__, []
    while tb is not None:
        if "ue_magic" in tb.tb_frame.f_code.co_filename:
            shown += [repr(value) for value in tb.tb_frame.f_locals.values()]
        tb = tb.tb_next
    assert shown and not [text for text in shown if SECRET in text]


# -- no frame holds the plain secret --------------------------------------------------------------
def secret_in_frames(error: BaseException, secret: str) -> list[str]:
    """Every frame below the test whose locals show ``secret``, as %xmode Verbose prints them."""
    found = []
    tb = error.__traceback__
    tb = tb and tb.tb_next  # the first frame is the test's own
    while tb is not None:
        frame = tb.tb_frame
        found += [
            f"{frame.f_code.co_name}.{name}"
            for name, value in frame.f_locals.items()
            if secret in repr(value)
        ]
        tb = tb.tb_next
    return found


GOOD = {
    "client_id": "c",
    "region": "eu",
    "audience": "a",
    "api_url": "https://x.example/",
    "token_url": "https://x.example/t",
}


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"api_url": "http://example.com/"}, ConfigurationError),
        ({"token_url": "http://example.com/t"}, ConfigurationError),
        ({"api_url": "not a url"}, ConfigurationError),
        ({"token_url": "ftp://x.example/t"}, ConfigurationError),
    ],
)
@pytest.mark.parametrize("wrapped", [False, True])
@pytest.mark.parametrize("positional", [False, True])
def test_direct_construction_keeps_the_plain_secret_out_of_every_frame(
    changes: dict[str, str], error: type[Exception], wrapped: bool, positional: bool
) -> None:
    settings = {**GOOD, **changes}
    secret: str | Secret = Secret(SECRET) if wrapped else SECRET
    with pytest.raises(error) as info:
        if positional:
            Credentials(
                settings["client_id"],
                secret,
                settings["region"],
                settings["audience"],
                settings["api_url"],
                settings["token_url"],
            )
        else:
            Credentials(client_secret=secret, **settings)
    assert not secret_in_frames(info.value, SECRET)
    assert SECRET not in str(info.value) and info.value.__context__ is None


@pytest.mark.parametrize("value", [SECRET.encode(), bytearray(SECRET.encode()), None, 42])
def test_a_secret_that_is_not_text_is_refused_without_showing_it(value: object) -> None:
    with pytest.raises(TypeError, match="client_secret must be a str or a Secret") as info:
        Credentials(client_secret=value, **GOOD)  # type: ignore[arg-type]
    assert not secret_in_frames(info.value, SECRET)
    with pytest.raises(TypeError, match="Secret takes a str") as info:
        Secret(value)  # type: ignore[arg-type]
    assert not secret_in_frames(info.value, SECRET)


def test_credentials_still_behave_like_a_frozen_dataclass() -> None:
    import dataclasses

    creds = Credentials(client_secret=SECRET, **GOOD)
    assert dataclasses.replace(creds) == creds
    assert dataclasses.replace(creds, scope="s").scope == "s"
    assert [f.name for f in dataclasses.fields(creds)][:2] == ["client_id", "client_secret"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        creds.client_id = "other"  # type: ignore[misc]
    with pytest.raises(ConfigurationError):
        dataclasses.replace(creds, api_url="http://example.com/")
