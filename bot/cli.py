"""The `insightbot` command: run (Socket Mode), serve (HTTP), ask (terminal), doctor, backup,
usage, channels, schedules, cleanup."""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot import messages
from bot.config import Settings, load_settings
from bot.errors import ConfigError, InsightbotError
from bot.logs import configure_logging

if TYPE_CHECKING:
    from bot.lifecycle import CleanupSummary


class _DefaultsShown(argparse.ArgumentDefaultsHelpFormatter):
    """Shows an option's default only when it has one."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def _parser() -> argparse.ArgumentParser:
    defaults = _DefaultsShown
    parser = argparse.ArgumentParser(
        prog="insightbot",
        description="Data questions in Slack threads, answered with Python. Settings come from "
        "the environment or a .env file in the current folder; `insightbot doctor` checks them.",
        formatter_class=defaults,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "run",
        help="connect to Slack in Socket Mode (no public URL needed)",
        description="Connect to Slack in Socket Mode and answer questions until stopped "
        "(SIGTERM/SIGINT drain running analyses first).",
        formatter_class=defaults,
    )
    serve = commands.add_parser(
        "serve",
        help="HTTP mode: POST /slack/events, GET /healthz",
        description="Serve Slack's events and button clicks over HTTP (signatures verified). "
        "Put it behind a reverse proxy with TLS when it faces the internet.",
        formatter_class=defaults,
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)"
    )
    serve.add_argument("--port", type=int, default=3000, help="port to listen on")
    ask = commands.add_parser(
        "ask",
        help="ask a question about local files from the terminal",
        description="Run the same analysis on local files: progress on stderr, the answer on "
        "stdout, charts saved into --out. Everything it created at the engine (uploaded "
        "files, sandbox, conversation, response) is deleted before it exits, unless --thread "
        "keeps a conversation to continue; those follow INSIGHTBOT_RETENTION_DAYS like Slack "
        "threads do (or `insightbot cleanup`).",
        formatter_class=defaults,
    )
    ask.add_argument(
        "files",
        nargs="*",
        type=Path,
        metavar="FILE",
        help="data files to analyse (with --thread, the conversation's files are used too)",
    )
    ask.add_argument("--question", "-q", required=True, help="the question, in plain words")
    ask.add_argument(
        "--thread",
        help="continue an earlier conversation of this name, with its files (kept in "
        "INSIGHTBOT_ASK_DB and at the engine, under the retention setting); without it, "
        "everything the question created at the engine is deleted before ask exits",
    )
    ask.add_argument(
        "--out",
        type=Path,
        default=Path("insightbot-output"),
        help="folder for charts and files (one folder per run inside it)",
    )
    backup = commands.add_parser(
        "backup",
        help="copy the database to a file, safely while the bot runs",
        description="Write a consistent copy of the SQLite database (INSIGHTBOT_DB) to PATH "
        "with SQLite's online backup; safe while the bot runs. Restore by stopping the bot and "
        "putting the copy in place of the database file.",
        formatter_class=defaults,
    )
    backup.add_argument("path", type=Path, metavar="PATH", help="where to write the copy")
    usage = commands.add_parser(
        "usage",
        help="what the bot cost, by user, channel, day or model",
        description="Turns, tokens, cost in US dollars (sandbox time estimated) and feedback "
        "from the database (INSIGHTBOT_DB); days count in INSIGHTBOT_TIMEZONE.",
        formatter_class=defaults,
    )
    usage.add_argument("--since", default="30d", help="how far back: 30d, 12h, 2w or a date")
    usage.add_argument(
        "--by", choices=("user", "channel", "day", "model"), default="user", help="grouping"
    )
    usage.add_argument("--json", action="store_true", help="a JSON list of objects")
    channels = commands.add_parser(
        "channels",
        help="list or change per-channel settings (on/off, model, daily budget)",
        description="Per-channel settings, the same ones admins change in the App Home. A "
        "running bot sees a change within a minute.",
        formatter_class=defaults,
    )
    channels.add_argument("--json", action="store_true", help="list as JSON")
    channel_commands = channels.add_subparsers(dest="channels_command", metavar="COMMAND")
    change = channel_commands.add_parser(
        "set",
        help="change one channel's settings",
        description="Change the settings given; the others stay. `--model default` and "
        "`--daily-usd default` go back to the global settings.",
        formatter_class=defaults,
    )
    change.add_argument("channel", metavar="CHANNEL_ID")
    switch = change.add_mutually_exclusive_group()
    switch.add_argument("--on", dest="enabled", action="store_const", const=True)
    switch.add_argument("--off", dest="enabled", action="store_const", const=False)
    switch.add_argument(
        "--default", dest="enabled", action="store_const", const="default",
        help="on or off as the access settings say",
    )  # fmt: skip
    change.add_argument("--model", help="the model for this channel's questions")
    change.add_argument("--daily-usd", help="the channel's daily budget in US dollars")
    schedules = commands.add_parser(
        "schedules",
        help="list, add or delete recurring analyses",
        description="Recurring analyses: a question asked again on a schedule in a channel, "
        "its answer in the thread of a new message there. A running bot sees a change within "
        "a minute.",
        formatter_class=defaults,
    )
    schedules.add_argument("--json", action="store_true", help="list as JSON")
    schedule_commands = schedules.add_subparsers(dest="schedules_command", metavar="COMMAND")
    add = schedule_commands.add_parser(
        "add",
        help="add a recurring analysis",
        description="Ask --question in --channel on a schedule, as --user (their budgets and "
        "limits apply). Times are wall-clock times in --tz, daylight saving included.",
        formatter_class=defaults,
    )
    add.add_argument("--channel", required=True, metavar="CHANNEL_ID")
    add.add_argument("--user", required=True, metavar="USER_ID", help="who asks (the owner)")
    add.add_argument("--question", required=True, help="the question, in plain words")
    add.add_argument(
        "--every",
        required=True,
        help="daily, weekdays, weekly:mon..sun or monthly:1..31 (29-31: a shorter month's "
        "last day)",
    )
    add.add_argument("--at", required=True, metavar="HH:MM", help="the time, 24-hour")
    add.add_argument("--tz", metavar="AREA/CITY", help="time zone (default: INSIGHTBOT_TIMEZONE)")
    add.add_argument(
        "--files",
        default="same",
        metavar="newest:PATTERN|same[:FILE_ID,...]",
        help="newest:PATTERN uses the newest file of the channel named like PATTERN "
        "(e.g. newest:sales_*.csv); same:F0123ABCD,... uses those Slack files at every run; "
        "same alone, the channel's recent files like a question without files",
    )
    add.add_argument(
        "--skip-unchanged",
        action="store_true",
        help="skip a run when no new matching file arrived since the last run",
    )
    add.add_argument(
        "--post-skipped",
        action="store_true",
        help="a skipped run posts one short line in the channel (otherwise nothing)",
    )
    delete = schedule_commands.add_parser(
        "delete", help="delete a schedule", formatter_class=defaults
    )
    delete.add_argument("id", type=int, metavar="ID", help="as `insightbot schedules` lists it")
    cleanup = commands.add_parser(
        "cleanup",
        help="delete old threads' data at the engine and here (safe while the bot runs)",
        description="Purge threads: delete their files, sandboxes, conversations and "
        "responses at the engine, and erase their questions, answers, code and file names "
        "here (usage numbers stay). Threads where a question is being answered are skipped. "
        "Safe to run while the bot runs, and to run again. Without options it purges what "
        "the retention sweep would (INSIGHTBOT_RETENTION_DAYS). Exits 1 when some deletion "
        "was refused for now (it is retried later).",
        formatter_class=defaults,
    )
    cleanup.add_argument(
        "--older-than",
        type=float,
        metavar="DAYS",
        help="threads idle for longer than DAYS (0: every thread)",
    )
    cleanup.add_argument(
        "--thread",
        metavar="CHANNEL_ID/THREAD_TS",
        help="one thread, e.g. C0123ABCD/1716200000.123456 (the ts of its first message)",
    )
    cleanup.add_argument(
        "--dry-run", action="store_true", help="list what would be deleted; change nothing"
    )
    cleanup.add_argument("--json", action="store_true", help="print the summary as JSON")
    commands.add_parser(
        "doctor",
        help="check tokens, scopes and engine access",
        description="Check the settings, the Slack tokens and their scopes, and the engine, "
        "one line each, with what to do about each failure.",
        formatter_class=defaults,
    )
    return parser


def _version() -> str:
    try:
        return importlib.metadata.version("insightbot")
    except importlib.metadata.PackageNotFoundError:  # running from a source tree
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"insightbot: {error.user_message}", file=sys.stderr)
        return 2
    # `ask` shows its own progress; routine log lines would only interleave with it.
    quiet = args.command == "ask" and settings.log_level == "INFO"
    configure_logging("WARNING" if quiet else settings.log_level, settings.log_format)
    for warning in settings.warnings():
        logging.getLogger("insightbot").warning(warning)
    try:
        if args.command == "run":
            from handlers.app import run_socket_mode

            asyncio.run(run_socket_mode(settings))
        elif args.command == "serve":
            from handlers.app import serve_http

            asyncio.run(serve_http(settings, host=args.host, port=args.port))
        elif args.command == "ask":
            return asyncio.run(_ask(settings, args))
        elif args.command == "doctor":
            return asyncio.run(_doctor(settings))
        elif args.command == "backup":
            return _backup(settings, args.path)
        elif args.command == "usage":
            from bot.operator_reports import usage_report

            return asyncio.run(
                usage_report(settings, since=args.since, by=args.by, as_json=args.json, say=print)
            )
        elif args.command == "channels":
            return asyncio.run(_channels(settings, args))
        elif args.command == "schedules":
            return asyncio.run(_schedules(settings, args))
        elif args.command == "cleanup":
            return _cleanup(settings, args)
    except ConfigError as error:
        print(f"insightbot: {error.user_message}", file=sys.stderr)
        return 2
    except InsightbotError as error:
        # `ask` speaks the language of its question; the other commands are for operators.
        # Whoever runs a command may read the cause (a host, a refusal): a channel may not.
        lang = messages.language_of(getattr(args, "question", None) or "")
        said = error.text_for(lang)
        if error.detail and error.detail not in said:
            said = f"{said} ({error.detail})"
        print(messages.cli_problem(lang, said), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


async def _ask(settings: Settings, args: argparse.Namespace) -> int:
    from bot import messages
    from bot.ask import ask, out_dir_problem
    from bot.engines.choice import open_engine
    from storage import open_store

    lang = messages.language_of(args.question)
    problem = await asyncio.to_thread(out_dir_problem, args.out, lang)
    if problem is not None:  # before any work: nothing is run (or billed) for nothing
        print(messages.cli_problem(lang, problem), file=sys.stderr)
        return 2
    settings.require(*settings.engine_requirements())
    await asyncio.to_thread(settings.ask_db_path.parent.mkdir, parents=True, exist_ok=True)
    store = await open_store(settings.ask_db_path)
    try:
        engine = await open_engine(settings, history=store, inventory=store)
    except BaseException:
        await store.close()
        raise
    try:
        result = await ask(
            settings=settings,
            engine=engine,
            store=store,
            paths=args.files,
            question=args.question,
            thread_name=args.thread,
            out_dir=args.out,
        )
        return result.exit_code
    finally:
        await store.close()
        await engine.aclose()


def _backup(settings: Settings, dest: Path) -> int:
    if dest.absolute() == settings.db_path.absolute():
        print("insightbot: the backup must go to another file than the database.", file=sys.stderr)
        return 2
    if not dest.parent.is_dir():
        print(f"insightbot: the folder {dest.parent} does not exist.", file=sys.stderr)
        return 2
    size = asyncio.run(_copy_database(settings.db_path, dest))
    print(f"backed up {settings.db_path} to {dest} ({size:,} bytes)")
    return 0


async def _copy_database(db_path: Path, dest: Path) -> int:
    from storage import open_store

    store = await open_store(db_path)
    try:
        return await store.backup(dest)
    finally:
        await store.close()


async def _channels(settings: Settings, args: argparse.Namespace) -> int:
    from bot.operator_reports import UNCHANGED, channels_list, channels_set

    if args.channels_command != "set":
        return await channels_list(settings, as_json=args.json, say=print)
    enabled = UNCHANGED if args.enabled is None else args.enabled
    if enabled == "default":
        enabled = None
    model = UNCHANGED if args.model is None else (None if args.model == "default" else args.model)
    daily: Any = UNCHANGED
    if args.daily_usd is not None:
        daily = None if args.daily_usd == "default" else _amount(args.daily_usd)
    return await channels_set(
        settings, channel=args.channel, enabled=enabled, model=model, daily_usd=daily, say=print
    )


async def _schedules(settings: Settings, args: argparse.Namespace) -> int:
    from bot.schedule_commands import schedules_add, schedules_delete, schedules_list

    if args.schedules_command == "add":
        return await schedules_add(
            settings,
            channel=args.channel,
            user=args.user,
            question=args.question,
            every=args.every,
            at=args.at,
            tz=args.tz,
            files=args.files,
            skip_unchanged=args.skip_unchanged,
            post_skipped=args.post_skipped,
            say=print,
        )
    if args.schedules_command == "delete":
        return await schedules_delete(settings, schedule_id=args.id, say=print)
    return await schedules_list(settings, as_json=args.json, say=print)


def _amount(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise ConfigError(
            f"--daily-usd must be an amount like 5 or 2.50 (or default), got {text!r}."
        )
    return value


def _cleanup(settings: Settings, args: argparse.Namespace) -> int:
    thread = None
    if args.thread:
        channel, slash, thread_ts = args.thread.partition("/")
        if not (slash and channel and thread_ts):
            print("insightbot: --thread takes CHANNEL_ID/THREAD_TS.", file=sys.stderr)
            return 2
        thread = (channel.strip(), thread_ts.strip())
    older_than = args.older_than
    if older_than is None and thread is None:
        if not settings.retention_days:
            print(
                "insightbot: INSIGHTBOT_RETENTION_DAYS is 0 (retention off): say what to purge "
                "with --older-than DAYS or --thread.",
                file=sys.stderr,
            )
            return 2
        older_than = float(settings.retention_days)
    if older_than is not None and older_than < 0:
        print("insightbot: --older-than takes a number of days, 0 or more.", file=sys.stderr)
        return 2
    summary = asyncio.run(
        _run_cleanup(settings, older_than=older_than, thread=thread, dry_run=args.dry_run)
    )
    if args.json:
        print(json.dumps(summary.as_json(), sort_keys=True))
    else:
        print(summary.as_text())
    return 1 if sum(summary.pending.values()) and not args.dry_run else 0


async def _run_cleanup(
    settings: Settings,
    *,
    older_than: float | None,
    thread: tuple[str, str] | None,
    dry_run: bool,
) -> CleanupSummary:
    from bot.engines.choice import open_engine
    from bot.lifecycle import run_cleanup
    from storage import open_store

    settings.require(*settings.engine_requirements())
    store = await open_store(settings.db_path)
    try:
        engine = await open_engine(settings, history=store, inventory=store)
    except BaseException:
        await store.close()
        raise
    try:
        return await run_cleanup(
            store=store,
            engine=engine,
            older_than_days=older_than,
            thread=thread,
            dry_run=dry_run,
        )
    finally:
        await engine.aclose()
        await store.close()


async def _doctor(settings: Settings) -> int:
    from bot.doctor import run_doctor
    from bot.engines.openai import build_engine
    from bot.slack.client import build_web_client
    from bot.slack.gateway import SlackGateway
    from handlers.manifest_facts import BOT_SCOPES

    gateway = None
    if settings.slack_bot_token:
        token = settings.slack_bot_token.reveal()
        gateway = SlackGateway(
            client=build_web_client(token=token, base_url=settings.slack_api_url), bot_token=token
        )
    # The local engine is checked piece by piece by the doctor itself.
    wants_openai = settings.engine == "openai" and settings.openai_api_key
    engine = build_engine(settings) if wants_openai else None
    try:
        healthy = await run_doctor(
            settings=settings,
            gateway=gateway,
            engine=engine,
            required_scopes=frozenset(BOT_SCOPES),
            say=print,
        )
    finally:
        if engine is not None:
            await engine.aclose()
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
