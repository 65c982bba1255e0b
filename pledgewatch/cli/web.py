"""`pledgewatch serve` and `pledgewatch user add|list|disable|enable|reset|role`."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer

from pledgewatch.cli.context import state
from pledgewatch.cli.output import listing_format, listing_table, print_rows, say, stdout
from pledgewatch.errors import InputError

app = typer.Typer(
    help="People who log in to the web desk (pledgewatch serve).",
    no_args_is_help=True,
    rich_markup_mode=None,
)

ROLE_HELP = (
    "reporter (logs and edits pledges), editor (also reviews and records verdicts) "
    "or admin (also manages people and feeds)."
)
PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the password from the first line of standard input (for scripts); "
        "otherwise it is asked for twice, not shown.",
    ),
]


def read_password(from_stdin: bool) -> str:
    """The new password: a line of stdin, or typed twice at a prompt that hides it."""
    if from_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise InputError("no terminal to ask for the password; give --password-stdin")
    first = getpass.getpass("password (at least 10 characters): ")
    second = getpass.getpass("the same again: ")
    if first != second:
        raise InputError("the two passwords differ; nothing was changed")
    return first


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Their log-in name, as actions will record it.")],
    role: Annotated[str, typer.Option("--role", help=ROLE_HELP + " [required]")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Add a person who can log in to the web desk.

    Example: pledgewatch user add ana --role editor
    """
    desk = state(ctx).desk()
    person = desk.add_user(name, role, read_password(password_stdin))
    say(f"added {person.name} ({person.role})")


@app.command("list")
def list_users(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print every row as CSV.")] = False,
    as_nl: Annotated[bool, typer.Option("--nl", help="Print every row as a line of JSON.")] = False,
) -> None:
    """Everyone who can log in (never their passwords).

    Example: pledgewatch user list --json
    """
    fmt = listing_format(as_json, as_csv, as_nl)
    people = state(ctx).desk().users()
    if fmt != "table":
        print_rows([p.to_json() for p in people], fmt)
        return
    if not people:
        say('nobody can log in yet; add someone with "pledgewatch user add NAME --role admin"')
        return
    stdout.print(
        listing_table(
            [("name", 1), ("role", 0), ("state", 0), ("last log-in", 0)],
            [
                [
                    p.name,
                    p.role,
                    "disabled" if p.disabled else "active",
                    p.last_login_at.strftime("%Y-%m-%d %H:%M") if p.last_login_at else "never",
                ]
                for p in people
            ],
        )
    )


@app.command("disable")
def disable(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Who.")]) -> None:
    """Stop a person logging in; their open sessions end at once. Their actions stay
    recorded under their name.

    Example: pledgewatch user disable rui
    """
    person = state(ctx).desk().disable_user(name)
    say(f"{person.name} is disabled")


@app.command("enable")
def enable(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Who.")]) -> None:
    """Let a disabled person log in again.

    Example: pledgewatch user enable rui
    """
    person = state(ctx).desk().disable_user(name, disabled=False)
    say(f"{person.name} is enabled")


@app.command("reset")
def reset(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Who.")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Give a person a new password; their open sessions end and a lock-out is lifted.

    Example: pledgewatch user reset ana
    """
    desk = state(ctx).desk()
    if desk.find_user(name.strip()) is None:
        raise InputError(f'no person "{name}"; see "pledgewatch user list"')
    person = desk.reset_password(name, read_password(password_stdin))
    say(f"{person.name}'s password is reset")


@app.command("role")
def role(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Who.")],
    new_role: Annotated[str, typer.Argument(metavar="ROLE", help=ROLE_HELP)],
) -> None:
    """Change what a person may do.

    Example: pledgewatch user role rui editor
    """
    person = state(ctx).desk().set_user_role(name, new_role)
    say(f"{person.name} is now {person.role}")


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", help="Port to listen on.", min=1, max=65535)
    ] = 8080,
    forwarded_allow_ips: Annotated[
        str,
        typer.Option(
            "--forwarded-allow-ips",
            help="Proxies whose X-Forwarded-For and X-Forwarded-Proto are trusted "
            "(comma-separated addresses, or * behind a private network).",
        ),
    ] = "127.0.0.1",
) -> None:
    """The web desk: the board, pledge pages, the review queue and verdicts.

    Everyone logs in (add people with "pledgewatch user add"). Serve it behind a
    reverse proxy with HTTPS and set [web] https = true; see the README.

    Example: pledgewatch serve --port 8080
    """
    import uvicorn

    from pledgewatch.web.app import create_app

    st = state(ctx)
    st.desk()  # the database must be ready before the first visitor
    application = create_app(st.config())
    if not application.state.web.desk.users():
        say('nobody can log in yet; add an admin with "pledgewatch user add NAME --role admin"')
    say(f"serving the desk on http://{host}:{port}/ (Ctrl-C stops it)")
    uvicorn.run(
        application,
        host=host,
        port=port,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        server_header=False,
        log_level="info",
    )
