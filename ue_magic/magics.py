"""UsageEngineMagics: the thin adapter from IPython to the modules that do the work.

Everything here turns a magic line into calls on Credentials, UsageEngineClient, request, render
and bulk, and turns a user's mistake into a one-sentence ``UsageError`` (no traceback wall).
Real bugs keep their traceback.
"""

from __future__ import annotations

import functools
import getpass
import re
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import display
from traitlets import Float, Int

from ._client import UsageEngineClient
from ._history import redact_current_input
from .credentials import Credentials, Secret
from .errors import ConfigurationError, MissingCredentialsError, UsageEngineError
from .request import RequestSyntaxError, RequestTemplate, compile_request
from .status import LoginSummary, StatusView

_SECRET_ON_LINE = re.compile(
    r"(?:^|\s)--?(?:client[-_]?secret|secret|password)\b|\b(?:UE_\w*SECRET|client_secret)\s*[=:]",
    re.IGNORECASE,
)
_BRACES = re.compile(r"\{\{[^{}\"']*\}\}")
_NEEDS_SHELL_SPLIT = re.compile(r"[\"'\\]")
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


@magics_class
class UsageEngineMagics(Magics):
    """%ue_login, %ue_logout, %ue_status and %%ue_call; settings are traitlets (%config)."""

    display_limit = Int(100, min=1, help="Items shown per JSON list or object.").tag(config=True)
    display_bytes = Int(
        200_000, min=1_000, help="Most bytes of HTML or text one answer shows."
    ).tag(config=True)
    expand_levels = Int(2, min=0, help="Levels of the JSON tree shown open.").tag(config=True)
    timeout = Float(30.0, min=0.001, max=3600.0, help="Seconds to wait for an answer.").tag(
        config=True
    )
    concurrency = Int(4, min=1, max=64, help="Requests in flight at once for --each.").tag(
        config=True
    )

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell, **kwargs)
        self._logins: dict[str | None, UsageEngineClient] = {}
        self._bulk_runs: Any = None  # --each runs under way (made on first use): see _runs
        # A loop of %ue_call re-sends the same lines: parse and compile each only once.
        self._call_args = functools.lru_cache(maxsize=256)(
            functools.partial(self._parse, self.ue_call)
        )
        self._call_template = functools.lru_cache(maxsize=256)(self._template)

    # -- logins -------------------------------------------------------------------------------

    def client_for(self, profile: str | None = None) -> UsageEngineClient:
        """The logged-in client of ``profile``, or a UsageError that says how to log in."""
        client = self._logins.get(profile)
        if client is None:
            flag = f" --profile {profile}" if profile else ""
            raise UsageError(f"Not logged in{flag}: run %ue_login{flag} first.")
        return client

    def close_all(self) -> None:
        """Forget every login and close its connections (%unload_ext)."""
        for client in self._logins.values():
            client.close()
        self._logins.clear()

    def _login(self, profile: str | None, credentials: Credentials) -> str:
        """Fetch a token now, so a wrong secret shows at login, then keep the client."""
        client = UsageEngineClient(credentials, timeout=self.timeout)
        try:
            client.token_manager.get_token()
        except UsageEngineError as error:
            client.close()
            raise UsageError(str(error)) from None
        except BaseException:  # interrupted, or a bug: do not leave the connections open
            client.close()
            raise
        old = self._logins.pop(profile, None)
        if old is not None:
            self._stop_runs(old, "logged in again")
            old.close()
        self._logins[profile] = client
        return LoginSummary.of(profile, client).login_line()

    @magic_arguments()
    @argument("--env-file", metavar="PATH", help=".env file to read (default: found upwards).")
    @argument("--profile", metavar="NAME", help="Read UE_NAME_CLIENT_ID and so on.")
    @argument("--region", choices=["eu", "us"], help="Usage Engine region (default eu).")
    @argument("--audience", metavar="URL", help="OAuth audience (default: the region's URL).")
    @argument("--api-url", metavar="URL", help="API base URL (default: the audience).")
    @argument("--token-url", metavar="URL", help="Token endpoint (default: audience + path).")
    @argument("--scope", metavar="S", help="Scopes to ask for (default: none sent).")
    @argument("--widget", action="store_true", help="Show the login form even if set.")
    @no_var_expand
    @line_magic
    def ue_login(self, line: str) -> None:
        """Log in to Usage Engine with OAuth 2.0 client credentials.

        The client id and secret come from the environment, a .env file, or a form (getpass in
        a terminal). The secret is never accepted on this line.
        """
        self._refuse_secret(line)
        try:
            args = self._parse(self.ue_login, line)
        except UsageError:
            redact_current_input(
                self.shell, "ue_login", line.strip()
            )  # stray words might be a secret
            raise
        overrides = {
            key: value
            for key, value in (
                ("region", args.region),
                ("audience", args.audience),
                ("api_url", args.api_url),
                ("token_url", args.token_url),
                ("scope", args.scope),
            )
            if value
        }
        if args.widget:
            self._show_form(args.env_file, args.profile, overrides)
            return
        try:
            credentials = Credentials.from_env(
                env_file=args.env_file, profile=args.profile, **overrides
            )
        except MissingCredentialsError as missing:
            if _in_notebook(self.shell):
                self._show_form(args.env_file, args.profile, overrides)
                return
            credentials = self._ask_in_terminal(args.env_file, args.profile, overrides, missing)
        except ConfigurationError as error:
            raise UsageError(str(error)) from None
        print(self._login(args.profile, credentials))

    def _show_form(self, env_file: str | None, profile: str | None, overrides: dict) -> None:
        from .widget import LoginForm

        initial_region = overrides.get("region", "eu")

        def submit(client_id: str, secret: Secret, region: str) -> str:
            chosen = dict(overrides, client_id=client_id, client_secret=secret)
            if region != initial_region:
                chosen["region"] = region
            try:
                credentials = Credentials.from_env(env_file=env_file, profile=profile, **chosen)
            except ConfigurationError as error:
                raise UsageError(str(error)) from None
            return self._login(profile, credentials)

        form = LoginForm(
            submit, region=initial_region, where=f"profile {profile}" if profile else ""
        )
        display(form.box)

    def _ask_in_terminal(
        self,
        env_file: str | None,
        profile: str | None,
        overrides: dict,
        missing: MissingCredentialsError,
    ) -> Credentials:
        asked = dict(overrides)
        try:
            if any(name.endswith("CLIENT_ID") for name in missing.missing):
                asked["client_id"] = input("Usage Engine client id: ").strip()
            if any(name.endswith("CLIENT_SECRET") for name in missing.missing):
                asked["client_secret"] = Secret(getpass.getpass("Usage Engine client secret: "))
        except (EOFError, KeyboardInterrupt):
            raise UsageError("Login cancelled.") from None
        try:
            return Credentials.from_env(env_file=env_file, profile=profile, **asked)
        except ConfigurationError as error:
            raise UsageError(str(error)) from None

    def _refuse_secret(self, line: str) -> None:
        """A secret typed on the magic line would be saved in the notebook and in history."""
        if _SECRET_ON_LINE.search(line):
            redact_current_input(self.shell, "ue_login", line.strip())
            raise UsageError(
                "%ue_login does not take a secret on the magic line (it would be saved in the "
                "notebook and in history). Remove it from the cell and put UE_CLIENT_SECRET in a "
                ".env file or the environment, or leave it out to be asked for it."
            )

    @magic_arguments()
    @argument("--profile", metavar="NAME", help="The login to forget (default: the default one).")
    @no_var_expand
    @line_magic
    def ue_logout(self, line: str) -> None:
        """Forget a login: its token, its secret and its connections."""
        args = self._parse(self.ue_logout, line)
        client = self._logins.pop(args.profile, None)
        if client is None:
            print("Not logged in" + (f" with profile {args.profile}." if args.profile else "."))
            return
        self._stop_runs(client, "logged out")
        client.token_manager.forget()
        client.close()
        print("Logged out" + (f" of profile {args.profile}." if args.profile else "."))

    @line_magic
    def ue_status(self, line: str = "") -> None:
        """Every login: API URL, client, account, scopes, token expiry and request counts."""
        display(StatusView([LoginSummary.of(p, c) for p, c in self._logins.items()]))

    # -- calls --------------------------------------------------------------------------------

    @magic_arguments()
    @argument(
        "request_line", nargs="*", metavar="METHOD PATH", help="e.g. GET /usage-metering/v1/meters"
    )
    @argument("-o", "--output", metavar="VAR", help="Store the decoded body in VAR.")
    @argument("-q", "--quiet", action="store_true", help="Show nothing (errors still raise).")
    @argument("--profile", metavar="NAME", help="Use this login.")
    @argument("-H", "--header", action="append", default=[], metavar='"Name: value"')
    @argument("--timeout", type=float, metavar="S", help="Seconds to wait for the answer.")
    @argument("--table", action="store_true", help="Show a list of objects as a table.")
    @argument("--raw", action="store_true", help="Show the body as text.")
    @argument("--dry-run", action="store_true", help="Show the request; send nothing.")
    @argument("--curl", action="store_true", help="Print an equivalent curl command; send nothing.")
    @argument("--retry", type=int, metavar="N", help="Retry up to N times, any method.")
    @argument("--no-raise", action="store_true", help="Do not raise on a 4xx or 5xx answer.")
    @argument("--each", metavar="VAR", help="Send once per item of VAR ({{item}}).")
    @argument("--concurrency", type=int, metavar="N", help="Requests in flight with --each.")
    @argument("--rate", type=float, metavar="N", help="At most N requests a second with --each.")
    @argument("--save", metavar="PATH", help="Write the answer (JSON Lines with --each) to PATH.")
    @argument("--all-pages", action="store_true", help="Follow next-page links of a list.")
    @no_var_expand
    @line_cell_magic
    def ue_call(self, line: str, cell: str | None = None) -> Any:
        """Send an authenticated request to the Usage Engine API and show the answer.

        %%ue_call POST /usage-metering/v1/meter-types   (the cell is the JSON body)
        %%ue_call                                        (the cell is an HTTP message)
        r = %ue_call GET /usage-metering/v1/meters       (line form; returns the body)
        """
        from . import call

        args = self._call_args(line)
        template = self._call_template(tuple(args.request_line), cell, tuple(args.header))
        try:
            options = call.CallOptions.from_args(args, self)
        except UsageEngineError as error:
            raise UsageError(str(error)) from None
        client = self.client_for(args.profile)
        namespace = self.shell.user_ns if self.shell is not None else {}
        try:
            if args.each:
                from .bulk import call_each

                return call_each(
                    namespace, client, template, options, display, self._progress(), self._runs()
                )
            return call.call_once(
                namespace,
                client,
                template,
                options,
                _show,
                line_form=cell is None,
                page_counter=self._page_counter() if options.all_pages else None,
            )
        except (UsageEngineError, RequestSyntaxError) as error:
            raise UsageError(str(error)) from None

    def _template(
        self, request_line: tuple[str, ...], cell: str | None, headers: tuple[str, ...]
    ) -> RequestTemplate:
        body = cell or ""
        try:
            if not request_line:
                if not body.strip():
                    raise UsageError("Give a request: %ue_call GET /path, or a cell with one.")
                return compile_request(body, headers=headers)
            if len(request_line) == 1:
                if request_line[0].upper() in _METHODS:
                    raise UsageError(f"Give the path after {request_line[0]}: %ue_call GET /path.")
                return compile_request(body, "GET", request_line[0], headers=headers)
            if len(request_line) == 2:
                return compile_request(body, request_line[0], request_line[1], headers=headers)
        except RequestSyntaxError as error:
            raise UsageError(str(error)) from None
        raise UsageError(
            f"Expected METHOD PATH on the magic line, got {len(request_line)} words; "
            "put headers with -H and the body in the cell."
        )

    # -- helpers ------------------------------------------------------------------------------

    def _runs(self) -> Any:
        """The --each runs under way, so that a logout lets their requests in flight finish."""
        if self._bulk_runs is None:
            from ._pacing import BulkRuns

            self._bulk_runs = BulkRuns()
        return self._bulk_runs

    def _stop_runs(self, client: UsageEngineClient, reason: str) -> None:
        """Stop the client's --each runs and wait (at most the timeout) for what is in flight."""
        if self._bulk_runs is not None:
            self._bulk_runs.stop(client, reason, self.timeout)

    def _progress(self) -> Any:
        """A widget bar in a notebook, a text bar in a terminal."""
        from .progress import TextProgress, WidgetProgress

        if _in_notebook(self.shell):
            return lambda total: WidgetProgress(total, display)
        return TextProgress

    def _page_counter(self) -> Any:
        """What counts pages for --all-pages: a label in a notebook, a text line in a terminal."""
        from .progress import TextPageCounter, WidgetPageCounter

        if _in_notebook(self.shell):
            return lambda: WidgetPageCounter(display)
        return TextPageCounter

    @staticmethod
    def _parse(magic: Any, line: str) -> Any:
        try:
            line = _BRACES.sub(lambda m: "".join(m.group().split()), line)  # {{ x }} is one word
            if _NEEDS_SHELL_SPLIT.search(line):
                args = parse_argstring(magic, line)
            else:  # the common case, and much quicker than IPython's arg_split
                args = magic.parser.parse_args(line.split())
        except UsageError as error:
            message = str(error)
            if "unrecognized arguments" in message:
                # The words are left out on purpose: one of them might be a secret.
                raise UsageError(
                    f"Unknown option or extra words; see %{magic.__name__}? for the options."
                ) from None
            raise
        for name, value in vars(args).items():  # IPython's arg_split keeps the quotes
            if isinstance(value, str):
                setattr(args, name, _unquote(value))
            elif isinstance(value, list):
                setattr(args, name, [_unquote(v) if isinstance(v, str) else v for v in value])
        return args


def _show(obj: Any) -> None:
    """``display``, minus IPython's trying every formatter on our own answer views (profiled:
    about half the cost of showing a small answer): their bundle is shown as it is."""
    from .render import ResponseView

    if type(obj) is ResponseView:
        display(obj._repr_mimebundle_(), raw=True)
    else:
        display(obj)


def _unquote(word: str) -> str:
    """'"X-One: 1"' -> 'X-One: 1': one pair of matching outer quotes."""
    if len(word) >= 2 and word[0] == word[-1] and word[0] in "'\"":
        return word[1:-1]
    return word


def _in_notebook(shell: Any) -> bool:
    """A kernel-backed front end can show widgets; a terminal cannot."""
    return getattr(shell, "kernel", None) is not None
