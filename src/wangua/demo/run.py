"""`wangua demo`: seed a fresh demonstration, then serve it on the system clock."""

from __future__ import annotations

import logging
import os
import socket
import sys
from datetime import datetime
from pathlib import Path

import click

from wangua.config import Settings
from wangua.demo.crowd import Crowd
from wangua.demo.files import DataDirInUse
from wangua.demo.seed import seed_demo
from wangua.demo.texts import banner
from wangua.kit.times import SHANGHAI, wall_now
from wangua.serving import run

DEFAULT_DATA_DIR = "wangua-demo"
ANY_ADDRESS = ("0.0.0.0", "::", "")  # noqa: S104  (recognised, not bound to)


def data_dir() -> Path:
    """WANGUA_DATA_DIR if set, else ./wangua-demo."""
    return Path(os.environ.get("WANGUA_DATA_DIR") or DEFAULT_DATA_DIR).resolve()


def run_demo(*, host: str, port: int) -> None:
    """Seed the demonstration, print how to use it, serve it, and let the crowd bid."""
    _log_to_console()
    if not _port_free(host, port):
        raise click.ClickException(f"无法在 {host}:{port} 上监听(端口已被占用?),请换一个 --port")
    click.echo("正在生成演示数据(模拟约六周的挂牌出让过程)…")
    try:
        info = seed_demo(data_dir(), wall_now())
    except DataDirInUse as exc:
        raise click.ClickException(str(exc)) from None
    local = "127.0.0.1" if host in ANY_ADDRESS else host
    base_url = f"http://[{local}]:{port}" if ":" in local else f"http://{local}:{port}"
    click.echo(banner(info, base_url))
    settings = Settings(
        data_dir=info.paths.data_dir,
        database_url=info.paths.database_url,
        clock="system",
        trust_anchors=str(info.paths.ca_cert),
    )
    crowd = Crowd(base_url, info)
    crowd.start()
    try:
        run(settings, host=host, port=port)
    except KeyboardInterrupt:
        pass
    finally:
        crowd.stop()
    click.echo("演示已停止。")


def _port_free(host: str, port: int) -> bool:
    """Whether the server could listen there: checked before spending time on the seed."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError:
        return False
    return True


class _BeijingFormatter(logging.Formatter):
    """Log times in Beijing time, like every time the demonstration prints."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return f"{datetime.fromtimestamp(record.created, SHANGHAI):%H:%M:%S}"


def _log_to_console() -> None:
    """The crowd's messages, on the console next to the server's."""
    logger = logging.getLogger("wangua.demo")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_BeijingFormatter("%(asctime)s 模拟竞买  %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
