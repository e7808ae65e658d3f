"""Read settings from the environment; a bad value stops start-up with a clear message."""

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def envstr(name: str, default: str) -> str:
    """Return the variable's value, or the default when it is unset."""
    return os.environ.get(name, default)


def envbool(name: str, default: bool) -> bool:
    """Return the variable as a boolean; refuse anything but the usual spellings."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of true/false/1/0/yes/no/on/off, not {raw!r}")


def envint(name: str, default: int, *, minimum: int | None = None) -> int:
    """Return the variable as an integer, at least `minimum` when given."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def envfloat(name: str, default: float, *, minimum: float, maximum: float) -> float:
    """Return the variable as a number between `minimum` and `maximum` inclusive."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ImproperlyConfigured(f"{name} must be between {minimum} and {maximum}, not {raw}")
    return value


def envlist(name: str, default: list[str]) -> list[str]:
    """Return a comma-separated variable as a list of non-empty, stripped items."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def envfile(name: str, *, max_bytes: int = 65536) -> str:
    """Return the text of the file the variable names, or "" when it is unset or empty."""
    path = os.environ.get(name, "").strip()
    if not path:
        return ""
    try:
        with open(path, "rb") as file:
            raw = file.read(max_bytes + 1)
    except OSError as error:
        raise ImproperlyConfigured(f"{name}: cannot read {path!r}: {error.strerror}") from None
    if len(raw) > max_bytes:
        raise ImproperlyConfigured(f"{name}: {path!r} is larger than {max_bytes} bytes")
    try:
        return raw.decode()
    except UnicodeDecodeError:
        raise ImproperlyConfigured(f"{name}: {path!r} is not text") from None
