"""Lazy "header" properties of images (band, mjd, ra, corners, …).

snappl keeps each property in ``self._<name>`` and resolves unset ones through ``__getattr__``,
returning a private sentinel object when a subclass cannot find a value. snapscope uses a
descriptor instead: the storage is the same (``self._<name>``, so subclass code that assigns
``self._band = …`` keeps working), but an unknown value is ``None``, values set later are
converted to the property's type just as constructor values are, and ``self.__dict__`` lookups
make the resolved path about as fast as a plain attribute.
"""

from __future__ import annotations

from typing import Any

__all__ = ["UNSET", "HeaderProperty", "INTERNAL_PROPERTIES", "CORNER_NAMES", "convert_property"]


class _Unset:
    """Marker for "not looked up yet" (distinct from None, which means "looked up: unknown")."""

    _instance = None

    def __new__(cls) -> _Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unset>"

    def __bool__(self) -> bool:
        return False


UNSET = _Unset()

CORNER_NAMES = tuple(
    f"{coord}_corner_{corner}" for coord in ("ra", "dec") for corner in ("00", "01", "10", "11")
)

#: Properties accepted as constructor keywords, with the type each is converted to.
INTERNAL_PROPERTIES: dict[str, type] = {
    "width": int,
    "height": int,
    "observation_id": str,
    "sca": int,
    "ra": float,
    "dec": float,
    "band": str,
    "mjd": float,
    "position_angle": float,
    "exptime": float,
    "sky_level": float,
    **dict.fromkeys(CORNER_NAMES, float),
}


def convert_property(name: str, value: Any) -> Any:
    """Convert ``value`` to the type of property ``name`` (None stays None).

    Raises
    ------
    ValueError
        If the value cannot be converted; the message names the property.
    """
    if value is None or value is UNSET:
        return value
    kind = INTERNAL_PROPERTIES[name]
    try:
        if kind is int and isinstance(value, float) and not value.is_integer():
            raise ValueError("not a whole number")
        return kind(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be {kind.__name__}, got {value!r}: {err}") from None


class HeaderProperty:
    """A lazily resolved image property stored in ``obj._<name>``.

    On first read of an unset value the owner's ``_resolve_property(name)`` fills it in (from the
    header, the WCS, …). Setting converts the value and calls ``_on_property_set(name)``.
    """

    def __init__(self, doc: str) -> None:
        self.__doc__ = doc

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.attr = "_" + name

    def __get__(self, obj: Any, objtype: type | None = None) -> Any:
        if obj is None:
            return self
        value = obj.__dict__.get(self.attr, UNSET)
        if value is UNSET:
            obj._resolve_property(self.name)
            value = obj.__dict__.get(self.attr, UNSET)
            if value is UNSET:
                obj.__dict__[self.attr] = value = None
        return value

    def __set__(self, obj: Any, value: Any) -> None:
        obj.__dict__[self.attr] = convert_property(self.name, value)
        obj._on_property_set(self.name)
