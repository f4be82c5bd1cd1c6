"""Notes files -> records, walking markdown-it's blocks and their source line map.

The notes are read as the author writes them: headings are categories, a list item
that starts with a link is a paper, its nested list is the note (a `5分` item sets
the rating, a `演示: kd` / `demo: kd` item binds demo methods, a `对比: a vs b` /
`compare: a vs b` item asks for a comparison, every other item is an insight).
Papers listed back to back with no note of their own share the next note block.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

from app.catalog import fields, files, mathml, search
from app.catalog.assemble import build_catalog
from app.catalog.blocks import Block, blocks, head_inline, leading_link, plain_text
from app.catalog.cache import NotesCache, catalog_key, file_key
from app.catalog.catalog import Catalog
from app.catalog.drafts import DraftCategory, DraftPaper, Note
from app.catalog.models import (
    Diagnostic,
    MethodRef,
    NoteComparison,
    NoteDemo,
    RatingLevel,
    RatingScale,
)

# Raw HTML is allowed through markdown-it and then sanitised by nh3, so notes may
# use <sup> or <br> while <script> and on* handlers never reach a page. Formulas
# become MathML (app/catalog/mathml.py), which the sanitiser lets through.
_MD = mathml.install(MarkdownIt("commonmark", {"html": True}))
# markdown-it normalises every link with a full URL parse (mdurl), a twentieth of a
# cold parse of a large file. A plain http(s) URL of letters, digits and `/._~-` comes
# out of it unchanged (tests/catalog/test_math.py checks), so it skips that parse.
PLAIN_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?:/[A-Za-z0-9._~/-]*)?")
_normalize_link = _MD.normalizeLink
_MD.normalizeLink = lambda url: url if PLAIN_URL.fullmatch(url) else _normalize_link(url)  # type: ignore[method-assign]
_SAFE_SCHEMES = {"http", "https", "mailto"}
_TAGS = nh3.ALLOWED_TAGS | mathml.MATHML_TAGS
_ATTRIBUTES = nh3.ALLOWED_ATTRIBUTES | mathml.MATHML_ATTRIBUTES
_CLASSES = {"div": {"math"}, "code": {"math-error"}}  # what mathml.py writes
_LISTS = ("bullet_list", "ordered_list")
# Headings that index the notes rather than hold papers, compared folded.
_TOC_TITLES = {"tableofcontents", "contents", "toc", "目录", "目錄"}


# Built once: nh3.clean builds its rule set from these Python sets on every call, which
# was eight times the cost of cleaning a note.
_CLEANER = nh3.Cleaner(
    tags=_TAGS, attributes=_ATTRIBUTES, allowed_classes=_CLASSES,
    url_schemes=_SAFE_SCHEMES, link_rel="noopener noreferrer",
)  # fmt: skip


def sanitize(html: str) -> str:
    return _CLEANER.clean(html)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Hold the cycle collector off while a parse allocates its tokens. They are freed
    by reference counting (parse_file leaves no cycles), yet each allocation burst set
    off collections that walked the whole heap: half of a cold parse's time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass
class FileResult:
    """What one file holds. Cached per file, so an edit re-parses only that file."""

    file: str
    papers: list[DraftPaper] = field(default_factory=list)
    categories: list[DraftCategory] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    legend: list[RatingLevel] = field(default_factory=list)
    legend_line: int = 0
    title: str | None = None  # the first `# ` heading: the notes' own name


def _paper_link(inline: Token) -> tuple[str, str, str] | None:
    """(url, title, text after the link) when the item starts with a non-anchor link."""
    link = leading_link(inline)
    if link is None or not link[0] or link[0].startswith("#"):
        return None
    href, title, rest = link
    return href, title, rest.strip()


def _venue_text(rest: str) -> str | None:
    """`(CVPR2020_oral)` -> `CVPR2020_oral`; the first parenthesised group wins."""
    for open_, close in (("(", ")"), ("（", "）")):
        start = rest.find(open_)
        end = rest.find(close, start + 1)
        if start != -1 and end != -1:
            return rest[start + 1 : end].strip() or None
    return rest or None


class FileParser:
    """Parses one notes file into drafts; cross-file work happens in build_catalog."""

    def __init__(self, text: str, file: str):
        self.file = file
        self.result = FileResult(file)
        self.stack: list[DraftCategory] = []
        self.blocks = blocks(_MD.parse(text))

    def diagnose(self, line: int, level: str, message: str) -> None:
        self.result.diagnostics.append(Diagnostic(self.file, line, level, message))  # type: ignore[arg-type]

    def parse(self) -> FileResult:
        previous: Block | None = None
        for node in self.blocks:
            if node.type == "heading":
                self._enter_heading(node)
            elif node.type == "blockquote" and previous is not None and previous.type == "heading":
                self._describe_category(node)
            elif node.type in _LISTS and not self._read_legend(node):
                self._scan_list(node)
            previous = node
        self._settle_structure()
        return self.result

    # -- categories -------------------------------------------------------------------

    def _enter_heading(self, node: Block) -> None:
        depth = int(node.opening.tag[1])
        while self.stack and self.stack[-1].depth >= depth:
            self.stack.pop()
        text = plain_text([node.children[0].opening])
        title = text or "(untitled)"
        parent = self.stack[-1] if self.stack else None
        path = (*parent.path, title) if parent else (title,)
        category = DraftCategory(
            title, path, depth, self.file, node.line, parent=parent,
            structural=search.fold(text) in _TOC_TITLES,
        )  # fmt: skip
        if depth == 1 and text and self.result.title is None:
            self.result.title = text
        self.result.categories.append(category)
        self.stack.append(category)

    def _settle_structure(self) -> None:
        """Drop the structural headings: a table of contents, and the file's title (a
        leading `#` heading with no papers of its own). Sections below them are
        labelled from the first real heading down, and papers directly under a
        structural heading belong to the nearest real one above it (or none)."""
        categories = self.result.categories
        if categories and categories[0].depth == 1:
            first = categories[0]
            first.structural |= all(p.category is not first for p in self.result.papers)
        for category in categories:  # in file order: parents are settled first
            parent = _real_heading(category.parent)
            category.path = (*parent.path, category.title) if parent else (category.title,)
        for paper in self.result.papers:
            if paper.category is not None and paper.category.structural:
                paper.category = _real_heading(paper.category)
        self.result.categories = [c for c in categories if not c.structural]

    def _describe_category(self, node: Block) -> None:
        self.stack[-1].description = plain_text(node.tokens())

    # -- rating legend ----------------------------------------------------------------

    def _read_legend(self, node: Block) -> bool:
        """A list whose every item reads `N分：label` is the rating legend."""
        entries = []
        for item in node.children:
            inline = head_inline(item)
            parsed = fields.parse_legend_item(plain_text([inline])) if inline else None
            if parsed is None:
                return False
            entries.append((RatingLevel(*parsed), item.line))
        if len(entries) < 2:
            return False
        if not self.result.legend:
            self.result.legend = [level for level, _ in entries]
            self.result.legend_line = entries[0][1]
        return True

    # -- papers -----------------------------------------------------------------------

    def _scan_list(self, node: Block) -> None:
        waiting: list[DraftPaper] = []  # papers with no note yet: they share the next one
        for item in node.children:
            inline = head_inline(item)
            link = _paper_link(inline) if inline else None
            if link is None:
                waiting = []
                for child in item.children[1:]:
                    if child.type in _LISTS:
                        self._scan_list(child)
                continue
            paper = self._draft(item, *link)
            note_nodes = item.children[1:]
            if note_nodes:
                self._attach_note([*waiting, paper], note_nodes)
                waiting = []
            else:
                waiting.append(paper)

    def _draft(self, item: Block, url: str, title: str, rest: str) -> DraftPaper:
        line = item.line
        if not title:
            self.diagnose(line, "warning", "paper link has no title text; using its URL")
        paper = DraftPaper(
            title=title or url,
            url=url,
            venue_text=_venue_text(rest),
            file=self.file,
            line=line,
            category=self.stack[-1] if self.stack else None,
        )
        self.result.papers.append(paper)
        return paper

    def _attach_note(self, group: list[DraftPaper], nodes: Iterable[Block]) -> None:
        note = Note()
        kept: list[Block] = []
        for node in nodes:
            note.line = note.line or node.line
            if node.type not in _LISTS:
                kept.append(node)
                continue
            kept_items = []
            for item in node.children:
                text = plain_text(item.tokens())
                if not self._take_field(item, text, note):
                    kept_items.append(item)
                    note.insights.append(text)
            if kept_items:  # a list of only a rating and a demo binding shows nothing
                kept.append(node.with_children(kept_items))
        prose = [plain_text(node.tokens()) for node in kept if node.type not in _LISTS]
        note.haystack = search.haystack([*prose, *note.insights])
        tokens = [token for node in kept for token in node.tokens()]
        note.html = self._render(tokens)
        for paper in group:
            paper.note = note
            paper.group = group

    def _render(self, tokens: list) -> str:
        """A note's HTML: formulas as MathML, relative images and PDFs pointed at the
        files beside the notes, then sanitised."""
        files.rewrite_links(tokens, self.file)
        mathml.mark_lines(tokens)
        env: dict = {}
        rendered = _MD.renderer.render(tokens, _MD.options, env)
        for problem in env.get("math_problems", []):
            self.diagnose(problem.line, "warning", problem.message)
        return sanitize(rendered)

    def _take_field(self, item: Block, text: str, note: Note) -> bool:
        """If the item (its plain text given) is only a rating, a demo binding or a
        comparison, record it on the note and return True: it is a fact about the paper,
        not an insight to show."""
        if head_inline(item) is None or len(item.children) > 1:
            return False
        line = item.line
        return (
            self._take_rating(text, line, note)
            or self._take_demos(text, line, note)
            or self._take_comparison(text, line, note)
            or self._take_authors(text, line, note)
        )

    def _take_rating(self, text: str, line: int, note: Note) -> bool:
        value = fields.parse_rating(text)
        if value is None:
            return False
        if note.rating is not None:
            self.diagnose(line, "warning", f"a second rating ({value:g}); keeping {note.rating}")
        elif value != int(value) or not 1 <= value <= 5:
            self.diagnose(line, "error", f"rating {value:g} is outside the 1-5 scale")
        else:
            note.rating = int(value)
        return True

    def _take_demos(self, text: str, line: int, note: Note) -> bool:
        ids = fields.parse_demo_bullet(text)
        if ids is None:
            return False
        if not ids:
            self.diagnose(line, "warning", "a demo bullet that names no method id")
        known = {demo.method for demo in note.demos}
        note.demos += [NoteDemo(method, line) for method in ids if method not in known]
        return True

    def _take_authors(self, text: str, line: int, note: Note) -> bool:
        names = fields.parse_authors_bullet(text)
        if names is None:
            return False
        if not names:
            self.diagnose(line, "warning", "an authors bullet that names nobody")
        elif note.authors:
            self.diagnose(line, "warning", "a second authors bullet; keeping the first")
        else:
            note.authors = list(names)
        return True

    def _take_comparison(self, text: str, line: int, note: Note) -> bool:
        bullet = fields.parse_compare_bullet(text)
        if bullet is None:
            return False
        if bullet.error:
            self.diagnose(line, "error", f"cannot read the comparison: {bullet.error}")
            return True
        method, against = (MethodRef(name, params) for name, params in bullet.sides)
        if method == against:
            self.diagnose(line, "warning", f"a comparison of {method} with itself")
            return True
        comparison = NoteComparison(method, against, line)
        if all((c.method, c.against) != (method, against) for c in note.comparisons):
            note.comparisons.append(comparison)
        return True


def _real_heading(category: DraftCategory | None) -> DraftCategory | None:
    """The category itself, or its nearest ancestor that is not structural."""
    while category is not None and category.structural:
        category = category.parent
    return category


def parse_file(name: str, text: str) -> FileResult:
    return FileParser(text, name).parse()


def combine(results: list[FileResult]) -> Catalog:
    """Join per-file results, in file order, into one catalog."""
    diagnostics = [d for r in results for d in r.diagnostics]
    with_legend = [r for r in results if r.legend]
    scale = RatingScale(tuple(with_legend[0].legend)) if with_legend else RatingScale()
    for other in with_legend[1:]:
        if other.legend != with_legend[0].legend:
            message = f"a different rating legend; the one in {with_legend[0].file} is used"
            diagnostics.append(Diagnostic(other.file, other.legend_line, "warning", message))
    catalog = build_catalog(
        [p for r in results for p in r.papers],
        [c for r in results for c in r.categories],
        scale,
        diagnostics,
    )
    # Named like the legend: by the first file, in path order, that has a top heading.
    catalog.title = next((r.title for r in results if r.title), None)
    return catalog


def parse_texts(files: Iterable[tuple[str, str]]) -> Catalog:
    """Parse (name, text) pairs, in order, into one catalog."""
    return combine([parse_file(name, text) for name, text in files])


FileKey = tuple[str, int, int]  # name, mtime_ns, size


@dataclass
class SeenFile:
    """A notes file as last read: its content's key (app/catalog/cache.py), its text
    and, once needed, its parse."""

    name: str
    key: str
    text: str
    result: FileResult | None = None

    def parsed(self, disk: NotesCache | None) -> FileResult:
        if self.result is None:
            self.result = disk.load("file", self.key) if disk else None
        if self.result is None:
            self.result = parse_file(self.name, self.text)
            if disk:
                disk.save("file", self.key, self.result)
        return self.result


def _unreadable(name: str, exc: Exception) -> FileResult:
    result = FileResult(name)
    result.diagnostics.append(Diagnostic(name, 1, "error", f"cannot read file: {exc}"))
    return result


def parse_notes_dir(
    notes_dir: Path, cache: dict[FileKey, SeenFile] | None = None, disk: NotesCache | None = None
) -> Catalog:
    """Every *.md under notes_dir in path order. With a cache, files whose name, mtime
    and size are unchanged are not read again (the cache is pruned to the files seen
    this time); with a disk cache, nothing already parsed is parsed again, and notes
    unchanged as a whole load as one assembled catalog."""
    cache = {} if cache is None else cache
    files: list[SeenFile | FileResult] = []
    seen: set[FileKey] = set()
    for path in sorted(notes_dir.rglob("*.md")):
        name = path.relative_to(notes_dir).as_posix()
        try:
            stat = path.stat()
            key = (name, stat.st_mtime_ns, stat.st_size)
            if key not in cache:
                data = path.read_bytes()
                cache[key] = SeenFile(name, file_key(name, data), data.decode("utf-8-sig"))
        except (OSError, UnicodeDecodeError) as exc:
            files.append(_unreadable(name, exc))
            continue
        seen.add(key)
        files.append(cache[key])
    for stale in set(cache) - seen:
        del cache[stale]
    with gc_paused():
        return _assemble(files, disk)


def _assemble(files: list[SeenFile | FileResult], disk: NotesCache | None) -> Catalog:
    readable = [f for f in files if isinstance(f, SeenFile)]
    whole = catalog_key(f.key for f in readable) if len(readable) == len(files) else None
    catalog = disk.load("catalog", whole) if disk and whole else None
    if catalog is None:
        catalog = combine([f.parsed(disk) if isinstance(f, SeenFile) else f for f in files])
        if disk and whole:
            disk.save("catalog", whole, catalog)  # before any use memoises on it
    if disk:
        disk.keep_only({"file": [f.key for f in readable], "catalog": [whole] if whole else []})
    return catalog
