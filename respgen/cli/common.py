"""What every command shares: the common options, error handling, progress bars, JSON output."""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Callable, Iterator, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from respgen.errors import RespgenError
from respgen.workspace import WORKDIR_ENV

console = Console()
err_console = Console(stderr=True)

Workdir = Annotated[
    Optional[Path],
    typer.Option("--workdir", "-w", envvar=WORKDIR_ENV, help="Workspace folder [default: ./respgen-work]", show_default=False),
]
ConfigFile = Annotated[Optional[Path], typer.Option("--config", help="TOML file with option values (flags win)")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or tables")]
Json = Annotated[bool, typer.Option("--json", help="Print the result as JSON")]
Debug = Annotated[bool, typer.Option("--debug", help="Show tracebacks")]
Precision = Annotated[Optional[str], typer.Option(help="no | bf16 | fp16 [default: no]")]
Cpu = Annotated[Optional[bool], typer.Option("--cpu/--no-cpu", help="Force CPU even with a GPU")]


def run_service(fn: Callable[[], Any], debug: bool) -> Any:
    """Call a service; turn failures into one `error: ...` line and an exit code (2 input, 1 runtime)."""
    try:
        return fn()
    except RespgenError as e:
        if debug:
            err_console.print_exception()
        err_console.print(f"error: {e}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(e.exit_code) from None
    except KeyboardInterrupt:
        err_console.print("error: interrupted", highlight=False)
        raise typer.Exit(130) from None
    except Exception as e:  # a bug or an environment failure: still one line unless --debug
        if debug:
            err_console.print_exception()
        err_console.print(f"error: {e.__class__.__name__}: {e} (run with --debug for the traceback)", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


@contextmanager
def progress_bar(description: str, enabled: bool) -> Iterator[Callable[..., None]]:
    """Yield a callback `update(done, total, **fields)`; a no-op when disabled (`--quiet`/`--json`) or when
    stderr is not a terminal (logs and pipes get the result, not bar redraws)."""
    if not (enabled and err_console.is_terminal):
        yield lambda *a, **k: None
        return
    columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.fields[info]}")]
    with Progress(*columns, console=err_console, transient=False) as bar:
        task = bar.add_task(description, total=None, info="")

        def update(done: int, total: int, **fields: Any) -> None:
            info = "  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in fields.items())
            bar.update(task, completed=done, total=total, info=info)

        yield update


def execute(cfg_cls, section: str, config_file: Path | None, flags: dict[str, Any], service: Callable[..., Any], *,
            quiet: bool, json: bool, debug: bool, progress: str | None = None) -> Any:
    """The body every command shares: config from defaults < TOML < flags, the service run with a
    progress bar (when `progress` names one), errors as one line, `--json` output."""
    from respgen.config import load_config

    def go():
        cfg = load_config(cfg_cls, section, config_file, flags)
        if progress is None:
            return service(cfg)
        with progress_bar(progress, not (quiet or json)) as update:
            return service(cfg, progress=update)

    result = run_service(go, debug)
    if int(os.environ.get("RANK", "0")) != 0:
        raise typer.Exit(0)  # under torchrun / accelerate launch only rank 0 reports
    if json:
        print_json(result.to_dict())
    return result


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, default=str) + "\n")


def given(**flags: Any) -> dict[str, Any]:
    """Flags the user passed (None = not given), ready for `load_config`."""
    return {k: v for k, v in flags.items() if v is not None}
