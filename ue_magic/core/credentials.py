"""Where the client id, secret, audience and URLs come from.

Precedence, highest first: explicit arguments, the process environment, a ``.env`` file (read
with python-dotenv's ``dotenv_values``, never copied into ``os.environ``), the region's defaults.
A profile ``NAME`` reads ``UE_NAME_CLIENT_ID`` and so on, and only those: falling back to the plain
``UE_*`` variables could send one tenant's secret to another tenant's token endpoint.
"""

from __future__ import annotations

import dataclasses
import hmac
import io
import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import httpx
from dotenv import dotenv_values

from ..errors import ConfigurationError, MissingCredentialsError

__all__ = [
    "DEFAULT_REGION",
    "REGIONS",
    "TOKEN_PATH",
    "Credentials",
    "Secret",
    "is_loopback_host",
    "origin_of",
    "typed_secret_note",
    "variable_name",
]

REGIONS: Mapping[str, str] = {
    "eu": "https://api.digitalroute.io/",
    "us": "https://api.us.digitalroute.io/",
}
DEFAULT_REGION = "eu"
TOKEN_PATH = "authentication/v1/oauth/token"

# setting name -> variable suffix; the order is the order of the fields in messages
_SETTINGS = {
    "client_id": "CLIENT_ID",
    "client_secret": "CLIENT_SECRET",
    "region": "REGION",
    "audience": "AUDIENCE",
    "api_url": "API_URL",
    "token_url": "TOKEN_URL",
    "scope": "SCOPE",
    "openapi": "OPENAPI",
}
_DEFAULT_PORTS = {"http": 80, "https": 443}
_PROFILE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
# "UE_CLIENT_ID=id UE_CLIENT_SECRET=s" on one line: the id's value holds the secret's assignment
_HOLDS_ANOTHER = re.compile(r"\s[A-Za-z_][A-Za-z0-9_]*\s*=")
# one of ours after any separator (``;``, ``,``, a space): checked in the secret's value too
_HOLDS_OURS = re.compile(r"(?:^|[^A-Za-z0-9_])UE_[A-Za-z0-9_]*\s*=")


class Secret:
    """A string that never shows itself: repr, str, format and pickling hide or refuse it.

    Why: a secret that reaches a notebook output, a log line or a traceback's locals is leaked
    for good, and a pickled object may end up in a file.
    """

    __slots__ = ("_value",)
    _value: str

    def __init__(self, value: str | Secret) -> None:
        if isinstance(value, Secret):
            value = value.get_secret_value()
        if not isinstance(value, str):
            kind = type(value).__name__
            del value  # bytes may be the secret: keep it out of this frame's locals
            raise TypeError(f"Secret takes a str, not {kind}")
        object.__setattr__(self, "_value", value)

    def get_secret_value(self) -> str:
        """The plain value; call it only where the value is sent, never to show it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __len__(self) -> int:
        return len(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Secret is immutable")

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Secret:
        return self

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        raise TypeError("a Secret cannot be pickled: store the secret in .env or a vault instead")

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret cannot be pickled: store the secret in .env or a vault instead")

    def __getstate__(self) -> NoReturn:
        raise TypeError("a Secret cannot be pickled: store the secret in .env or a vault instead")


def variable_name(setting: str, profile: str | None = None) -> str:
    """The environment variable of a setting, e.g. ``UE_STAGING_CLIENT_ID``."""
    return _prefix(profile) + _SETTINGS[setting]


def _prefix(profile: str | None) -> str:
    if profile is None:
        return "UE_"
    return "UE_" + profile.upper().replace("-", "_") + "_"


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback addresses, where plain http cannot be sniffed."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def without_password(url: str | httpx.URL) -> str:
    """A URL as ue-magic shows it: a password in its userinfo as ``***``
    (``https://me:***@host/``), in the login line, ``%ue_status``, ``--curl``, ``--dry-run``
    and messages."""
    text = str(url)
    scheme, sep, rest = text.partition("://")
    if not sep:
        return text
    end = min((i for i in map(rest.find, "/?#") if i >= 0), default=len(rest))
    userinfo, at, host = rest[:end].rpartition("@")
    user, colon, _password = userinfo.partition(":")
    if not (at and colon):
        return text
    return f"{scheme}://{user}:***@{host}{rest[end:]}"


def origin_of(url: httpx.URL) -> tuple[str, str, int | None]:
    """Scheme, host and port (the default one filled in): what "same origin" compares."""
    return (url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme))


def check_url(url: str, what: str, source: str | None = None) -> httpx.URL:
    """Parse ``url`` and refuse anything but https, or http to loopback.

    ``what`` names the setting ("The token URL") and ``source`` says where it came from.
    """
    where = f" ({source})" if source else ""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise ConfigurationError(
            f"{what} {url!r}{where} is not a valid URL; give an https:// URL."
        ) from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigurationError(
            f"{what} {url!r}{where} is not an http(s) URL; give an https:// URL such as "
            f"{REGIONS[DEFAULT_REGION]!r}."
        )
    if parsed.scheme == "http" and not is_loopback_host(parsed.host):
        raise ConfigurationError(
            f"{what} {url!r}{where} uses plain http to a host other than loopback, which would "
            "expose the secret and tokens; use https://."
        )
    return parsed


@dataclass(frozen=True, init=False)
class Credentials:
    """Everything needed to get a token and reach the API; the secret stays inside a Secret.

    The constructor is written by hand: the one ``dataclass`` generates keeps the plain secret
    in its frame while the URL checks run, and a verbose traceback would print it.
    """

    client_id: str
    client_secret: Secret
    region: str
    audience: str
    api_url: str
    token_url: str
    scope: str | None = None
    profile: str | None = None
    env_file: str | None = None
    openapi: str | None = None  # the API description: a file or URL; None: {api_url}openapi.json

    def __init__(
        self,
        client_id: str,
        client_secret: Secret | str,
        region: str,
        audience: str,
        api_url: str,
        token_url: str,
        scope: str | None = None,
        profile: str | None = None,
        env_file: str | None = None,
        openapi: str | None = None,
    ) -> None:
        secret = _as_secret(client_secret)  # first, so no frame of ours holds the plain value
        del client_secret
        fields = {
            "client_id": client_id,
            "client_secret": secret,
            "region": region,
            "audience": audience,
            "api_url": api_url,
            "token_url": token_url,
            "scope": scope,
            "profile": profile,
            "env_file": env_file,
            "openapi": openapi,
        }
        for name, value in fields.items():  # before any check, so that repr(self) works
            object.__setattr__(self, name, value)
        if secret is None:
            raise TypeError("client_secret must be a str or a Secret")
        check_url(api_url, "The API URL")
        check_url(token_url, "The token URL")

    def variable(self, setting: str) -> str:
        """The variable that sets ``setting`` for this profile (for messages)."""
        return variable_name(setting, self.profile)

    def without_secret(self) -> Credentials:
        """The same settings with an empty secret: what a closed client keeps."""
        return dataclasses.replace(self, client_secret=Secret(""))

    @classmethod
    def from_env(
        cls,
        env_file: str | os.PathLike[str] | None = None,
        profile: str | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        **overrides: Any,
    ) -> Credentials:
        """Resolve the settings: overrides > environ > .env > region defaults.

        ``overrides`` are the setting names (``client_id``, ``client_secret``, ``region``,
        ``audience``, ``api_url``, ``token_url``, ``scope``, ``openapi``); ``None`` means "not
        given", so option parsers can pass their values straight through.
        """
        if isinstance(overrides.get("client_secret"), str):
            # wrap at once, so no frame of ours holds the plain secret
            overrides["client_secret"] = Secret(overrides["client_secret"])
        unknown = sorted(set(overrides) - set(_SETTINGS))
        if unknown:
            raise TypeError(f"unknown setting(s) {', '.join(unknown)}; use {', '.join(_SETTINGS)}")
        if profile is not None and not _PROFILE_RE.match(profile):
            raise ConfigurationError(
                f"The profile name {profile!r} is not valid; use letters, digits, '-' and '_'."
            )
        resolver = _Resolver(profile, overrides, environ, cwd)
        del environ  # a caller's dict may hold the secret: keep it out of this frame's locals
        try:
            resolver.load(env_file)
            return resolver.credentials()
        except ConfigurationError as error:
            failure = error.with_traceback(None)  # its frames hold every value of the .env
            failure.__context__ = None
        del resolver, overrides
        raise failure  # outside ``except``: %debug and sys.last_traceback reach no .env value


def typed_secret_note(
    env_file: str | os.PathLike[str] | None = None,
    profile: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    **overrides: Any,
) -> str | None:
    """One line saying where a secret typed at a prompt or in the form will be sent, when the
    token URL (or what it is made from) comes from a ``.env`` found in a parent folder: that
    file may be a stranger's. None otherwise, and when the settings are wrong (the login that
    follows says how). Reads the same sources as ``Credentials.from_env``; never the secret."""
    resolver = _Resolver(profile, overrides, environ, cwd)
    del environ
    try:
        resolver.load(env_file)
        return resolver.typed_secret_note()
    except ConfigurationError:
        return None


def _find_env_file(
    env_file: str | os.PathLike[str] | None, cwd: str | os.PathLike[str] | None
) -> Path | None:
    """An explicit file must exist; otherwise look for ``.env`` from ``cwd`` upwards."""
    if env_file is not None:
        path = Path(env_file)
        if not path.is_absolute() and cwd is not None:
            path = Path(cwd) / path
        if path.is_dir():
            raise ConfigurationError(
                f"The .env file {str(path)!r} is a folder; name the file in it "
                f"({str(path / '.env')!r}, for example)."
            )
        if not path.is_file():
            raise ConfigurationError(
                f"The .env file {str(path)!r} does not exist; check the path "
                f"(looked in {str(path.resolve().parent)!r})."
            )
        return path
    start = Path(cwd) if cwd is not None else Path.cwd()
    for folder in (start.resolve(), *start.resolve().parents):
        candidate = folder / ".env"
        if candidate.is_file():
            return candidate
    return None


def _read_env_file(path: Path) -> dict[str, str]:
    """The file's values, without touching ``os.environ``; keys without a value are dropped.

    The file is decoded here, as UTF-8 with or without a byte order mark (Windows editors write
    one; python-dotenv up to 1.2 reads it into the first key, which is then "not set").
    """
    problem = ""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:  # the error holds the file's bytes: let it go
        problem = type(exc).__name__
    if problem:
        raise ConfigurationError(
            f"The .env file {str(path)!r} cannot be read ({problem}); check it "
            "(it must be UTF-8 text)."
        )
    values = dotenv_values(stream=io.StringIO(text), interpolate=False)
    return {key: value for key, value in values.items() if value is not None}


class _Resolver:
    """Looks each setting up in the sources, in order, and remembers where it came from.

    The sources live on this object rather than in locals, so a traceback that prints the
    locals of every frame does not print the environment or the .env file's values.
    """

    def __init__(
        self,
        profile: str | None,
        overrides: Mapping[str, Any],
        environ: Mapping[str, str] | None,
        cwd: str | os.PathLike[str] | None,
    ) -> None:
        self.profile = profile
        self.overrides = overrides
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.cwd = cwd
        self.path: Path | None = None
        self.file_values: Mapping[str, str] = {}
        self.from_environment: set[str] = set()  # the settings found in os.environ
        self.from_file: set[str] = set()  # the settings found in the .env file
        self.named = False

    def load(self, env_file: str | os.PathLike[str] | None) -> None:
        self.named = env_file is not None  # the user's own choice, not found by looking upwards
        self.path = _find_env_file(env_file, self.cwd)
        if self.path is not None:
            self.file_values = _read_env_file(self.path)

    def lookup(self, setting: str) -> tuple[Any, str] | None:
        """The value (a Secret for the secret) and where it came from, or None if nowhere."""
        given = self.overrides.get(setting)
        if isinstance(given, Secret):
            if given:
                return given, "the arguments"
        elif given is not None and str(given).strip():
            return str(given).strip(), "the arguments"
        name = variable_name(setting, self.profile)
        sources = (
            (self.environ, "the environment"),
            (self.file_values, f"the .env file {str(self.path)!r}"),
        )
        for source, where in sources:  # noqa: B007 (``where`` is used after the break)
            value = source.get(name)
            if value is not None and value.strip():
                break
        else:
            return None
        (self.from_environment if source is self.environ else self.from_file).add(setting)
        del source, sources  # a traceback that prints locals must not print them
        value = value.strip()
        secret = setting == "client_secret"
        if _HOLDS_OURS.search(value) or (not secret and _HOLDS_ANOTHER.search(value)):
            del value
            raise ConfigurationError(
                f"{name} in {where} holds another VARIABLE=value (two variables on one line?); "
                "put each variable on a line of its own. Its value is not shown, as it may hold "
                "the secret."
            )
        if secret:
            return Secret(value), f"{name} in {where}"
        return value, f"{name} in {where}"

    def places(self) -> str:
        if self.path is not None:
            env_file = f"the .env file {str(self.path)!r}"
        else:
            start = Path(self.cwd) if self.cwd is not None else Path.cwd()
            env_file = f"a .env file (none found from {str(start.resolve())!r} upwards)"
        return f"the environment or {env_file}"

    def credentials(self) -> Credentials:
        client_id = self.lookup("client_id")
        secret = self.lookup("client_secret")
        if client_id is None or secret is None:
            self._missing(client_id is None, secret is None)
        assert client_id is not None and secret is not None
        region, audience, (api_url, api_from), (token_url, token_from) = self._urls()
        self._secret_goes_where_it_was_set()
        check_url(api_url, "The API URL", api_from)
        check_url(token_url, "The token URL", token_from)
        scope_found = self.lookup("scope")
        openapi_found = self.lookup("openapi")
        return Credentials(
            client_id=str(client_id[0]),
            client_secret=Secret(secret[0]),
            region=region,
            audience=str(audience),
            api_url=str(api_url),
            token_url=str(token_url),
            scope=None if scope_found is None else str(scope_found[0]),
            profile=self.profile,
            env_file=None if self.path is None else str(self.path),
            openapi=None if openapi_found is None else str(openapi_found[0]),
        )

    def _urls(self) -> tuple[str, str, tuple[str, str], tuple[str, str]]:
        """The region, the audience, and the API and token URLs with where each came from."""
        region_found = self.lookup("region")
        region = DEFAULT_REGION if region_found is None else str(region_found[0]).lower()
        if region not in REGIONS:
            assert region_found is not None
            raise ConfigurationError(
                f"Unknown region {region_found[0]!r} (from {region_found[1]}); "
                f"use one of {', '.join(REGIONS)}."
            )
        audience, audience_from = self.lookup("audience") or (
            REGIONS[region],
            f"the default of region {region!r}",
        )
        derived = f"made from the audience, {audience_from}"
        api = self.lookup("api_url") or (audience, derived)
        token = self.lookup("token_url") or (_join(audience, TOKEN_PATH), derived)
        return region, str(audience), api, token

    def typed_secret_note(self) -> str | None:
        """Where a typed secret goes, when a .env found in a parent folder steers it."""
        start = (Path(self.cwd) if self.cwd is not None else Path.cwd()).resolve()
        if self.named or self.path is None or self.path.resolve().parent == start:
            return None  # a named file, or the one beside the notebook: the user's own
        _, _, (api_url, api_from), (token_url, token_from) = self._urls()
        file = f"the .env file {str(self.path)!r}"  # as ``lookup`` names where a value came from
        goes = (
            [f"the secret you type to {without_password(token_url)}"] if file in token_from else []
        )
        if file in api_from:
            goes.append(f"the token to {without_password(api_url)}")
        if not goes:
            return None
        return (
            f"A .env found in a parent folder, {str(self.path)!r}, sends {' and '.join(goes)}; "
            "--env-file PATH names the file to use."
        )

    def _secret_goes_where_it_was_set(self) -> None:
        """Refuse a secret from the environment with where it goes (the token URL, the API URL
        that gets the token, or what they are made from) set by a .env file: the nearest .env
        upwards may be a stranger's (a cloned project, /tmp), and would get the secret."""
        if "client_secret" not in self.from_environment or self.named:
            return
        steering = [s for s in _WHERE_IT_GOES if s in self.from_file]
        if not steering:
            return
        names = ", ".join(variable_name(s, self.profile) for s in steering)
        raise ConfigurationError(
            f"{variable_name('client_secret', self.profile)} comes from the environment, but "
            f"{names} from the .env file {str(self.path)!r}, found upwards from here: the secret "
            "is not sent where a file found by looking says. Set them in one place, or name "
            "your file (%ue_login --env-file PATH, env_file= in Python)."
        )

    def _missing(self, no_id: bool, no_secret: bool) -> NoReturn:
        missing = tuple(
            variable_name(setting, self.profile)
            for setting, absent in (("client_id", no_id), ("client_secret", no_secret))
            if absent
        )
        names = " and ".join(missing)
        verb = "is" if len(missing) == 1 else "are"
        looked_in = f"looked in {self.places()}"
        plain = [
            variable_name(setting)
            for setting, absent in (("client_id", no_id), ("client_secret", no_secret))
            if absent and variable_name(setting) in self.file_values
        ]
        if self.profile and plain:  # as ue-sandbox --env-file writes them
            looked_in += (
                f"; the file has {' and '.join(plain)}, which profile {self.profile} does not "
                f"read: write {'it' if len(plain) == 1 else 'them'} there as {names}"
            )
        raise MissingCredentialsError(
            f"{names} {verb} not set: {looked_in}; set {names} there, or pass "
            "client_id= and client_secret= to Credentials.from_env.",
            missing=missing,
            looked_in=looked_in,
        )


# what sets the URLs the secret and the token go to (a region picks one of REGIONS: not a steer)
_WHERE_IT_GOES = ("token_url", "api_url", "audience")


def _as_secret(value: object) -> Secret | None:
    """``value`` as a Secret, or None when it is neither a str nor a Secret; never raises."""
    return Secret(value) if isinstance(value, (str, Secret)) else None


def _join(base: str, path: str) -> str:
    """``base`` + ``path`` with exactly one slash between them (the audience is kept as given)."""
    return (base if base.endswith("/") else base + "/") + path
