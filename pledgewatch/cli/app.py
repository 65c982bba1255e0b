"""The typer application, global options, `init`, and the error boundary."""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer

from pledgewatch.characters import first_unsafe, printable, quoted
from pledgewatch.cli import alert, evidence, feed, pledge, query, review, web
from pledgewatch.cli import errors as cli_errors
from pledgewatch.cli import report as report_commands
from pledgewatch.cli import sweep as sweep_commands
from pledgewatch.cli.context import State, state
from pledgewatch.cli.output import say
from pledgewatch.errors import PledgewatchError

app = typer.Typer(
    rich_markup_mode=None,
    name="pledgewatch",
    help=(
        "Track public pledges until they are kept or broken.\n\n"
        "Example: pledgewatch init && pledgewatch pledge import examples/pledges.csv"
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(pledge.app, name="pledge")
app.add_typer(feed.app, name="feed")
app.add_typer(query.app, name="query")
app.add_typer(evidence.app, name="evidence")
app.command("rematch")(evidence.rematch)
app.command("verdict")(review.verdict)
app.command("status")(review.status)
app.command("report")(report_commands.report)
app.add_typer(report_commands.export_app, name="export")
app.command("sweep")(sweep_commands.sweep)
app.command("watch")(sweep_commands.watch)
app.command("serve")(web.serve)
app.command("prune")(sweep_commands.prune)
app.add_typer(web.app, name="user")
app.add_typer(alert.app, name="alert")


@app.callback()
def _global(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="Configuration file (default: $PLEDGEWATCH_CONFIG, else ./config.toml).",
            show_default=False,
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show tracebacks and more detail.")
    ] = False,
) -> None:
    """Track public pledges until they are kept or broken."""
    ctx.obj = State(config_path=str(config) if config else None, verbose=verbose)
    _current[0] = ctx.obj


@app.command()
def init(ctx: typer.Context) -> None:
    """Create or upgrade the database (idempotent: safe to run from cron).

    Writes a commented default config.toml first when there is none.

    Example: pledgewatch --config /srv/newsroom/config.toml init
    """
    from pledgewatch.config import write_default_config

    st = state(ctx)
    written = write_default_config(st.config_path, os.environ)
    if written is not None:
        say(f"wrote a commented default configuration to {written}")
    st.config()
    desk = st.desk(check=False)
    before, after = desk.init()
    where = desk.where()
    if before == after:
        say(f"database {where} is up to date (revision {after})")
    elif before is None:
        say(f"created database {where} (revision {after})")
    else:
        say(f"upgraded database {where} from revision {before} to {after}")


# The state of the command being run, so the error boundary knows about -v.
_current: list[State | None] = [None]


def _unreadable_argument(argv: list[str]) -> str | None:
    """The first argument that is not UTF-8 text, described, or None.

    Bytes that are not UTF-8 reach Python as lone surrogates; no database can
    store them, so they are refused here, where every argument enters.
    """
    for position, arg in enumerate(argv, start=1):
        problem = first_unsafe(arg)
        if problem is not None and "UTF-8" in problem:
            shown = quoted(arg)
            return f'argument {position} ("{shown}") {problem}'
    return None


def verbose_first(args: list[str]) -> list[str]:
    """-v or --verbose anywhere before "--" (and not an option's value), moved to
    the front where the global option is read: "pledgewatch sweep -v" works."""
    found = []
    for position, arg in enumerate(args):
        if arg == "--":
            break
        previous = args[position - 1] if position else ""
        value_of_option = previous.startswith("-") and previous not in _FLAGS
        if arg in ("-v", "--verbose") and not value_of_option:
            found.append(position)
    if not found:
        return list(args)
    return ["-v", *(a for i, a in enumerate(args) if i not in found)]


# Options that take no value: a -v after one of them is the verbose flag.
_FLAGS = frozenset(
    {
        "--json",
        "--csv",
        "--nl",
        "--force",
        "--dry-run",
        "--all",
        "--apply",
        "--skip-existing",
        "--same",
        "--archived",
        "--full",
        "--password-stdin",
        "-v",
        "--verbose",
        "--help",
    }
)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code.

    Output into a pipe that closed early (``pledgewatch pledge list | head``)
    ends the command quietly with 141, as a process stopped by SIGPIPE does.
    """
    try:
        return _run(argv)
    except BrokenPipeError:
        # Whatever is still buffered for the closed pipe goes nowhere.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


def _run(argv: list[str] | None) -> int:
    _current[0] = None
    args = verbose_first(sys.argv[1:] if argv is None else argv)
    unreadable = _unreadable_argument(args)
    if unreadable is not None:
        print(f"error: {unreadable}", file=sys.stderr)
        return 2
    command = typer.main.get_command(app)
    try:
        result = command.main(args=args, prog_name="pledgewatch", standalone_mode=False)
    except PledgewatchError as exc:
        if _current[0] is not None and _current[0].verbose:
            traceback.print_exc()
        # Split at line feeds only: a message is one line, or an import
        # file's head line and its bad rows.
        said = cli_errors.message(exc)
        lines = printable(said).split("\n") if said else [type(exc).__name__]
        print(f"error: {lines[0]}", file=sys.stderr)
        for line in lines[1:]:
            print(line, file=sys.stderr)
        return cli_errors.exit_code(exc)
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        print("aborted", file=sys.stderr)
        return 130
    except typer.TyperException as exc:
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError":
            # A group called without arguments: its help, on stdout, as --help gives it.
            shown = exc.format_message()
            if shown.strip():
                print(shown)
            return 0
        message = printable(exc.format_message().strip().rstrip("."))
        if message == "Missing command" and ctx is not None:
            # Options but no command ("pledgewatch --config x"): the help, not an error.
            help_text = ctx.get_help()
            if help_text:
                print(help_text)
            return 0
        # Usage errors, in one line like every other error.
        message = message[:1].lower() + message[1:]
        hint = f' (see "{ctx.command_path} --help")' if ctx is not None else ""
        print(f"error: {message}{hint}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        if _current[0] is not None:
            _current[0].close()
    return result if isinstance(result, int) else 0
