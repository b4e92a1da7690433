"""The pages are Simplified Chinese; the English locale must translate every message,
the titles of the problems the pages show included."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "src/wangua/pages/locale/en/LC_MESSAGES/messages.po"


def test_every_page_message_has_an_english_translation(tmp_path: Path) -> None:
    template = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run(
        [
            pybabel,
            "-q",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "N_",
            "-k",
            "Problem:3",
            "-o",
            template,
            "src/wangua",
        ],
        cwd=ROOT,
        check=True,
    )
    with template.open("rb") as handle:
        wanted = {str(m.id) for m in read_po(handle) if m.id}
    with CATALOGUE.open("rb") as handle:
        translated = {str(m.id) for m in read_po(handle, locale="en") if m.id and m.string}
    assert len(wanted) > 100, "too few messages found: the extraction is broken"
    untranslated = sorted(wanted - translated)
    assert not untranslated, f"run scripts/messages and translate: {untranslated}"
