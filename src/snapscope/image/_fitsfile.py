"""Low-level FITS reading: header layouts without pixels, and gzip files decompressed once.

* :func:`read_layout` walks the headers of an uncompressed file, skipping each HDU's data, and
  records every HDU's raw header, structural keywords (:func:`parse_cards`, no astropy) and
  data offset: that is all a memory map of a plane needs.
* :func:`gzip_header_text` finds the header of one HDU of a ``.fits.gz`` file by decompressing
  only up to that header: the primary HDU of OU2024 files holds no data, so the SCI header is
  found after a few kB (astropy decompresses the whole file to give a header: 0.4 s).
* A gzip-compressed file's pixels come from a copy decompressed once per process into a private
  temporary directory (removed at exit). astropy's ``.section`` on ``.fits.gz`` takes minutes
  (it re-decompresses from the start for every section) and is never used.

Opening files, parsing the headers and WCS once per process and mapping the planes is the job
of :mod:`snapscope.image._fitscache`.
"""

from __future__ import annotations

import atexit
import gzip
import hashlib
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from snapscope.exceptions import HDUError, ImageFileError

__all__ = ["HduLayout", "decompressed_copy", "find_hdu", "gzip_header_text", "is_gzip",
           "parse_cards", "read_layout", "walk_headers"]

_GZIP_MAGIC = b"\x1f\x8b"
_BLOCK = 2880
_lock = threading.Lock()
_decompressed: dict[tuple, Path] = {}
_key_locks: dict[tuple, threading.Lock] = {}
_tmpdir: Path | None = None


def is_gzip(path: Path) -> bool:
    """True when the file starts with the gzip magic number."""
    with open(path, "rb") as f:
        return f.read(2) == _GZIP_MAGIC


def _private_tmpdir() -> Path:
    global _tmpdir
    if _tmpdir is None:
        from snapscope.config import cache_dir

        _tmpdir = Path(tempfile.mkdtemp(prefix=f"gunzip-{os.getpid()}-", dir=cache_dir()))
        atexit.register(shutil.rmtree, _tmpdir, ignore_errors=True)
    return _tmpdir


def decompressed_copy(path: Path) -> Path:
    """Return an uncompressed copy of a gzip file, made once per process (thread-safe)."""
    st = path.stat()
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    with _lock:
        if key in _decompressed:
            return _decompressed[key]
        key_lock = _key_locks.setdefault(key, threading.Lock())
    with key_lock:
        with _lock:
            if key in _decompressed:
                return _decompressed[key]
        target = _private_tmpdir() / (hashlib.sha1(key[0].encode()).hexdigest()[:16] + ".fits")
        tmp = target.with_suffix(".part")
        with gzip.open(path, "rb") as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 22)
        os.replace(tmp, target)
        with _lock:
            _decompressed[key] = target
        return target


def _read_header_blocks(f: Any) -> bytes | None:
    """Read 2880-byte blocks up to and including the one with the END card (None at EOF)."""
    chunks = []
    while True:
        block = f.read(_BLOCK)
        if not block:
            return None
        if len(block) < _BLOCK:
            raise OSError("truncated FITS header")
        chunks.append(block)
        if any(block[i:i + 8] == b"END     " for i in range(0, _BLOCK, 80)):
            return b"".join(chunks)


def _data_size(header: Any) -> int:
    naxis = header.get("NAXIS", 0)
    if naxis == 0:
        return 0
    n = 1
    for i in range(1, naxis + 1):
        n *= header[f"NAXIS{i}"]
    size = abs(header["BITPIX"]) // 8 * header.get("GCOUNT", 1) * (header.get("PCOUNT", 0) + n)
    return -(-size // _BLOCK) * _BLOCK


def _walk(f: Any, parse: Callable[[bytes], Any]) -> Iterator[tuple[Any, bytes, int]]:
    """Yield ``(parse(raw header), raw header, offset of the data)`` of each HDU, in order."""
    while (raw := _read_header_blocks(f)) is not None:
        header = parse(raw)
        start = f.tell()
        yield header, raw, start
        f.seek(start + _data_size(header))


def walk_headers(f: Any, parse: Callable[[bytes], Any]) -> Iterator[Any]:
    """Yield ``parse(raw header bytes)`` of each HDU of an open FITS stream, in order.

    Each HDU's data is skipped by seeking forward (on a gzip stream that decompresses without
    keeping anything), so asking for the header of HDU 1 costs a few kB. ``parse`` must return
    a mapping with the structural keywords (``NAXIS``, ``NAXISn``, ``BITPIX``, ``PCOUNT``,
    ``GCOUNT``) as numbers.
    """
    for header, _, _ in _walk(f, parse):
        yield header


def _card_value(text: str) -> Any:
    """The value of a card's value field, as astropy parses it (str, bool, int or float)."""
    text = text.strip()
    if text.startswith("'"):
        out, i = [], 1
        while i < len(text):
            if text[i] == "'":
                if text[i + 1 : i + 2] == "'":
                    out.append("'")
                    i += 2
                    continue
                break
            out.append(text[i])
            i += 1
        return "".join(out).rstrip()
    text = text.split("/", 1)[0].strip()
    if text in ("T", "F"):
        return text == "T"
    if text.lstrip("+-").isdigit():
        return int(text)
    return float(text.replace("D", "E"))


def parse_cards(raw: bytes) -> dict[str, Any]:
    """Keyword → value of one raw header, 10× faster than astropy (no card objects).

    The first occurrence of a keyword wins (as ``Header.get``); values that cannot be parsed
    and commentary cards are left out. Enough for the structure of a file (``BITPIX``,
    ``NAXISn``, ``EXTNAME``, ``BZERO``…); use ``astropy.io.fits.Header`` for anything else.
    """
    cards: dict[str, Any] = {}
    text = raw.decode("ascii", errors="replace")
    for k in range(0, len(text), 80):
        card = text[k : k + 80]
        key = card[:8].rstrip()
        if key == "END":
            break
        if card[8:10] == "= " and key and key not in cards:
            try:
                cards[key] = _card_value(card[10:])
            except ValueError:
                continue
    return cards


def _hdu_name(header: Any, index: int) -> str:
    return str(header.get("EXTNAME", "PRIMARY" if index == 0 else "")).strip()


@dataclass(frozen=True)
class HduLayout:
    """One HDU of an uncompressed FITS file.

    Attributes
    ----------
    index : int
        Position in the file (0: primary).
    name : str
        ``EXTNAME`` ('PRIMARY' for HDU 0 without one).
    text : str
        The raw header (parse it with ``fits.Header.fromstring``).
    cards : dict
        Keyword → value (:func:`parse_cards`): the structural keywords and scaling.
    data_offset : int
        Byte offset of the HDU's data in the file.
    """

    index: int
    name: str
    text: str
    cards: dict[str, Any]
    data_offset: int


def read_layout(f: Any, path: Path) -> list[HduLayout]:
    """Return the HDUs of the uncompressed FITS file open as ``f`` (reads headers only).

    Raises
    ------
    ImageFileError
        If the file does not start with a FITS primary header or a header is truncated.
    """
    hdus: list[HduLayout] = []
    try:
        for index, (cards, raw, start) in enumerate(_walk(f, parse_cards)):
            if index == 0 and cards.get("SIMPLE") is not True:
                raise ValueError("no SIMPLE card at the start")
            text = raw.decode("ascii", errors="replace")
            hdus.append(HduLayout(index, _hdu_name(cards, index), text, cards, start))
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ImageFileError(f"{path} is not a readable FITS file: {err}") from err
    if not hdus:
        raise ImageFileError(f"{path} is not a readable FITS file: no FITS header found")
    return hdus


def _matches(ext: int | str, index: int, name: str) -> bool:
    return ext == index or (isinstance(ext, str) and ext.upper() == name.upper())


def find_hdu(hdus: list[HduLayout], ext: int | str, path: Path) -> HduLayout:
    """Return the HDU ``ext`` (index or case-insensitive EXTNAME) of ``hdus``.

    Raises
    ------
    HDUError
        If there is no such HDU; the message lists the HDUs the file has.
    """
    for hdu in hdus:
        if _matches(ext, hdu.index, hdu.name):
            return hdu
    seen = ", ".join(f"{h.index}:{h.name or '?'}" for h in hdus)
    raise HDUError(f"{path} has no HDU {ext!r}; it has {seen}")


def gzip_header_text(path: Path, ext: int | str) -> str:
    """Raw header of HDU ``ext`` of a gzip FITS file, decompressing only up to that header."""
    seen = []
    try:
        with gzip.open(path, "rb") as f:
            for index, (cards, raw, _) in enumerate(_walk(f, parse_cards)):
                name = _hdu_name(cards, index)
                seen.append(f"{index}:{name or '?'}")
                if _matches(ext, index, name):
                    return raw.decode("ascii", errors="replace")
    except (OSError, EOFError, ValueError, KeyError) as err:
        raise ImageFileError(f"{path} is not a readable FITS file: {err}") from err
    if not seen:
        raise ImageFileError(f"{path} is not a readable FITS file: no FITS header found")
    raise HDUError(f"{path} has no HDU {ext!r}; it has {', '.join(seen)}")
