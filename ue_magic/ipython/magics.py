"""UsageEngineMagics: the thin adapter from IPython to the modules that do the work.

Everything here turns a magic line into calls on Credentials, UsageEngineClient, request, render
and bulk, and turns a user's mistake into a one-sentence ``UsageError`` (no traceback wall).
Real bugs keep their traceback.
"""

from __future__ import annotations

import functools
import getpass
import inspect
import re
import sys
from typing import Any

from IPython.core.error import StdinNotImplementedError, UsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments
from IPython.display import display
from traitlets import Bool, Float, Int

from .._constants import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT, MAX_CONCURRENCY, MAX_TIMEOUT
from ..cells import openapi
from ..cells.call_options import CALL_OPTIONS, REQUEST_LINE, numbers_needed
from ..cells.logins import Logins, NotLoggedInError
from ..cells.magic_line import Arguments, parse_line, unknown_option_message
from ..cells.request import RequestTemplate, compile_call, file_cell, refuse_ipython_names
from ..cells.result import line_value_is_used
from ..core._client import UsageEngineClient
from ..core._visible import visible
from ..core.credentials import Credentials, Secret, typed_secret_note
from ..errors import ConfigurationError, MissingCredentialsError, UsageEngineError
from ._history import redact_current_input
from .prompting import ask_credentials, forced_names, headless_message
from .status import LoginSummary, StatusView, logout_line

_SECRET_ON_LINE = re.compile(
    r"(?:^|\s)--?(?:client[-_]?secret|secret|password)\b|\b(?:UE_\w*SECRET|client_secret)\s*[=:]",
    re.IGNORECASE,
)


LOGGED_OUT = "%ue_logout"  # why a login ended, as a waiting form is told


def _declared_options(magic: Any) -> Any:
    """The argparse arguments of %ue_call, one per declaration in ``CALL_OPTIONS``."""
    for option in reversed((REQUEST_LINE, *CALL_OPTIONS)):
        if option is REQUEST_LINE:
            magic = argument(option.field, nargs="*", **option.argparse_kwargs())(magic)
        else:
            magic = argument(*option.flags, **option.argparse_kwargs())(magic)
    return magic


@magics_class
class UsageEngineMagics(Magics):
    """%ue_login, %ue_logout, %ue_status and %%ue_call; settings are traitlets (%config)."""

    display_limit = Int(100, min=1, help="Items shown per JSON list or object (HTML).").tag(
        config=True
    )
    text_limit = Int(
        10, min=1, help="Items shown per JSON list (and table rows) in a terminal."
    ).tag(config=True)
    display_bytes = Int(
        200_000, min=1_000, help="Most bytes of HTML or text one answer shows."
    ).tag(config=True)
    expand_levels = Int(2, min=0, help="Levels of the JSON tree shown open.").tag(config=True)
    timeout = Float(
        DEFAULT_TIMEOUT, min=0.001, max=MAX_TIMEOUT, help="Seconds for a whole answer (a deadline)."
    ).tag(config=True)
    max_bytes = Int(
        DEFAULT_MAX_BYTES, min=1, help="Most bytes of one answer; a bigger one is an error."
    ).tag(config=True)
    concurrency = Int(
        4, min=1, max=MAX_CONCURRENCY, help="Requests in flight at once for --each."
    ).tag(config=True)
    openapi_timeout = Float(
        5.0, min=0.001, max=600.0, help="Seconds to wait for the API description (openapi.json)."
    ).tag(config=True)
    dataframe = Bool(
        False, help="List answers (and --each results) as pandas DataFrames, as --df makes them."
    ).tag(config=True)

    def __init__(self, shell: Any = None, logins: Logins | None = None, **kwargs: Any) -> None:
        super().__init__(shell, **kwargs)
        # the kernel's logins: a plain object that outlives this instance (%reload_ext hands it on)
        self.logins = logins if logins is not None else Logins()
        # A loop re-sends the same lines: parse and compile once (both results are immutable).
        self._call_args = functools.lru_cache(maxsize=256)(
            functools.partial(self._parse, self.ue_call)
        )
        self._call_template = functools.lru_cache(maxsize=256)(self._template)

    # -- logins -------------------------------------------------------------------------------

    def client_for(self, profile: str | None = None) -> UsageEngineClient:
        """The logged-in client of ``profile``, or a UsageError that says how to log in."""
        try:
            return self.logins.client(profile)
        except NotLoggedInError as error:
            raise UsageError(str(error)) from None

    def _login(
        self,
        profile: str | None,
        credentials: Credentials,
        sandbox: Any = None,
        reused: bool = False,
    ) -> str:
        """Fetch a token now, so a wrong secret shows at login, then keep the login (and the
        embedded ``sandbox`` it talks to). A failed login says what is still in force."""
        try:
            login = self.logins.log_in(
                profile,
                credentials,
                timeout=self.timeout,
                openapi_timeout=self.openapi_timeout,
                warn=lambda text: print(visible(text), file=sys.stderr),  # sys.stderr when called
                sandbox=sandbox,
            )
        except UsageEngineError as error:
            raise UsageError(_bare(error)) from None
        assert login.client is not None
        note = ""
        if reused:
            note = (
                "Sandbox (the one already running in this kernel, with its data; "
                "%ue_logout of every login that uses it stops it; not a real account)."
            )
        elif sandbox is not None:
            note = "Sandbox (a local emulator in this kernel, not a real account)."
        return LoginSummary.of(profile, login.client).login_line(note=note)

    @magic_arguments()
    @argument("--env-file", metavar="PATH", help=".env file to read (default: found upwards).")
    @argument("--profile", metavar="NAME", help="Read UE_NAME_CLIENT_ID and so on.")
    @argument(
        "--region", type=str.lower, choices=["eu", "us"], help="Usage Engine region (default eu)."
    )
    @argument("--audience", metavar="URL", help="OAuth audience (default: the region's URL).")
    @argument("--api-url", metavar="URL", help="API base URL (default: the audience).")
    @argument("--token-url", metavar="URL", help="Token endpoint (default: audience + path).")
    @argument("--scope", metavar="S", help="Scopes to ask for (default: none sent).")
    @argument("--openapi", metavar="PATH|URL", help="The API description (openapi.json).")
    @argument("--widget", action="store_true", help="Show the login form even if set.")
    @argument("--prompt", action="store_true", help="Ask with prompts, not the form, even if set.")
    @argument(
        "--sandbox", action="store_true", help="Start a sandbox in this kernel; log in to it."
    )
    @no_var_expand
    @line_magic
    def ue_login(self, line: str) -> None:
        """Log in to Usage Engine with OAuth 2.0 client credentials.

        The client id and secret come from the environment or a .env file; what
        is missing is asked for with a form (notebooks) or prompts (terminals,
        jupyter console); --widget and --prompt ask for both even when they are set.
        Where nobody can type (nbconvert, papermill, Voila) a missing one is an
        error at once. --sandbox needs no credentials.
        The secret is never accepted on this line.
        """
        if _asks_help(self.ue_login, line):
            return
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
                ("openapi", args.openapi),
            )
            if value
        }
        if args.widget and args.prompt:
            raise UsageError("Choose one of --widget and --prompt.")
        if args.sandbox:
            if overrides or args.env_file or args.widget or args.prompt:
                raise UsageError(
                    "--sandbox needs no settings: use it alone (with --profile at most)."
                )
            print(visible(self._login_sandbox(args.profile)))
            return
        if args.widget:
            from .frontend import shows_widgets

            if not shows_widgets(self.shell):
                raise UsageError(
                    "The login form needs a front end that shows widgets; "
                    "here, use %ue_login --prompt."
                )
            self._show_form(args.env_file, args.profile, overrides)
            return
        try:
            if args.prompt:  # asks even for what is set, as --widget shows its form
                credentials = self._ask_with_prompts(args, overrides, forced_names(args.profile))
            else:
                credentials = Credentials.from_env(
                    env_file=args.env_file, profile=args.profile, **overrides
                )
        except MissingCredentialsError as missing:
            asked = self._ask(args, overrides, missing)
            if asked is None:  # the form is showing
                return
            credentials = asked
        except ConfigurationError as error:
            raise UsageError(_bare(error)) from None
        print(visible(self._login(args.profile, credentials)))

    def _login_sandbox(self, profile: str | None) -> str:
        """Log in to the kernel's sandbox: the running one (with its data), or a new one."""
        from .embedded import credentials_for, start_sandbox

        running = self.logins.sandbox
        reused = running is not None
        if running is None:
            try:
                running = start_sandbox()
            except ConfigurationError as error:
                raise UsageError(str(error)) from None
        try:
            credentials = credentials_for(running, profile)
            return self._login(profile, credentials, sandbox=running, reused=reused)
        except BaseException:
            if not reused:
                running.stop()
            raise

    def _ask(
        self, args: Any, overrides: dict, missing: MissingCredentialsError
    ) -> Credentials | None:
        """Prompts, the form, or an error at once, as the front end allows; None: form shown."""
        from .frontend import detect

        frontend = detect(self.shell)
        if frontend in ("terminal", "console"):
            return self._ask_with_prompts(args, overrides, missing.missing, missing.looked_in)
        if frontend == "headless":
            raise UsageError(headless_message(missing.missing, missing.looked_in, args.profile))
        self._show_form(args.env_file, args.profile, overrides)
        return None

    def _show_form(self, env_file: str | None, profile: str | None, overrides: dict) -> None:
        from .widget import LoginForm

        note = typed_secret_note(env_file, profile, **overrides)  # a .env found upwards steers it
        if note:
            print(visible(note))
        submit = functools.partial(self._submit_form, env_file, profile, overrides)
        form = LoginForm(
            submit,
            region=overrides.get("region", "eu"),
            where=f"profile {profile}" if profile else "",
        )
        self.logins.wait_for_form(profile, form)
        form.show()

    def _submit_form(
        self,
        env_file: str | None,
        profile: str | None,
        overrides: dict,
        client_id: str,
        secret: Secret,
        region: str,
    ) -> str:
        """The login form's Log in button: the form's values over the line's settings."""
        chosen = dict(overrides, client_id=client_id, client_secret=secret)
        if region != overrides.get("region", "eu"):
            chosen["region"] = region
        try:
            credentials = Credentials.from_env(env_file=env_file, profile=profile, **chosen)
        except ConfigurationError as error:
            raise UsageError(_bare(error)) from None
        return self._login(profile, credentials)

    def _ask_with_prompts(
        self, args: Any, overrides: dict, missing: tuple[str, ...], looked_in: str = ""
    ) -> Credentials:
        """Prompts for ``missing``; ``looked_in`` empty: --prompt, set or not."""
        try:
            asked = ask_credentials(
                missing,
                looked_in,
                args.profile,
                ask=lambda prompt: input(prompt),  # looked up now: ipykernel swaps it per cell
                ask_secret=lambda prompt: getpass.getpass(prompt),
                say=print,
                note=typed_secret_note(args.env_file, args.profile, **overrides),
            )
            return Credentials.from_env(
                env_file=args.env_file, profile=args.profile, **overrides, **asked
            )
        except StdinNotImplementedError:
            raise UsageError(headless_message(missing, looked_in, args.profile)) from None
        except ConfigurationError as error:
            raise UsageError(_bare(error)) from None

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
        if _asks_help(self.ue_logout, line):
            return
        args = self._parse(self.ue_logout, line)
        login = self.logins.get(args.profile)
        had_sandbox = login is not None and login.sandbox is not None
        had_form = self.logins.form_of(args.profile) is not None
        client = self.logins.forget(
            args.profile, LOGGED_OUT, stop_runs="logged out", wait=self.timeout
        )
        sandbox_runs = self.logins.sandbox is not None
        print(
            visible(
                logout_line(args.profile, client is not None, had_form, had_sandbox, sandbox_runs)
            )
        )

    @magic_arguments()
    @no_var_expand
    @line_magic
    def ue_status(self, line: str = "") -> None:
        """Every login: API URL, client, account, scopes, token expiry and request counts."""
        if _asks_help(self.ue_status, line):
            return
        self._parse(self.ue_status, line)  # it takes no arguments: refuse them, as the others do
        summaries = [LoginSummary.of(lg.profile, lg.client) for lg in self.logins if lg.client]
        display(StatusView(summaries))

    # -- calls --------------------------------------------------------------------------------

    @magic_arguments()
    @_declared_options
    @no_var_expand
    @line_cell_magic
    def ue_call(self, line: str, cell: str | None = None) -> Any:
        """Send an authenticated request to the Usage Engine API and show the answer.

        %%ue_call POST /usage-metering/v1/meter-types   (the cell is the JSON body)
        %%ue_call                                        (the cell is an HTTP message)
        r = %ue_call GET /usage-metering/v1/meters       (line form; returns the body)

        {{name}} takes a value from the notebook ({{x}}, {{row.user}},
        {{rows[0]["id"]}}): as a whole JSON value, its JSON; inside a JSON string
        or a header, its text; in the path, URL-encoded. An unknown name or
        invalid JSON is an error before anything is sent.
        As in .http files: @name = value lines before the request line
        (shadowing notebook names), {{$guid}} {{$uuid}} {{$timestamp}}
        {{$isoTimestamp}} {{$randomInt 1 100}} {{$datetime iso8601}};
        %ue_call --file requests.http --name NAME sends one request of a file.
        -o VAR and the returned value hold the decoded body (also with --table);
        _ue holds the response. When the call raises (a 4xx/5xx answer), -o VAR
        keeps its value (--save writes nothing), _ue holds the error answer
        (--all-pages: _ue.body the pages before it); with --no-raise, -o VAR
        gets the error body (--all-pages: the pages before it, said partial).
        --each leaves its BulkResult in _ue_bulk until the next --each (pending
        = _ue_bulk.pending resends what is left). Ctrl-C during --all-pages keeps
        the pages so far in -o VAR and _ue (a partial list). Terminal output is
        cut to UsageEngineMagics.text_limit items.

        --df makes the value (and -o VAR) a pandas DataFrame of the answer's list
        of objects (the answer, or the list in {"meters": [...]}), shown as pandas
        shows it: nested objects as dotted columns (aggregation.type), lists kept
        in cells, date-times as UTC datetimes, every page with --all-pages, the
        columns of --columns. An answer with no list is an error (it stays in
        _ue). With --each: one row per item (the item, outcome, status, the
        body's fields), as _ue_bulk.to_frame() gives it. %config
        UsageEngineMagics.dataframe = True makes list answers DataFrames without
        --df. Needs pandas, the explore extra.
        """
        from ..cells import call

        if _asks_help(self.ue_call, line):
            return None
        args = self._call_args(line)
        line_form = cell is None
        # -q with the value thrown away (a bare statement): no Out[n], and nothing to decode
        unused = line_form and args.quiet and not line_value_is_used(self.shell, line)
        if args.file is not None or args.name is not None:
            try:
                cell = file_cell(args.file, args.name, tuple(args.request_line), cell)
            except UsageEngineError as error:
                raise UsageError(_bare(error)) from None
        template = self._call_template(line, tuple(args.request_line), cell, tuple(args.header))
        try:
            options = call.options_for(args, self)
        except UsageEngineError as error:
            raise UsageError(_bare(error)) from None
        client = self.client_for(args.profile)
        namespace = self.shell.user_ns if self.shell is not None else {}
        try:
            refuse_ipython_names(
                line, args.request_line, args.header, cell or "", namespace, template.body_mode
            )
            try:
                self._check_call(args, template, cell, namespace)
            except KeyboardInterrupt:  # nothing sent: one line, and an error stops Run All
                from ..cells.bulk import interrupted_check

                raise interrupted_check(template, namespace, args.each) from None
            if args.each:
                from ..cells.bulk import call_each

                result = call_each(
                    namespace, client, template, options, display, self._progress(), self._runs()
                )
                result = result if line_form else None  # the line form returns --df's frame
            else:
                result = call.call_once(
                    namespace,
                    client,
                    template,
                    options,
                    _show,
                    line_form=line_form and not unused,
                    page_counter=self._page_counter() if options.all_pages else None,
                    description=self.description_of(args.profile) if options.frames else None,
                )
        except UsageEngineError as error:
            raise UsageError(_bare(error)) from None
        return None if unused else result  # -q: no Out[n] either

    def _check_call(
        self, args: Any, template: RequestTemplate, cell: str | None, namespace: Any
    ) -> None:
        """Check the call against the login's description (``Login.check_call``)."""
        login = self.logins.get(args.profile)
        if login is None:
            return
        matched = login.check_call(
            template,
            namespace,
            cell,
            message_form=not args.request_line,
            each=args.each,
            dry_run=args.dry_run,
            validate=not args.no_validate,
        )
        if matched is not None:
            from ..cells.render import wrap_text

            print(wrap_text(matched))

    @magic_arguments()
    @argument("words", nargs="*", metavar="TEXT | METHOD PATH", help="Filter, or one operation.")
    @argument("--profile", metavar="NAME", help="Use this login's description.")
    @argument("--reload", action="store_true", help="Fetch the description again.")
    @no_var_expand
    @line_magic
    def ue_api(self, line: str) -> Any:
        """The API's own words: its operations (method, path, summary, scopes) filtered by
        TEXT, or one operation (parameters, body outline, answers, an example cell)."""
        if _asks_help(self.ue_api, line):
            return None
        args = self._parse(self.ue_api, line)
        self.client_for(args.profile)  # "Not logged in" first
        login = self.logins.get(args.profile)
        assert login is not None and login.description is not None
        described = login.description
        description = described.reload() if args.reload else described.for_api()
        if description is None and described.still_loading:
            raise UsageError(described.still_loading)
        if description is None:
            raise UsageError(
                f"No API description for this login ({described.note.rstrip('.')}). Name one with "
                "%ue_login --openapi PATH|URL or the setting UE_OPENAPI."
            )
        if args.reload:
            print(openapi.loaded_line(description))
        try:
            return openapi.api_view(description, args.words)
        except UsageEngineError as error:
            raise UsageError(_bare(error)) from None

    def description_of(self, profile: str | None = None) -> openapi.Description | None:
        """The API description of a login (fetched on first use, once), or None."""
        login = self.logins.get(profile)
        described = login.description if login is not None else None
        return described.get() if described is not None else None

    def description_for_tab(self, profile: str | None = None) -> openapi.Description | None:
        """The description if it is there within a Tab's time (its load started), or None."""
        login = self.logins.get(profile)
        described = login.description if login is not None else None
        return described.for_tab() if described is not None else None

    @property
    def profiles(self) -> list[str | None]:
        """The logged-in profiles (None: the default login)."""
        return self.logins.profiles

    def _template(
        self, line: str, request_line: tuple[str, ...], cell: str | None, headers: tuple[str, ...]
    ) -> RequestTemplate:
        try:
            return compile_call(line, request_line, cell, headers)
        except UsageEngineError as error:
            raise UsageError(_bare(error)) from None

    # -- helpers ------------------------------------------------------------------------------

    def _runs(self) -> Any:
        """The --each runs under way, so that a logout lets their requests in flight finish."""
        if self.logins.runs is None:
            from ..cells._runs import BulkRuns

            self.logins.runs = BulkRuns()
        return self.logins.runs

    def _progress(self) -> Any:
        """A widget bar in a notebook, a text bar in a terminal."""
        from ..cells.progress import progress_for
        from .frontend import shows_widgets

        return progress_for(shows_widgets(self.shell), display)

    def _page_counter(self) -> Any:
        """What counts pages for --all-pages: a label in a notebook, a text line in a terminal."""
        from ..cells.progress import page_counter_for
        from .frontend import shows_widgets

        return page_counter_for(shows_widgets(self.shell), display)

    @staticmethod
    def _parse(magic: Any, line: str) -> Arguments:
        """One grammar for every magic line (``magic_line``), parsed by the magic's own options."""
        try:
            return parse_line(magic.parser, line, numbers_needed())
        except UsageEngineError as error:
            raise UsageError(str(error)) from None
        except UsageError as error:
            message = str(error)
            if "unrecognized arguments" in message:
                # %ue_login's words are never echoed: one of them might be a secret.
                name = magic.__name__
                echo = name != "ue_login"
                raise UsageError(
                    unknown_option_message(magic.parser, message, name, echo=echo)
                ) from None
            raise


_HELP_WORD = re.compile(r"--help(=.*)?|--hel|-h[a-z]*")  # --hel, -hq: help, not --header, -q


def _asks_help(magic: Any, line: str) -> bool:
    """``--help`` or ``-h`` on the line: print the help ``%magic?`` shows (its docstring, with
    the options magic_arguments added) and do nothing else."""
    if "-h" not in line or not any(_HELP_WORD.fullmatch(word) for word in line.split()):
        return False
    print(inspect.cleandoc(magic.__doc__ or ""))
    return True


def _show(obj: Any) -> None:
    """``display``, minus IPython's trying every formatter on our own answer views (profiled:
    about half the cost of showing a small answer): their bundle is shown as it is."""
    from ..cells.render import ResponseView

    if type(obj) is ResponseView:
        display(obj._repr_mimebundle_(), raw=True)
    else:
        display(obj)


def _bare(error: BaseException) -> str:
    """The message of ``error``, cut from its traceback and chain.

    The UsageError raised in the ``except`` block keeps ``error`` as its ``__context__`` (in
    ``sys.last_value``); its frames could hold every value of a .env file, a token or a request.
    """
    error.__traceback__ = None
    error.__context__ = error.__cause__ = None
    return str(error)
