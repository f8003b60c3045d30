"""``hallsync central user …``: manage HQ users from central's machine, with the same rules as
``/api/v1/hq/users`` (``server.central.hq.users``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
import msgspec

from server.cli.common import ask_password, central_database, data_dir_option, now, run
from server.settings import SetupSecrets

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

T = TypeVar("T")
S = TypeVar("S", bound=msgspec.Struct)

DATA_DIR = data_dir_option(
    "Folder holding central's settings or database (or set HALLSYNC_DATA_DIR)."
)


def _user_password(username: str) -> str:
    """A password for ``username``: from HALLSYNC_HQ_USER_PASSWORD or a hidden prompt, never
    from the command line (where other users of the machine and the shell history see it)."""
    return ask_password(username, SetupSecrets.from_env().hq_user_password)


def _users(data_dir: Path, step: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """Run ``step`` in one write transaction on central's (migrated) database."""
    from server.central import db

    url = central_database(data_dir)

    async def in_transaction() -> T:
        engine = db.make_engine(url)
        try:
            await db.migrate(engine)
            async with db.write(engine) as conn:
                return await step(conn)
        finally:
            await engine.dispose()

    return run(in_transaction())


def _checked(struct: type[S], **fields: Any) -> S:
    """The fields as the API would take them: the same limits, the same messages."""
    try:
        return msgspec.convert(fields, struct)
    except msgspec.ValidationError as exc:
        raise click.ClickException(str(exc)) from exc


def _describe(user: Any) -> str:
    regions = ",".join(user.regions) or "*"
    flags = ("" if user.active else " inactive") + (
        " must-change-password" if user.must_change_password else ""
    )
    return f"{user.username}\t{user.role}\t{regions}\t{user.display_name}{flags}"


@click.group("user")
def user() -> None:
    """Manage HQ users (the same rules as /api/v1/hq/users).

    Passwords come from HALLSYNC_HQ_USER_PASSWORD or a prompt, never from the command line.
    A user given a password here must choose their own at their first login.
    """


@user.command("add")
@click.argument("username")
@DATA_DIR
@click.option("--role", type=click.Choice(["admin", "ops", "analyst", "auditor"]), required=True)
@click.option(
    "--region", "regions", multiple=True, help="A region the user may see (repeat); none: all."
)
@click.option("--display-name", default=None, help="Name shown to HQ [USERNAME].")
def user_add(
    username: str, data_dir: Path, role: str, regions: tuple[str, ...], display_name: str | None
) -> None:
    """Create HQ user USERNAME."""
    from anyio import to_thread

    from schema.api.hq_users import HqUserIn
    from server.central.hq import users as hq_users
    from server.passwords import hash_password

    data = _checked(
        HqUserIn,
        username=username,
        display_name=display_name or username,
        role=role,
        regions=list(regions),
        password=_user_password(username),
    )

    async def step(conn: AsyncConnection) -> Any:
        pw_hash = await to_thread.run_sync(hash_password, data.password)
        out, _ = await hq_users.create_user(
            conn, data, password_hash=pw_hash, now=now(), created_by=None
        )
        return out

    click.echo(f"created {_describe(_users(data_dir, step))}")


@user.command("list")
@DATA_DIR
@click.option("--role", type=click.Choice(["admin", "ops", "analyst", "auditor"]), default=None)
@click.option("--active/--inactive", default=None, help="Only active (or inactive) users.")
def user_list(data_dir: Path, role: str | None, active: bool | None) -> None:
    """List HQ users: user name, role, regions (* = every region), display name."""
    from server.central.hq import users as hq_users

    async def step(conn: AsyncConnection) -> list[Any]:
        rows = await conn.execute(hq_users.list_query(role=role, active=active))
        return [hq_users.user_out(r) for r in rows]

    for user in _users(data_dir, step):
        click.echo(_describe(user))


def _update(data_dir: Path, username: str, **change: Any) -> None:
    from schema.api.hq_users import HqUserUpdate
    from server.central.hq import users as hq_users

    data = _checked(HqUserUpdate, **change)
    out = _users(data_dir, lambda conn: hq_users.update_user(conn, username, data))
    click.echo(f"changed {_describe(out)}")


@user.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice(["admin", "ops", "analyst", "auditor"]))
@DATA_DIR
def user_set_role(username: str, role: str, data_dir: Path) -> None:
    """Give USERNAME another ROLE."""
    _update(data_dir, username, role=role)


@user.command("set-regions")
@click.argument("username")
@click.argument("regions", nargs=-1)
@DATA_DIR
@click.option("--all", "every", is_flag=True, help="Every region (instead of REGIONS).")
def user_set_regions(username: str, regions: tuple[str, ...], data_dir: Path, every: bool) -> None:
    """Limit USERNAME to REGIONS, or give them every region with --all."""
    if every == bool(regions):
        raise click.UsageError("name the regions, or give --all for every region")
    _update(data_dir, username, regions=list(regions))


@user.command("deactivate")
@click.argument("username")
@DATA_DIR
def user_deactivate(username: str, data_dir: Path) -> None:
    """Lock USERNAME out: logins fail and their tokens stop working at once."""
    _update(data_dir, username, active=False)


@user.command("activate")
@click.argument("username")
@DATA_DIR
def user_activate(username: str, data_dir: Path) -> None:
    """Let a deactivated USERNAME log in again."""
    _update(data_dir, username, active=True)


@user.command("reset-password")
@click.argument("username")
@DATA_DIR
def user_reset_password(username: str, data_dir: Path) -> None:
    """Set a new password for USERNAME, who must choose their own at their next login; their
    earlier tokens stop working."""
    from anyio import to_thread

    from schema.api.hq_users import PasswordResetIn
    from server.central.hq import users as hq_users
    from server.passwords import hash_password

    data = _checked(PasswordResetIn, password=_user_password(username))

    async def step(conn: AsyncConnection) -> Any:
        pw_hash = await to_thread.run_sync(hash_password, data.password)
        return await hq_users.set_password(conn, username, pw_hash, by_admin=True)

    click.echo(f"password reset: {_describe(_users(data_dir, step))}")
