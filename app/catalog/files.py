"""Images and PDFs beside the notes: what a note's relative link becomes, and which
files the web may serve from NOTES_DIR (only those types, only inside it).

A note is rendered once, for every deployment, so its links cannot know ROOT_PATH.
They are written relative to the paper's page, `/papers/{slug}`: `figs/a.png` in
`notes/kd.md` becomes `../notes/figs/a.png`, which a browser resolves to
`{root}/notes/figs/a.png` under any prefix. The Markdown file stays as written.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from markdown_it.token import Token

#: The route that serves them (app/web/pages.py), and its types.
ROUTE = "/notes"
SERVED_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".svg": "image/svg+xml",
    ".pdf": "application/pdf",
}
_FROM_PAPER_PAGE = ".." + ROUTE + "/"


def served_type(path: str) -> str | None:
    return SERVED_TYPES.get(posixpath.splitext(path)[1].lower())


def beside_note(note_file: str, url: str, *, image: bool) -> str | None:
    """The page-relative URL of a file a note links to, or None to leave the link as
    written: absolute URLs, anchors, other types (a link to `other.md`), and paths
    that climb out of NOTES_DIR."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path or parts.path.startswith("/"):
        return None
    if not image and served_type(unquote(parts.path)) is None:
        return None
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(note_file), parts.path))
    if joined == ".." or joined.startswith("../"):
        return None
    return urlunsplit(("", "", _FROM_PAPER_PAGE + joined, parts.query, parts.fragment))


def rewrite_links(tokens: list[Token], note_file: str) -> None:
    """Point a note's relative images, and links to images and PDFs, at the files."""
    for token in tokens:
        for child in token.children or ():
            attr, image = ("src", True) if child.type == "image" else ("href", False)
            if child.type in ("image", "link_open") and isinstance(child.attrs.get(attr), str):
                target = beside_note(note_file, child.attrs[attr], image=image)
                if target is not None:
                    child.attrs[attr] = target


def resolve(notes_dir: Path, path: str) -> tuple[Path, str] | None:
    """(file, media type) for a request path below ROUTE, or None: not a served type,
    a hidden name (`.git/…`), outside NOTES_DIR (dot segments, symlinks), or absent."""
    media_type = served_type(path)
    parts = path.split("/")
    if media_type is None or "\\" in path or any(not p or p.startswith(".") for p in parts):
        return None
    try:
        root = notes_dir.resolve()
        file = (root / path).resolve()
    except (OSError, ValueError):  # a NUL byte, a loop of links
        return None
    if not file.is_relative_to(root) or not file.is_file():
        return None
    return file, media_type
