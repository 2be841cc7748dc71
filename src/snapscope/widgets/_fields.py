"""Form fields that show their own validation errors, and the parsers behind them.

A field never raises into the notebook: :meth:`Field.parse` returns the parsed value or
:data:`INVALID`, and marks the field (red border, the reason in small text under it). Parsers
raise ``ValueError`` with a message written for the person typing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import ipywidgets as ipw

__all__ = ["Field", "INVALID", "parse_float", "parse_int_list", "parse_positive_float",
           "one_line", "status_html"]


class _Invalid:
    def __repr__(self) -> str:
        return "INVALID"


#: Returned by :meth:`Field.parse` when the text is not valid (the field shows why).
INVALID = _Invalid()


def one_line(err: BaseException) -> str:
    """Return ``"ErrorType: first line of the message"`` (for a status line, never a traceback)."""
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0] if text else ''}"


def status_html(text: str, error: bool = False) -> str:
    """Return ``text`` escaped as HTML, in red when it reports an error."""
    import html

    color = "#d32f2f" if error else "inherit"
    return f'<span style="color:{color}">{html.escape(text)}</span>'


def parse_float(text: str) -> float | None:
    """Return the number in ``text`` (None when blank).

    Raises
    ------
    ValueError
        When ``text`` is not a finite number.
    """
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def parse_positive_float(text: str) -> float | None:
    """Like :func:`parse_float`, but the number must be > 0."""
    value = parse_float(text)
    if value is not None and value <= 0:
        raise ValueError("must be greater than 0")
    return value


def parse_int_list(text: str) -> list[int] | None:
    """Return the integers in ``"1"``, ``"1, 3"`` or ``"2-5"`` (None when blank).

    Raises
    ------
    ValueError
        When a part is not an integer or a range ``a-b`` with a <= b.
    """
    text = text.strip()
    if not text:
        return None
    out: list[int] = []
    for part in text.replace(",", " ").split():
        lo, sep, hi = part.partition("-")
        try:
            if sep:
                a, b = int(lo), int(hi)
                if a > b:
                    raise ValueError
                out.extend(range(a, b + 1))
            else:
                out.append(int(part))
        except ValueError:
            raise ValueError(f"{part!r} is not an integer or a range like 2-5") from None
    return out


class Field(ipw.VBox):
    """A labelled text box with a parser; invalid text is marked with the parser's message.

    Parameters
    ----------
    label : str
        Description shown before the box.
    parser : callable
        ``parser(text) -> value``; raises ValueError with the reason.
    placeholder : str
        Greyed example text.
    width : str
        CSS width of the box.
    """

    def __init__(self, label: str, parser: Callable[[str], Any], placeholder: str = "",
                 width: str = "260px", value: str = "") -> None:
        self.text = ipw.Text(value=value, description=label, placeholder=placeholder,
                             layout=ipw.Layout(width=width),
                             style={"description_width": "initial"})
        self.message = ipw.HTML("", layout=ipw.Layout(margin="0 0 0 8px"))
        self.message.add_class("snapscope-field-error")
        self._parser = parser
        super().__init__([self.text, self.message])

    @property
    def value(self) -> str:
        """The text in the box."""
        return self.text.value

    @value.setter
    def value(self, text: str) -> None:
        self.text.value = text

    @property
    def error(self) -> str:
        """The reason the text is invalid ("" when it is valid)."""
        return self.message.value

    def mark(self, reason: str) -> None:
        """Show ``reason`` under the box and outline it in red ("" clears)."""
        self.message.value = reason
        if reason:
            self.text.add_class("snapscope-invalid")
        else:
            self.text.remove_class("snapscope-invalid")

    def parse(self) -> Any:
        """Return the parsed value, or :data:`INVALID` after marking the field."""
        try:
            value = self._parser(self.text.value)
        except ValueError as err:
            self.mark(str(err))
            return INVALID
        self.mark("")
        return value
