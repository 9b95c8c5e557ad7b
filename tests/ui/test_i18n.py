"""i18n-ready templates: every visible string goes through {% translate %} and is in the zh_Hans catalogue."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
TEMPLATES = sorted([*(ROOT / "tickets" / "templates" / "tickets").rglob("*.html"), ROOT / "templates" / "base.html"])
CJK = re.compile(r"[\u4e00-\u9fff]")  # ideographs; bare CJK punctuation between tags is allowed
TOKENS = re.compile(r"(<[^>]*>|\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\})", re.S)
BLOCKS = re.compile(r"\{% blocktranslate.*?%\}.*?\{% endblocktranslate %\}", re.S)
TRANSLATE = re.compile(r"""\{% translate (["'])(.+?)\1""")


def _msgids() -> set[str]:
    """The catalogue's msgids, continuation lines joined (gettext wraps long strings)."""
    found, current = set(), None
    for line in CATALOGUE.read_text(encoding="utf-8").splitlines():
        if line.startswith('msgid "'):
            current = [line[7:-1]]
        elif line.startswith('"') and current is not None:
            current.append(line[1:-1])
        else:
            if current is not None:
                found.add("".join(current).replace('\\"', '"'))
            current = None
    return found


def test_no_template_shows_untranslatable_chinese_text() -> None:
    bare = []
    for path in TEMPLATES:
        parts = TOKENS.split(BLOCKS.sub("", path.read_text(encoding="utf-8")))
        bare += [f"{path.name}: {p.strip()[:30]}" for i, p in enumerate(parts) if i % 2 == 0 and CJK.search(p)]
    assert bare == []


def test_every_translate_string_is_in_the_zh_hans_catalogue() -> None:
    wanted = {m.group(2) for path in TEMPLATES for m in TRANSLATE.finditer(path.read_text(encoding="utf-8"))}
    missing = sorted(wanted - _msgids())
    assert missing == [], "run makemessages -l zh_Hans (see the catalogue's header): " + "、".join(missing[:10])


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext's msgfmt is missing: apt-get install gettext")
def test_the_catalogue_compiles_and_django_uses_it(tmp_path: Path) -> None:
    subprocess.run(["msgfmt", "--check", "-o", str(tmp_path / "django.mo"), str(CATALOGUE)], check=True)
    from django.conf import settings
    from django.utils import translation

    assert ROOT / "locale" in [Path(p) for p in settings.LOCALE_PATHS]
    with translation.override("zh-hans"):
        assert translation.get_language() == "zh-hans"
        assert translation.gettext("工单系统") == "工单系统"
