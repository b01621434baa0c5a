"""Turn image references into embedded ``data:`` URIs, or into nothing.

A rendered page must load nothing, so every picture travels inside it: cell attachments,
``data:`` URIs already in the notebook, and files beside the notebook in its source folder.
Remote addresses, absolute paths and anything that resolves outside the notebook's folder are
refused. Sizes are capped so a hostile notebook cannot make the page enormous.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_TOTAL_FILE_BYTES = 48 * 1024 * 1024
MAX_DATA_URI_CHARS = 24 * 1024 * 1024

_RASTER_MIMES = {"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp"}
_SUFFIX_MIME = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".bmp": "image/bmp",
    ".svg": "image/svg+xml",
}
_BASE64 = re.compile(r"^[A-Za-z0-9+/=\s]*$")
_DATA_URI = re.compile(r"^data:([\w.+-]+/[\w.+-]+)((?:;[\w=.-]+)*?)(;base64)?,(.*)$", re.S | re.I)
# "c:/x.png" or "c:\x.png" would otherwise look like a relative path on POSIX.
_HAS_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def clean_base64(value: object) -> str | None:
    """Return base64 text with whitespace removed, or ``None`` if it is not base64.

    Args:
        value: a str or list of str from the notebook.

    Returns:
        The compact base64 text, safe to place inside an attribute.
    """
    if isinstance(value, list):
        value = "".join(v for v in value if isinstance(v, str))
    if not isinstance(value, str) or not _BASE64.match(value):
        return None
    compact = "".join(value.split())
    return compact or None


def data_uri(mime: str, b64: str) -> str:
    """Build a ``data:`` URI from a mime type and base64 text."""
    return f"data:{mime};base64,{b64}"


class ImageEmbedder:
    """Resolves image sources for one notebook.

    Args:
        base_dir: the notebook's folder in its source, or ``None`` to embed no files.
        clean_svg: sanitizes SVG text before it is embedded.
    """

    def __init__(self, base_dir: Path | None, clean_svg: Callable[[str], str]) -> None:
        self._base = base_dir.resolve() if base_dir is not None else None
        self._clean_svg = clean_svg
        self._attachments: dict[str, Any] = {}
        self._file_cache: dict[Path, str | None] = {}
        self._file_bytes = 0

    def set_attachments(self, attachments: dict[str, Any]) -> None:
        """Use these cell attachments for ``attachment:`` sources until the next call."""
        self._attachments = attachments

    def resolve(self, src: str) -> str | None:
        """Map an image source to a ``data:`` URI to embed, or ``None`` to drop the image.

        Args:
            src: the ``src`` as written in the notebook.

        Returns:
            A ``data:image/...`` URI, or ``None``.
        """
        src = src.strip()
        lowered = src.lower()
        if lowered.startswith("data:"):
            return self._from_data_uri(src)
        if lowered.startswith("attachment:"):
            return self._from_attachment(unquote(src[len("attachment:") :]))
        if _HAS_SCHEME.match(src) or src.startswith(("/", "\\")):
            return None
        return self._from_file(src)

    def _from_data_uri(self, src: str) -> str | None:
        if len(src) > MAX_DATA_URI_CHARS:
            return None
        match = _DATA_URI.match(src)
        if not match:
            return None
        mime, is_b64, payload = match.group(1).lower(), match.group(3), match.group(4)
        if mime == "image/svg+xml":
            try:
                text = base64.b64decode(payload).decode("utf-8") if is_b64 else unquote(payload)
            except (binascii.Error, UnicodeDecodeError):
                return None
            return self._svg_uri(text)
        b64 = clean_base64(payload) if is_b64 else None
        return data_uri(mime, b64) if mime in _RASTER_MIMES and b64 else None

    def _from_attachment(self, name: str) -> str | None:
        bundle = self._attachments.get(name)
        if not isinstance(bundle, dict):
            return None
        # Each type the attachment carries, until one gives a picture: an SVG that is not
        # readable falls back to the PNG beside it, as Jupyter does.
        for mime, value in bundle.items():
            uri: str | None = None
            if mime in _RASTER_MIMES:
                b64 = clean_base64(value)
                uri = data_uri(mime, b64) if b64 else None
            elif mime == "image/svg+xml":
                uri = self._attached_svg(value)
            if uri is not None:
                return uri
        return None

    def _attached_svg(self, value: object) -> str | None:
        """An SVG attachment: the format stores attachments base64-encoded, and some tools
        write SVG as plain text; both are read."""
        text = "".join(value) if isinstance(value, list) else value
        if not isinstance(text, str):
            return None
        if "<svg" not in text:
            b64 = clean_base64(text)
            try:
                text = base64.b64decode(b64).decode("utf-8") if b64 else ""
            except (binascii.Error, UnicodeDecodeError):
                return None
        return self._svg_uri(text) if "<svg" in text else None

    def _from_file(self, src: str) -> str | None:
        if self._base is None:
            return None
        rel = unquote(src.split("#", 1)[0].split("?", 1)[0])
        if not rel:
            return None
        try:
            path = (self._base / rel).resolve()
        except (OSError, RuntimeError):
            return None
        if path in self._file_cache:
            return self._file_cache[path]
        uri = self._read_file(path)
        self._file_cache[path] = uri
        return uri

    def _read_file(self, path: Path) -> str | None:
        # resolve() followed symlinks, so a link pointing out of the folder is refused here.
        mime = _SUFFIX_MIME.get(path.suffix.lower())
        if mime is None or not path.is_relative_to(self._base or Path("/nonexistent")):
            return None
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES or self._file_bytes + size > MAX_TOTAL_FILE_BYTES:
                return None
            data = path.read_bytes()
        except OSError:
            return None
        self._file_bytes += len(data)
        if mime == "image/svg+xml":
            return self._svg_uri(data.decode("utf-8", errors="replace"))
        return data_uri(mime, base64.b64encode(data).decode("ascii"))

    def _svg_uri(self, text: str) -> str | None:
        svg = svg_document(self._clean_svg(text))
        if not svg:
            return None
        return data_uri("image/svg+xml", base64.b64encode(svg.encode("utf-8")).decode("ascii"))


def svg_document(clean_markup: str) -> str | None:
    """Make sanitized SVG markup a standalone XML document an ``<img>`` can show.

    The sanitizer serializes HTML-style, which drops namespace declarations and may write
    ``&nbsp;``; an SVG image needs both fixed to parse as XML.

    Args:
        clean_markup: the sanitizer's output for an SVG.

    Returns:
        The document, or ``None`` when no ``<svg>`` element survived.
    """
    start = clean_markup.find("<svg")
    if start < 0:
        return None
    body = clean_markup[start:].replace("&nbsp;", "&#160;")
    return body.replace(
        "<svg",
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"',
        1,
    )
