"""What every command shares: options generated from its config model, the common options, error
handling, progress bars, `--print-config` and `--json` output."""

from __future__ import annotations

import errno
import functools
import inspect
import json as jsonlib
import logging
import sys
import types
import typing
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
import typer.core
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from typer.models import DefaultPlaceholder

from respgen.config import leaf_fields
from respgen.errors import RespgenError
from respgen.lock import process_rank
from respgen.workspace import WORKDIR_ENV

console = Console()
err_console = Console(stderr=True)


@dataclass(frozen=True)
class Flag:
    """How a config field is spelled on the command line where the generated spelling does not fit."""

    decls: tuple[str, ...] = ()  # e.g. ("--class",); default: --kebab-name (--x/--no-x for a bool)
    type: Any = None  # the type the CLI parses, e.g. str for a comma-separated list the config validates
    envvar: str | None = None


def flag(*decls: str, type: Any = None, envvar: str | None = None) -> Flag:
    return Flag(decls, type, envvar)


# Spellings every command shares.
SPELLING = {"workdir": flag("--workdir", "-w", envvar=WORKDIR_ENV), "fresh": flag("--fresh/--resume")}


def _option(name: str, typ: Any, default: Any, *decls: str, help: str) -> inspect.Parameter:
    annotation = Annotated[typ, typer.Option(*decls, help=help)]
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default)


# Appended to every command, after its own options.
COMMON = [
    _option("config", Path | None, None, "--config", help="TOML file with option values (flags win)"),
    _option("quiet", bool, False, "--quiet", "-q", help="No progress bars or tables"),
    _option("json", bool, False, "--json", help="Print the result as JSON"),
    _option("debug", bool, False, "--debug", help="Show tracebacks"),
    _option(
        "print_config",
        bool,
        False,
        "--print-config",
        help="Print the resolved config (defaults < file < flags) as JSON and exit",
    ),
]


def command(
    parent: typer.Typer,
    cfg_cls: type[BaseModel],
    *,
    name: str | None = None,
    section: str | None = None,
    arguments: tuple[str, ...] = (),
    spelling: dict[str, Flag] | None = None,
    progress: str | None = None,
    omit: tuple[str, ...] = (),
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register `fn(run, **own_options)` as a command whose options are generated from `cfg_cls`'s fields
    (the fields named in `arguments` are positional; those in `omit` get no option), followed by `fn`'s own
    options and the common ones.
    `fn` gets a `Run` holding the flags given; calling it builds the config and runs the service."""

    def decorate(fn: Callable[..., None]) -> Callable[..., None]:
        cmd_name = name or fn.__name__.replace("_", "-")
        own = [p for p in inspect.signature(fn, eval_str=True).parameters.values() if p.name != "run"]
        leaves = {n: f for n, f in leaf_fields(cfg_cls).items() if n not in omit}
        fields = [
            _field_param(n, f, n in arguments, {**SPELLING, **(spelling or {})}.get(n)) for n, f in leaves.items()
        ]
        params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in fields + own + COMMON]
        clash = {p.name for p in params if [q.name for q in params].count(p.name) > 1}
        assert not clash, f"{cmd_name}: option names used twice: {clash}"

        @functools.wraps(fn, assigned=("__module__", "__name__", "__qualname__", "__doc__"), updated=())
        def wrapper(ctx: typer.Context, **kwargs: Any) -> None:
            opts = {p.name: kwargs.pop(p.name) for p in COMMON}
            flags = {n: kwargs.pop(n) for n in leaves}
            flags = {k: v for k, v in flags.items() if _given(ctx, k) and v is not None and v != []}
            fn(Run(cfg_cls, section or fn.__name__, flags, progress, **opts), **kwargs)

        context = inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)
        wrapper.__signature__ = inspect.Signature([context, *params])  # what Typer reads
        wrapper.__annotations__ = {}  # (Typer also asks typing.get_type_hints; the signature has them all)
        parent.command(cmd_name, cls=OneLineUsageCommand)(wrapper)
        _one_line_usage_group(parent)
        return wrapper

    return decorate


# Typer raises its own (vendored) click's exceptions in newer releases, click's in older ones: take the
# class from the exception Typer exports rather than importing click.
UsageError: type[Exception] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")


@contextmanager
def one_line_usage_errors() -> Iterator[None]:
    """A usage error (a value that does not parse, an unknown option or command, a missing argument) as one
    `error: ...` line on stderr and exit 2, not click's usage box. `--help`, and the help a group prints
    when called without a command (click's NoArgsIsHelpError), are left as they are."""
    try:
        yield
    except UsageError as e:
        if type(e).__name__ == "NoArgsIsHelpError":
            raise
        ctx = getattr(e, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None and ctx.command_path else ""
        message = f"error: {_one_line(e.format_message())}{hint}"
        err_console.print(message, markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


class OneLineUsageCommand(typer.core.TyperCommand):
    """A command whose usage errors (parsing its options and arguments) are one line (`one_line_usage_errors`)."""

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        with one_line_usage_errors():
            return super().make_context(*args, **kwargs)


class OneLineUsageGroup(typer.core.TyperGroup):
    """A group whose own usage errors (its options, an unknown or missing command) are one line too."""

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        with one_line_usage_errors():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: Any) -> Any:
        with one_line_usage_errors():
            return super().invoke(ctx)


def _one_line_usage_group(parent: typer.Typer) -> None:
    """Make `parent`'s click group a `OneLineUsageGroup`, unless it was given a class of its own."""
    if isinstance(parent.info.cls, DefaultPlaceholder) or parent.info.cls is None:
        parent.info.cls = OneLineUsageGroup


def _field_param(name: str, info: FieldInfo, positional: bool, spell: Flag | None) -> inspect.Parameter:
    """The Typer parameter for one config field: its help and default come from the field. (The default is
    only shown: the wrapper keeps only the values given on the command line or in the environment.)"""
    spell = spell or Flag()
    base, is_list = _cli_type(info.annotation)
    base = spell.type or base
    metavar = None
    if typing.get_origin(base) is Literal:
        metavar = "[" + "|".join(map(str, typing.get_args(base))) + "]"
        base = str
    typ = list[base] if is_list and spell.type is None else base
    if positional:
        arg = typer.Argument(help=info.description, metavar=name.upper(), show_default=False)
        return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[typ, arg])
    decls = spell.decls or ((f"--{_kebab(name)}/--no-{_kebab(name)}",) if base is bool else (f"--{_kebab(name)}",))
    opt = typer.Option(*decls, help=info.description, metavar=metavar, envvar=spell.envvar)
    annotation = Annotated[typ | None, opt]
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=_default(info, typ))


def _given(ctx: typer.Context, name: str) -> bool:
    """Passed on the command line or through its environment variable, not a default shown in --help
    (a default must not override the TOML file). By name: Typer may bring its own copy of click."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT")


def _kebab(name: str) -> str:
    return name.replace("_", "-")


def _cli_type(annotation: Any) -> tuple[Any, bool]:
    """(the element type, is it a list) of `X`, `X | None` or `list[X]`."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    if typing.get_origin(annotation) is list:
        return typing.get_args(annotation)[0], True
    return annotation, False


def _default(info: FieldInfo, cli_type: Any) -> Any:
    """The field's default (or its factory's value) as the CLI would parse it; None when there is none."""
    if info.default_factory is not None:
        value = info.default_factory()
    else:
        value = None if info.default is PydanticUndefined else info.default
    if isinstance(value, list) and cli_type is str:  # e.g. seeds [1] given as "--seeds 1"
        return ",".join(map(str, value))
    return value


@dataclass
class Run:
    """One invocation: the flags given and the common options. `run(service, render)` does the rest."""

    cfg_cls: type[BaseModel]
    section: str
    flags: dict[str, Any] = field(default_factory=dict)  # options given on the command line, by field name
    progress: str | None = None  # the progress bar's label; None: the service takes no `progress`
    config: Path | None = None
    quiet: bool = False
    json: bool = False
    debug: bool = False
    print_config: bool = False

    @property
    def show(self) -> bool:
        """Tables and lines for people (not with --quiet or --json)."""
        return not (self.quiet or self.json)

    def shown(self, fn: Callable[..., None]) -> Callable[..., None]:
        return fn if self.show else lambda *a, **k: None

    def __call__(self, service: Callable[..., Any], render: Callable[[Any], None] | None = None, **kwargs: Any) -> Any:
        """Config from defaults < TOML < flags (or print it and exit with --print-config), then the service
        with a progress bar, errors as one line, `--json` or `render`."""
        from respgen.config import load_config

        cfg = run_service(lambda: load_config(self.cfg_cls, self.section, self.config, self.flags), self.debug)
        if self.print_config:
            print_json(cfg.flat() if hasattr(cfg, "flat") else cfg.model_dump(mode="json"))  # keys as flags spell them
            raise typer.Exit(0)

        def go() -> Any:
            if self.progress is None:
                return service(cfg, **kwargs)
            with progress_bar(self.progress, self.show) as update:
                return service(cfg, progress=update, **kwargs)

        result = run_service(go, self.debug)
        if process_rank() != 0:
            raise typer.Exit(0)  # under torchrun / accelerate launch only rank 0 reports
        if self.json:
            print_json(result.to_dict())
        elif render is not None and self.show:
            render(result)
        return result


# OS errors the user can fix (a path not writable, a file where a folder should be): bad input, exit 2
USER_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.EISDIR, errno.EEXIST, errno.ENOENT}


@contextmanager
def library_output(debug: bool) -> Iterator[None]:
    """Library warnings (torch's pickle warning, deprecations) and library logs (transformers' load
    reports, accelerate) only with --debug: otherwise a failure is exactly one `error:` line."""
    if debug:
        yield
        return
    previous = logging.root.manager.disable
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.disable(logging.WARNING)
        try:
            yield
        finally:
            logging.disable(previous)


def _one_line(text: str) -> str:
    return "; ".join(line.strip() for line in text.splitlines() if line.strip())


def run_service(fn: Callable[[], Any], debug: bool) -> Any:
    """Call a service; turn failures into one `error: ...` line and an exit code (2 input, 1 runtime)."""
    try:
        with library_output(debug):
            return fn()
    except RespgenError as e:
        if debug:
            err_console.print_exception()
        err_console.print(f"error: {_one_line(str(e))}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(e.exit_code) from None
    except OSError as e:
        if e.filename is None:
            return _unexpected(e, debug)
        if debug:
            err_console.print_exception()
        where = e.filename if e.filename2 is None else f"{e.filename} -> {e.filename2}"
        message = f"error: cannot use {where}: {e.strerror or e.__class__.__name__}"
        err_console.print(message, markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2 if e.errno in USER_ERRNOS else 1) from None
    except KeyboardInterrupt:
        err_console.print("error: interrupted", highlight=False)
        raise typer.Exit(130) from None
    except Exception as e:  # noqa: BLE001 (a bug or an environment failure: still one line unless --debug)
        _unexpected(e, debug)


def _unexpected(e: Exception, debug: bool) -> None:
    if debug:
        err_console.print_exception()
    message = f"error: {e.__class__.__name__}: {_one_line(str(e))} (run with --debug for the traceback)"
    err_console.print(message, markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(1) from None


@contextmanager
def progress_bar(description: str, enabled: bool) -> Iterator[Callable[..., None]]:
    """Yield a callback `update(done, total, **fields)`; a no-op when disabled (`--quiet`/`--json`) or when
    stderr is not a terminal (logs and pipes get the result, not bar redraws)."""
    if not (enabled and err_console.is_terminal):
        yield lambda *a, **k: None
        return
    columns = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[info]}"),
    ]
    with Progress(*columns, console=err_console, transient=False) as bar:
        task = bar.add_task(description, total=None, info="")

        def update(done: int, total: int, **fields: Any) -> None:
            info = "  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in fields.items())
            bar.update(task, completed=done, total=total, info=info)

        yield update


def print_json(obj: Any) -> None:
    sys.stdout.write(jsonlib.dumps(obj, indent=2, default=str) + "\n")
