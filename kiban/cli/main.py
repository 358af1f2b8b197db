"""Entry point of the ``kiban`` command."""

from __future__ import annotations

import click

from kiban.cli.audit import audit
from kiban.cli.benefits import benefits
from kiban.cli.db import db
from kiban.cli.demo import demo
from kiban.cli.keys import keys
from kiban.cli.params import params
from kiban.cli.seed import seed
from kiban.cli.serve import serve
from kiban.cli.tax import tax
from kiban.cli.tenants import tenants
from kiban.cli.users import users


@click.group()
@click.version_option(package_name="kiban")
def main() -> None:
    """Kiban 自治体基盤 — 全国の市区町村が共同利用する行政基盤"""


for command in (db, tenants, users, audit, params, keys, seed, tax, benefits, demo, serve):
    main.add_command(command)
