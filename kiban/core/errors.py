"""Errors that reach a person.

Every message is Japanese, names the field, shows what was received and says how to fix it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One problem with one input field."""

    field: str
    """Japanese label of the field, e.g. 「郵便番号」."""
    received: str
    """What was received, as typed (never a My Number: callers mask it)."""
    fix: str
    """How to fix it, e.g. 「7桁の数字で入力してください（例：100-0001）」."""

    @property
    def message(self) -> str:
        shown = self.received if self.received != "" else "（空欄）"
        return f"{self.field}：「{shown}」は受け付けられません。{self.fix}"


class KibanError(Exception):
    """Base of the errors Kiban raises on purpose; the message is Japanese."""


class InputError(KibanError):
    """One or more fields are invalid; nothing was changed."""

    def __init__(self, *errors: FieldError) -> None:
        if not errors:
            raise ValueError("InputError needs at least one FieldError")
        self.errors: tuple[FieldError, ...] = errors
        super().__init__("\n".join(e.message for e in errors))


class PermissionDenied(KibanError):
    """The acting user lacks the permission an operation declares."""


class NotFound(KibanError):
    """The thing asked for does not exist in the acting tenant (or at all)."""
