"""The ``kiban`` console command. Each sub-module adds one group of sub-commands."""

from __future__ import annotations

from kiban.cli.main import main

__all__ = ["main"]
