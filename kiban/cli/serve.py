"""``kiban serve``: the staff web UI and API."""

from __future__ import annotations

import click
import uvicorn

from kiban.cli.common import database_option, open_database
from kiban.core.logs import configure_logging
from kiban.web.app import create_app


def run_server(app_database_url: str | None, host: str, port: int) -> None:
    configure_logging()
    app = create_app(open_database(app_database_url))
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@database_option
def serve(host: str, port: int, database_url: str | None) -> None:
    """職員向け画面とAPIを起動する"""
    run_server(database_url, host, port)
