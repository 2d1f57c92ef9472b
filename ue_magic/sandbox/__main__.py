"""`ue-sandbox`: serve the sandbox until Ctrl+C, after printing the `.env` lines that point
ue-magic at it. stdout holds only those lines and comments; the log goes to stderr.
`--env-file PATH` writes the lines into PATH itself, keeping its other lines (never
`ue-sandbox > .env`: the shell empties the file before the sandbox starts)."""

from __future__ import annotations

import argparse
import errno
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .app import build_app
from .demo import load_demo_data
from .envfile import EnvFileError, check_env_file, write_env_file
from .paging import MAX_LIMIT
from .rates import TOKEN_RATE_DEFAULT, Rate, parse_rate
from .server import base_url_of, bind_socket, serve_forever
from .state import SandboxState


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("must be from 0 to 65535")
    return value


def _page_size(text: str) -> int:
    value = int(text)
    if not 1 <= value <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"must be from 1 to {MAX_LIMIT}")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError("must be a non-negative number of seconds")
    return value


def _rate(text: str) -> Rate | None:
    try:
        return parse_rate(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ue-sandbox",
        description="A local Usage Engine emulator: OAuth token endpoint and usage metering API.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    p.add_argument("--port", type=_port, default=8787, help="port, 0 for a free one (8787)")
    p.add_argument("--token-ttl", type=_positive_int, default=3600, metavar="SECONDS")
    p.add_argument("--client-id", metavar="ID", help="default: random")
    p.add_argument("--client-secret", metavar="S", help="default: random")
    p.add_argument("--scopes", help="space separated scopes the client is granted (default: all)")
    p.add_argument("--page-size", type=_page_size, metavar="N", help="default page size of lists")
    p.add_argument("--latency", type=_seconds, default=0.0, metavar="S", help="delay per request")
    p.add_argument(
        "--token-rate",
        type=_rate,
        default=TOKEN_RATE_DEFAULT,
        metavar="N/B",
        help="token requests a second / burst, per client; 0 for no limit (10/5, as documented)",
    )
    p.add_argument(
        "--api-rate",
        type=_rate,
        default=None,
        metavar="N/B[,OPTIONS]",
        help="API requests a second / burst, per client (default: no limit); then any of "
        ",fixed ,sliding (one-second windows, not a token bucket) ,retry-after=fraction|none "
        ",headers=x|ietf (state the limit): 100/20,headers=ietf",
    )
    p.add_argument(
        "--demo-data", action="store_true", help="start with demo meter types, meters and usage"
    )
    p.add_argument("--quiet", action="store_true", help="no access log, warnings only")
    p.add_argument(
        "--env-file",
        metavar="PATH",
        help="write the UE_* lines into PATH, keeping its other lines (refused if PATH points "
        "at a real account)",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    env_file = None if args.env_file is None else Path(args.env_file)
    if env_file is not None:
        try:
            check_env_file(env_file)  # before anything starts: a refusal changes nothing
        except EnvFileError as error:
            print(f"ue-sandbox: {error}", file=sys.stderr)
            return 2
    try:
        sock = bind_socket(args.host, args.port)
    except OSError as exc:
        hint = ""
        if exc.errno == errno.EADDRINUSE:
            hint = " (another sandbox or program has it: --port 0 takes a free port)"
        print(f"ue-sandbox: cannot listen on {args.host}:{args.port}: {exc}{hint}", file=sys.stderr)
        return 1
    state = SandboxState.create(
        base_url_of(sock),
        token_ttl=args.token_ttl,
        client_id=args.client_id,
        client_secret=args.client_secret,
        scopes=args.scopes,
        page_size=args.page_size,
        latency=args.latency,
        token_rate=args.token_rate,
        api_rate=args.api_rate,
    )
    if args.demo_data:
        counts = load_demo_data(state.store)
        print(f"ue-sandbox: demo data: {counts}", file=sys.stderr)
    from . import _dotenv_value  # the same quoting as Sandbox.env_lines()

    pid = os.getpid()  # started with `&`, Ctrl+C cannot reach it: say what can
    if env_file is not None:  # before stdout: whoever reads the lines finds the file written
        header = f"# ue-sandbox at {state.base_url} (process {pid}); written by --env-file"
        quoted = {key: _dotenv_value(value) for key, value in state.env().items()}
        try:
            write_env_file(env_file, quoted, header)
        except (EnvFileError, OSError) as error:
            print(f"ue-sandbox: {error}", file=sys.stderr)
            sock.close()
            return 2
        print(f"ue-sandbox: wrote its settings into {env_file}", file=sys.stderr)
    print(f"# Usage Engine sandbox at {state.base_url}, process {pid}: Ctrl+C or `kill {pid}`")
    print("# stops it. Settings for .env:")
    print(f"# API description: {state.base_url}openapi.json")
    for key, value in state.env().items():
        print(f"{key}={_dotenv_value(value)}")
    sys.stdout.flush()
    try:
        serve_forever(build_app(state), sock, quiet=args.quiet)
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl+C after a clean shutdown
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
