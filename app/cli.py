"""Command line: ``python -m app serve | notes check [DIR] | demo list | demo run METHOD |
bench NAME``."""

from __future__ import annotations

import argparse
import runpy
import signal
import sys
from pathlib import Path

from app import PROJECT_ROOT
from app.settings import get_settings


def _serve(args: argparse.Namespace) -> int:
    import uvicorn
    from pydantic import ValidationError

    try:
        settings = get_settings()
    except ValidationError as exc:  # a setting's own message, not a traceback
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"]).upper() or "settings"
            print(f"error: {where}: {error['msg']}", file=sys.stderr)
        return 2
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again under the
    # handler it found: with the default one the process dies of it (143 in
    # `docker stop`). A stop asked for and carried out is a clean exit: 0.
    signal.signal(signal.SIGTERM, lambda *_: None)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_level=settings.log_level,
    )
    return 0


def _notes_check(args: argparse.Namespace) -> int:
    from app.catalog.parser import parse_notes_dir

    notes_dir = Path(args.dir) if args.dir else get_settings().notes_dir
    if not notes_dir.is_dir():
        print(f"error: {notes_dir} is not a folder", file=sys.stderr)
        return 2
    from app.web.bindings import registry_diagnostics  # the torch-free registry's view

    catalog = parse_notes_dir(notes_dir)
    diagnostics = registry_diagnostics(catalog)
    for diagnostic in diagnostics:
        print(diagnostic, file=sys.stderr)
    errors = sum(d.level == "error" for d in diagnostics)
    warnings = len(diagnostics) - errors
    print(
        f"{len(catalog.papers)} papers in {len(catalog.categories)} categories, "
        f"{errors} errors, {warnings} warnings"
    )
    return 1 if errors else 0


def _demo(args: argparse.Namespace) -> int:
    # Imported here: only the demo commands pay for torch.
    from app.distill import console

    return console.main(args.demo_args)


BENCH_DIR = PROJECT_ROOT / "bench"


def _bench(args: argparse.Namespace) -> int:
    """Run one of bench/*.py as its own script, with the remaining arguments."""
    available = sorted(p.stem for p in BENCH_DIR.glob("*.py"))
    if args.name not in available:
        print(
            f"error: no benchmark {args.name!r}; choose from {', '.join(available)}",
            file=sys.stderr,
        )
        return 2
    sys.argv = [str(BENCH_DIR / f"{args.name}.py"), *args.bench_args]
    runpy.run_path(sys.argv[0], run_name="__main__")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the web app")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(func=_serve)

    notes = sub.add_parser("notes", help="work with the notes")
    notes_sub = notes.add_subparsers(dest="notes_command", required=True)
    check = notes_sub.add_parser("check", help="parse notes and print diagnostics")
    check.add_argument("dir", nargs="?", help="notes folder (default: NOTES_DIR)")
    check.set_defaults(func=_notes_check)

    demo = sub.add_parser("demo", help="list or run distillation demos", add_help=False)
    demo.add_argument("demo_args", nargs=argparse.REMAINDER)
    demo.set_defaults(func=_demo)

    bench = sub.add_parser("bench", help="run a benchmark from bench/")
    bench.add_argument("name", help="catalog, stream, trainer_overhead or reproduce")
    bench.add_argument("bench_args", nargs=argparse.REMAINDER)
    bench.set_defaults(func=_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
