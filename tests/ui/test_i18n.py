"""i18n-ready pages: every visible string, in templates ({% translate %}) and in the page views' Python
(gettext), goes through the translation machinery and is in the zh_Hans catalogue."""

from __future__ import annotations

import ast
import gettext
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
PAGE_MODULES = sorted((ROOT / "tickets" / "pages").glob("*.py"))
GETTEXT_CALLS = {"_", "gettext", "gettext_lazy"}


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


def _page_strings(path: Path) -> tuple[set[str], list[str]]:
    """A page module's gettext msgids, and its Chinese literals that bypass gettext (docstrings aside).

    An f-string is bare even inside gettext(): it is formatted before the lookup, so no catalogue matches it.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    wrapped: dict[int, str] = {}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in GETTEXT_CALLS
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            wrapped[id(node.args[0])] = node.args[0].value
    bare = [
        f"{path.name}:{node.lineno} {node.value[:30]}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and CJK.search(node.value)
        and id(node) not in wrapped
        and id(node) not in docstrings
    ]
    return set(wrapped.values()), bare


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


def test_no_page_view_shows_chinese_text_outside_gettext() -> None:
    """Form labels and errors, flash messages and labels built in tickets/pages go through gettext."""
    bare = [line for path in PAGE_MODULES for line in _page_strings(path)[1]]
    assert bare == [], "wrap in gettext, values as %(name)s placeholders: " + "; ".join(bare[:10])


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext's msgfmt is missing: apt-get install gettext")
def test_every_page_message_is_translated_by_the_compiled_zh_hans_catalogue(tmp_path: Path) -> None:
    """Compiled as setup does: a message missing from the catalogue, or left fuzzy or empty, fails here."""
    mo = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(mo), str(CATALOGUE)], check=True)
    with mo.open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    wanted = set().union(*(_page_strings(path)[0] for path in PAGE_MODULES))
    assert len(wanted) > 80  # the pages' own messages, not an empty scan
    untranslated = sorted(m for m in wanted if catalogue.gettext(m) != m or m not in catalogue._catalog)  # type: ignore[attr-defined]
    assert untranslated == [], "run the catalogue's refresh commands (see its header): " + "、".join(untranslated[:10])
