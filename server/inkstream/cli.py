"""Command line: ``inkstream serve`` for editors, plus the terminal commands built on the server."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys

from inkstream import __version__


def _setup_logging() -> None:
    # stdout is the LSP channel: logs go to stderr only
    level = os.environ.get("INKSTREAM_LOG", "INFO").upper()
    logging.basicConfig(
        stream=sys.stderr, level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("pygls").setLevel(max(logging.WARNING, logging.getLogger().level))
    logging.getLogger("pygls.protocol.json_rpc").addFilter(_drop_answered_errors)
    logging.getLogger("httpx2").setLevel(logging.WARNING)


def _drop_answered_errors(record: logging.LogRecord) -> bool:
    """pygls logs a traceback for every error response; ours are expected and logged already."""
    from pygls.exceptions import JsonRpcException

    exc = record.exc_info[1] if record.exc_info else None
    return not isinstance(exc, JsonRpcException)


def _serve(args: argparse.Namespace) -> int:
    _setup_logging()
    for flag in getattr(args, "ignored", ()):
        # editor plugins built for Copilot's server pass flags of theirs (``--debug``)
        logging.getLogger("inkstream").info("ignoring unknown argument %s", flag)
    from inkstream.app import create_server

    server = create_server()

    def on_sigterm(_signum: int, _frame: object) -> None:
        server.finish()
        logging.shutdown()
        os._exit(128 + signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        if args.tcp:
            host, _, port = args.tcp.rpartition(":")
            server.start_tcp(host or "127.0.0.1", int(port))
        else:
            server.start_io()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        code = 0
    else:
        code = 0
    server.finish()
    logging.shutdown()
    sys.stderr.flush()
    # Background threads (index builds, client warm-up) must not hold the editor's exit.
    os._exit(code)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inkstream", description=__doc__)
    parser.add_argument("--version", action="version", version=f"inkstream {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the language server (stdio by default)")
    serve.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio")
    serve.add_argument("--stdio", action="store_true", help="use stdio (the default)")
    serve.set_defaults(run=_serve)
    from inkstream.terminal import commands, nextedit, stats  # cheap: heavy imports inside

    commands.add_commands(sub)
    nextedit.add_command(sub)
    stats.add_command(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    if _without_command(parser, argv):
        # ``inkstream --stdio``: how Copilot's plugins start a language server
        argv = ["serve", *argv]
    args, unknown = parser.parse_known_args(argv)
    if unknown and args.command != "serve":
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    args.ignored = unknown
    result: int = args.run(args)
    return result


def _without_command(parser: argparse.ArgumentParser, argv: list[str]) -> bool:
    """Flags only, none of them one the top level answers itself (``--version``, ``--help``)."""
    if not argv or any(a in ("-h", "--help", "--version") for a in argv):
        return False
    commands = next(a.choices for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return not any(a in commands for a in argv if not a.startswith("-"))
