"""Catalog benchmark: parse time of a 1,000-paper notes folder shaped like the seed,
start-up before and after the parse cache (cold and warm), search before and after,
and server-side latency of the main pages next to the same bytes served as a static
file by the same app, all measured side by side in one run.

    .venv/bin/python bench/catalog.py [--papers 1000] [--requests 300] [--rounds 9]
"""

from __future__ import annotations

import argparse
import asyncio
import pickle
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from fastapi.staticfiles import StaticFiles

from app.catalog import blocks, parser, search
from app.catalog.catalog import Catalog, mention_text
from app.catalog.live import LiveCatalog
from app.catalog.parser import parse_notes_dir
from app.catalog.query import PaperQuery, run_query
from app.main import create_app
from app.settings import Settings
from app.web.bindings import registry_diagnostics

LEGEND = """# 论文阅读笔记

**评分细节：**

- 5分：值得反复阅读的论文，非常具有启发性

- 4分：值得精读的论文，具有一定的启发性

- 3分：值得粗略阅读的论文，了解论文大概思想后会有一定收获

- 2分：价值不大的论文，读完基本没有收获

- 1分：粗制滥造的论文

"""
VENUES = ["CVPR", "ICCV", "ECCV", "NeurIPS", "ICLR", "ICML", "AAAI", "arXiv"]
SUFFIXES = ["", "", "", "_oral", "_spotlight", " under review"]
INSIGHTS = [
    "student网络一方面用带温度的softmax去学习teacher网络的分布，一方面学习真实标签。",
    "由浅层feature map生成一个表示batch内样本间相似度的相似矩阵，对这个矩阵进行蒸馏。",
    "可以理解为更加真实的label smooth，把相同标签样本的输出看成soft label。",
    "要求每个浅层模型都具有独立判别的能力，且与深层模型接近。",
    "两个网络mutual的训练，将输出分布求KL散度作为Loss的一项。",
]


def generate_notes(folder: Path, papers: int, files: int = 10, seed: int = 0) -> None:
    """Write `papers` papers over `files` files: sections, ratings, shared notes."""
    rng = random.Random(seed)
    per_file = papers // files
    number = 0
    for f in range(files):
        lines = [LEGEND] if f == 0 else []
        lines.append(f"# Topic {f}\n\n> 主题 {f} 的笔记。\n")
        for i in range(per_file):
            if i % 25 == 0:
                lines.append(f"\n## Section {f}.{i // 25}\n\n> 小节说明。\n")
            number += 1
            year = rng.randint(2014, 2024)
            venue = rng.choice(VENUES) + str(year) + rng.choice(SUFFIXES)
            arxiv = f"{year % 100:02d}{rng.randint(1, 12):02d}.{number:05d}"
            lines.append(
                f"- [Paper {number}: distilling idea {rng.random():.6f}]"
                f"(https://arxiv.org/abs/{arxiv}) ({venue})"
            )
            if i % 10 == 3:
                continue  # shares the next paper's note, like SP + FSP in the seed
            lines.append(f"    - {rng.randint(1, 5)}分")
            lines += [f"    - {rng.choice(INSIGHTS)}" for _ in range(rng.randint(2, 4))]
            lines.append("")
        (folder / f"notes-{f:02d}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def time_edit(folder: Path, repeats: int) -> list[float]:
    """Re-parse after one of the ten files is edited: the store's path on a live edit."""
    store = LiveCatalog(folder, poll_interval=0)
    store.get()
    edited = folder / "notes-05.md"
    times = []
    for i in range(repeats):
        edited.write_text(edited.read_text(encoding="utf-8") + f"\n<!-- edit {i} -->\n")
        start = time.perf_counter()
        store.get()
        times.append(time.perf_counter() - start)
    return times


def time_parse(folder: Path, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        catalog = parse_notes_dir(folder)
        times.append(time.perf_counter() - start)
    assert len(catalog.papers) > 0
    return times


# The issue's queries, and some that hit the generated notes' titles and insights.
QUERIES = ["知识 蒸馏", "hinton 蒸馏", "LSR KD", "ＫＤ", "tfkd", "蒸馏", "student 网络",
           "paper 42", "distilling idea", "label smooth", "nothing-matches-this"]  # fmt: skip


def start_up(notes: Path, cache: Path | None) -> Catalog:
    """What the app's lifespan does for the notes: load them, check the demo bullets."""
    catalog = LiveCatalog(notes, poll_interval=0, cache_dir=cache).get()
    registry_diagnostics(catalog)
    return catalog


def time_startup(notes: Path, cache: Path, rounds: int) -> dict[str, list[float]]:
    """Round by round, side by side: a start as before (no cache: every file parsed),
    a cold start (an empty cache: parse, then write it) and a warm one."""
    samples: dict[str, list[float]] = {"before (no cache)": [], "cold cache": [],
                                       "warm cache": []}  # fmt: skip
    for _ in range(rounds):
        shutil.rmtree(cache, ignore_errors=True)
        for name, folder in zip(samples, (None, cache, cache), strict=True):
            start = time.perf_counter()
            start_up(notes, folder)
            samples[name].append(time.perf_counter() - start)
    return samples


def cold_breakdown(notes: Path, rounds: int) -> dict[str, float]:
    """Where a cold start's time goes, stage by stage (medians over rounds): the
    Markdown tokenizer, the tree of blocks, the rest of the parse (notes, fields, HTML,
    sanitising, search folding), assembling the catalog, writing the cache. With the
    cycle collector held off, as the parse runs."""
    texts = [(p.name, p.read_text(encoding="utf-8")) for p in sorted(notes.glob("*.md"))]
    stages: dict[str, list[float]] = {name: [] for name in (
        "markdown-it tokens", "block tree", "whole parse_file", "assemble", "pickle")}  # fmt: skip
    for _ in range(rounds):
        with parser.gc_paused():
            _stage_round(texts, stages)
    return {name: statistics.median(values) for name, values in stages.items()}


def _stage_round(texts: list[tuple[str, str]], stages: dict[str, list[float]]) -> None:
    start = time.perf_counter()
    tokens = [parser._MD.parse(text) for _, text in texts]
    stages["markdown-it tokens"].append(time.perf_counter() - start)
    start = time.perf_counter()
    for t in tokens:
        blocks.blocks(t)
    stages["block tree"].append(time.perf_counter() - start)
    start = time.perf_counter()
    results = [parser.parse_file(name, text) for name, text in texts]
    stages["whole parse_file"].append(time.perf_counter() - start)
    start = time.perf_counter()
    catalog = parser.combine(results)
    stages["assemble"].append(time.perf_counter() - start)
    start = time.perf_counter()
    for r in (*results, catalog):
        pickle.dumps(r, protocol=pickle.HIGHEST_PROTOCOL)
    stages["pickle"].append(time.perf_counter() - start)


def report_breakdown(stages: dict[str, float]) -> None:
    own = stages["whole parse_file"] - stages["markdown-it tokens"] - stages["block tree"]
    rows = {"markdown-it tokens": stages["markdown-it tokens"],
            "tree of blocks (app/catalog/blocks.py)": stages["block tree"],
            "notes: text, fields, HTML, MathML, nh3, folding": own,
            "assemble the catalog": stages["assemble"],
            "pickle for the cache": stages["pickle"]}  # fmt: skip
    total = sum(rows.values())
    print(f"\n{'cold start, by stage (medians)':<52} {'ms':>8} {'share':>7}")
    for name, value in rows.items():
        print(f"{name:<52} {value * 1e3:>8.1f} {value / total:>6.0%}")


def _substring_search(catalog: Catalog, q: str) -> list:
    """The search as it was: the query, lower-cased, as one substring of the text."""
    needle = q.strip().lower()
    return [p for p in catalog.papers.values() if needle in mention_text(p)]


def _term_search(catalog: Catalog, q: str) -> list:
    """The search's own work now: fold, match every term, rank title hits first."""
    terms = search.terms(q)
    hits = [p for p in catalog.papers.values() if catalog.haystacks[p.slug].matches(terms)]
    return sorted(hits, key=lambda p: catalog.haystacks[p.slug].rank(terms))


def time_search(catalog: Catalog, rounds: int) -> dict[str, list[float]]:
    """Per query, interleaved: the old match, the new match, and the whole run_query
    (filters, facets, a page of 50) with and without the search."""
    runs = {"match, before (substring)": _substring_search,
            "match, after (terms)": _term_search,
            "run_query, no search": lambda c, q: run_query(c, PaperQuery()),
            "run_query with q": lambda c, q: run_query(c, PaperQuery(q=q))}  # fmt: skip
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for q in QUERIES:
            for name, run in runs.items():
                start = time.perf_counter()
                run(catalog, q)
                samples[name].append(time.perf_counter() - start)
    return samples


async def call(app, path: str) -> tuple[float, bytes]:
    """One request straight into the ASGI app: server-side time, no client or socket."""
    raw_path, _, query = path.partition("?")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": raw_path, "raw_path": raw_path.encode(),
        "query_string": query.encode(), "root_path": "", "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 1), "headers": [(b"host", b"127.0.0.1"), (b"accept", b"text/html")],
    }  # fmt: skip
    body = bytearray()
    status = 0
    requested = False

    async def receive():
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the client never leaves; cancelled when done

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))

    start = time.perf_counter()
    await app(scope, receive, send)
    elapsed = time.perf_counter() - start
    assert status == 200, (path, status, bytes(body[:300]))
    return elapsed, bytes(body)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def measure(app, paths: dict[str, str], requests: int) -> dict[str, list[float]]:
    """Interleave the paths request by request so noise hits all of them alike."""
    samples: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(requests):
        for name, path in paths.items():
            elapsed, _ = await call(app, path)
            samples[name].append(elapsed)
    return samples


async def bench_server(notes: Path, data: Path, static: Path, requests: int) -> None:
    app = create_app(Settings(notes_dir=notes, data_dir=data, notes_poll_interval=1.0))
    app.mount("/bench-static", StaticFiles(directory=static))
    async with app.router.lifespan_context(app):
        catalog = app.state.catalog.get()
        slug = next(iter(catalog.papers))
        q = quote("知识 蒸馏")
        paths = {"/": "/", f"/papers/{slug}": f"/papers/{slug}", "/api/papers?rating=5":
                 "/api/papers?rating=5", "/?q=知识 蒸馏": f"/?q={q}",
                 "/api/papers?q=知识 蒸馏": f"/api/papers?q={q}"}  # fmt: skip
        for name, path in list(paths.items()):  # the same bytes, as a static file
            _, body = await call(app, path)
            static_name = f"page{len(paths)}.html"
            (static / static_name).write_bytes(body)
            paths[f"static copy of {name} ({len(body) // 1024} KiB)"] = (
                f"/bench-static/{static_name}"
            )
        await measure(app, paths, 20)  # warm up
        samples = await measure(app, paths, requests)
    print(f"\n{'endpoint':<52} {'p50 ms':>8} {'p99 ms':>8} {'p50 / static':>13}")
    names = list(paths)
    half = len(names) // 2
    for name, static_name in zip(names[:half], names[half:], strict=True):
        for row, ratio in ((name, True), (static_name, False)):
            p50 = pct(samples[row], 0.5)
            shown = f"{p50 / pct(samples[static_name], 0.5):>12.2f}x" if ratio else ""
            print(f"{row:<52} {p50 * 1e3:>8.2f} {pct(samples[row], 0.99) * 1e3:>8.2f} {shown:>13}")


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1e3:8.1f} {min(values) * 1e3:8.1f}"


def report_startup(samples: dict[str, list[float]]) -> None:
    before = statistics.median(samples["before (no cache)"])
    print(f"\n{'start-up (catalog, as the lifespan does)':<44} {'p50 ms':>8} {'min ms':>8}"
          f" {'÷ before':>9} {'target':>8}")  # fmt: skip
    for name, target in zip(samples, ("", "<= 300", "<= 50"), strict=True):
        ratio = statistics.median(samples[name]) / before
        print(f"{name:<44} {ms(samples[name])} {ratio:>8.2f}x {target:>8}")


def report_search(samples: dict[str, list[float]]) -> None:
    print(f"\n{'search, ' + str(len(QUERIES)) + ' queries':<44} {'p50 ms':>8} {'p99 ms':>8}"
          f" {'ratio':>9} {'target':>8}")  # fmt: skip
    base = {"match, after (terms)": "match, before (substring)",
            "run_query with q": "run_query, no search"}  # fmt: skip
    for name, values in samples.items():
        ratio = pct(values, 0.5) / pct(samples[base[name]], 0.5) if name in base else None
        shown = f"{ratio:>8.2f}x" if ratio else ""
        target = "<= 5" if name == "run_query with q" else ""
        print(f"{name:<44} {pct(values, 0.5) * 1e3:>8.2f} {pct(values, 0.99) * 1e3:>8.2f}"
              f" {shown:>9} {target:>8}")  # fmt: skip


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__)
    cli.add_argument("--papers", type=int, default=1000)
    cli.add_argument("--requests", type=int, default=300)
    cli.add_argument("--rounds", type=int, default=9)
    args = cli.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        notes, data, static = root / "notes", root / "data", root / "static"
        for folder in (notes, data, static):
            folder.mkdir()
        generate_notes(notes, args.papers)
        size = sum(p.stat().st_size for p in notes.iterdir())
        parse_times = time_parse(notes, 7)
        catalog = parse_notes_dir(notes)
        print(f"notes: {len(catalog.papers)} papers in 10 files, {size // 1024} KiB, "
              f"{len(catalog.diagnostics)} diagnostics")  # fmt: skip
        print(f"parse: median {statistics.median(parse_times) * 1e3:.1f} ms, "
              f"min {min(parse_times) * 1e3:.1f} ms over 7 runs (target <= 100 ms)")  # fmt: skip
        edit_times = time_edit(notes, 7)
        print(f"re-parse after editing 1 of 10 files: median "
              f"{statistics.median(edit_times) * 1e3:.1f} ms")  # fmt: skip
        report_startup(time_startup(notes, root / "cache", args.rounds))
        report_breakdown(cold_breakdown(notes, args.rounds))
        report_search(time_search(catalog, args.rounds))
        asyncio.run(bench_server(notes, data, static, args.requests))
        print("\ntargets: page p50 <= 5 ms and <= 2x the static file; ratios are p50 / p50 "
              "of rows measured interleaved")  # fmt: skip


if __name__ == "__main__":
    main()
