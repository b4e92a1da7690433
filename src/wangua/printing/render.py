"""HTML templates to PDF with embedded Chinese fonts (R-28a, R-32d).

Templates are Jinja2 HTML in this package (`printing/templates`); a file of the same
name in `<data_dir>/print-templates/` replaces the packaged one, so staff can adjust
wording and layout without a release. WeasyPrint lays the page out with pango and
embeds the subsets of the Noto CJK fonts it uses, so a document prints the same
everywhere. Rendering is CPU-bound and slow-ish: callers render outside any write
transaction, and at most `PARALLEL_RENDERS` documents render at once.

The same template, context and `created` time give the same bytes: the PDF's dates
and file identifier come from the arguments, never from the wall clock.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined

from wangua.kit.money import FEN_PER_YUAN, capital_numerals
from wangua.kit.times import SHANGHAI, as_utc

OVERRIDE_FOLDER = "print-templates"
PARALLEL_RENDERS = 2
_renders = threading.BoundedSemaphore(PARALLEL_RENDERS)
_environments: dict[Path, Environment] = {}
_environments_lock = threading.Lock()


def override_dir(data_dir: Path) -> Path:
    """Where staff put their own versions of the templates."""
    return data_dir / OVERRIDE_FOLDER


def fen_of(value: str) -> int:
    """Fen from the two-decimal yuan strings documents state."""
    return int(Decimal(value) * FEN_PER_YUAN)


def yuan(value: str) -> str:
    """Yuan with two decimals and thousands separators: 122,000,000.00."""
    whole, cents = divmod(fen_of(value), FEN_PER_YUAN)
    return f"{whole:,}.{cents:02d}"


def capital(value: str) -> str:
    """Yuan in capital numerals (大写)."""
    return capital_numerals(fen_of(value))


def _shanghai(value: str) -> datetime:
    return as_utc(datetime.fromisoformat(value)).astimezone(SHANGHAI)


def cn_time(value: str | None) -> str:
    """A time as people read it, in Asia/Shanghai: 2026年3月23日 09:00:00; "—" for none."""
    if value is None:
        return "—"
    at = _shanghai(value)
    return f"{at.year}年{at.month}月{at.day}日 {at:%H:%M:%S}"


def cn_date(value: str) -> str:
    """A date as people read it: 2026-03-27 → 2026年3月27日."""
    day = date.fromisoformat(value)
    return f"{day.year}年{day.month}月{day.day}日"


def precise(value: str) -> str:
    """A receipt time to the microsecond, in Asia/Shanghai (R-18)."""
    return f"{_shanghai(value):%Y-%m-%d %H:%M:%S.%f}"


def environment(data_dir: Path) -> Environment:
    """The templates: the data folder's own first, then the packaged ones."""
    folder = override_dir(data_dir)
    with _environments_lock:
        env = _environments.get(folder)
        if env is None:
            env = Environment(
                loader=ChoiceLoader(
                    [FileSystemLoader(folder), PackageLoader("wangua.printing", "templates")]
                ),
                autoescape=True,
                cache_size=0,  # look again each time: a file staff add replaces the packaged one
                undefined=StrictUndefined,
                trim_blocks=True,
                lstrip_blocks=True,
            )
            env.filters.update(
                yuan=yuan, capital=capital, cn_time=cn_time, cn_date=cn_date, precise=precise
            )
            _environments[folder] = env
        return env


def render_pdf(
    data_dir: Path, template: str, context: dict[str, Any], *, title: str, created: datetime
) -> bytes:
    """One PDF from `template`; `created` is its stated creation time."""
    html = (
        environment(data_dir)
        .get_template(template)
        .render(title=title, created=as_utc(created).isoformat(), **context)
    )
    # WeasyPrint is imported at the first render, not at start-up: it is a quarter of the
    # imports of `wangua serve` (about half a second), and a restart should be quick
    from weasyprint import HTML  # type: ignore[import-untyped]

    folder = override_dir(data_dir)
    fetcher = _fetcher_class()(folder)
    identifier = hashlib.sha256(html.encode()).hexdigest()[:32].encode()
    with _renders:
        document = HTML(string=html, base_url=f"{folder.as_uri()}/", url_fetcher=fetcher)
        pdf = document.write_pdf(pdf_identifier=identifier)
    assert isinstance(pdf, bytes)
    return pdf


@functools.cache
def _fetcher_class() -> type[Any]:
    from weasyprint import URLFetcher

    class _Fetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint ships no type hints
        """Resources a template may load: inline data and files of the override folder (a
        seal or a logo), never the network."""

        def __init__(self, folder: Path) -> None:
            super().__init__(allowed_protocols=("data", "file"))
            self.folder = folder.resolve()

        def fetch(self, url: str, headers: dict[str, str] | None = None) -> Any:
            if url.startswith("file:"):
                path = Path(url2pathname(urlsplit(url).path)).resolve()
                if not path.is_relative_to(self.folder):
                    raise ValueError(f"打印模板只能引用模板目录中的文件:{url}")
            return super().fetch(url, headers)

    return _Fetcher
