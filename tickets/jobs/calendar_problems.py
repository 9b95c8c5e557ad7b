"""An uploaded working-day calendar file's problems, told to a supervisor in Chinese.

The parser (`tickets.sla.calendar_source.parse_year_data`) lists every problem in English for the
log and the `calendar_import` command; the jobs page names the first few in Chinese, then how many
there are in all.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from datetime import date

from tickets.sla.calendar_source import YearFileError

_LINE = re.compile(r"line (\d+)")

# What a supervisor is told to fix, in words: the operations docs have no section on the year file
# yet, and the example's path (tickets/sla/data/cn-2027.example.toml) is in the source tree, which a
# supervisor cannot open.
YEAR_FILE_FORMAT = (
    "文件应写明年份、每个法定节假日的名称和放假日期（含假期中的周六、周日）以及调休上班的周六、周日，"
    "日期写作 2027-01-01 的形式"
)
PROBLEMS_LISTED = 3  # the first few problems are named; the rest are counted

# The parser's problems (tickets.sla.calendar_source.parse_year_data, English, for logs and the CLI)
# name an entry as `holidays[2] (春节)` or `makeup_workdays[1]`.
_LABEL = r"(?P<label>holidays\[(?P<h>\d+)\](?: \((?P<name>.*?)\))?|makeup_workdays\[(?P<m>\d+)\])"
_WEEKDAYS = "一二三四五六日"
_ISO_LIKE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _shown(text: str) -> str:
    """A value the parser quoted with repr(), as the supervisor typed it."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
    return value if isinstance(value, str) else text


def _where(match: re.Match[str]) -> str:
    if match["m"]:
        return f"第 {match['m']} 组调休上班日"
    name = (match["name"] or "").strip()
    return f"节假日“{name}”" if name and name != "?" else f"第 {match['h']} 个节假日"


def _weekday(iso: str) -> str:
    return "星期" + _WEEKDAYS[date.fromisoformat(iso).weekday()]


def _not_a_date(match: re.Match[str]) -> str:
    typed = _shown(match["item"])
    if _ISO_LIKE.fullmatch(typed.strip()):
        return f"日期 {typed.strip()} 不存在"
    return f"“{typed}”不是日期（应写作 2027-01-01 的形式）"


def _bad_year(match: re.Match[str]) -> str:
    return "缺少年份" if match["got"] == "None" else f"年份应为四位数字，现为“{_shown(match['got'])}”"


# (pattern over one problem, its Chinese text); the first that matches wins.
_PROBLEM_TEXTS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = tuple(
    (re.compile(pattern), text)
    for pattern, text in (
        (r"the file must hold a table/object at the top level", lambda m: "文件最外层应为一组设置，而不是列表或单个值"),
        (
            r"unknown key (?P<key>.+) \(expected year, holidays, makeup_workdays\)",
            lambda m: f"无法识别的项“{_shown(m['key'])}”（只能有 year、holidays、makeup_workdays）",
        ),
        (r"'year' must be an integer, got (?P<got>.+)", _bad_year),
        (r"'year' (?P<year>-?\d+) is out of range", lambda m: f"年份 {m['year']} 超出范围（应在 1949 至 2200 年之间）"),
        (r"no holidays listed", lambda m: "没有列出任何法定节假日"),
        (
            r"'(?P<key>holidays|makeup_workdays)' must be a list of tables",
            lambda m: (
                f"{'法定节假日' if m['key'] == 'holidays' else '调休上班日'}应逐条列出（每条以 [[{m['key']}]] 开头）"
            ),
        ),
        (
            rf"{_LABEL} must be a table with (?P<what>name and )?dates",
            lambda m: f"{_where(m)}应写明{'名称和' if m['what'] else ''}日期",
        ),
        (rf"{_LABEL} has no name", lambda m: f"{_where(m)}没有名称"),
        (rf"{_LABEL}: unknown key (?P<key>.+)", lambda m: f"{_where(m)}中有无法识别的项“{_shown(m['key'])}”"),
        (rf"{_LABEL}: name must be text", lambda m: f"{_where(m)}的名称应为文字"),
        (rf"{_LABEL}: 'dates' must be a non-empty list", lambda m: f"{_where(m)}没有列出日期"),
        (rf"{_LABEL}: (?P<item>.+) is not a date", _not_a_date),
        (rf"{_LABEL}: (?P<d>[\d-]+) is not in year (?P<year>\d+)", lambda m: f"日期 {m['d']} 不属于 {m['year']} 年"),
        (
            rf"{_LABEL}: (?P<d>[\d-]+) is already listed under (?P<other>.+)",
            lambda m: f"日期 {m['d']} 重复（已列在“{_shown(m['other'])}”下）",
        ),
        (rf"{_LABEL}: (?P<d>[\d-]+) is listed twice", lambda m: f"调休上班日 {m['d']} 重复"),
        (
            rf"{_LABEL}: (?P<d>[\d-]+) is both a make-up working day and a holiday \((?P<other>.*)\)",
            lambda m: f"日期 {m['d']} 既是调休上班日又是节假日（{m['other']}）",
        ),
        (
            rf"{_LABEL}: (?P<d>[\d-]+) is a \w+; make-up working days",
            lambda m: f"调休上班日 {m['d']} 是{_weekday(m['d'])}，调休上班日只能是星期六或星期日",
        ),
    )
)


def _problem_text(problem: str) -> str:
    for pattern, text in _PROBLEM_TEXTS:
        match = pattern.match(problem)
        if match:
            return text(match)
    return "有内容不符合格式"  # a rule added to the parser without a text here (the log has it)


def year_file_text(exc: YearFileError, *, content: str) -> str:
    """What was wrong with an uploaded year file, in Chinese: the first few problems by name, then
    how many in all. The parser's English detail (with the server's temporary path) goes to the log."""
    problems = list(getattr(exc, "problems", []) or [str(exc)])
    unparsable = next((p for p in problems if p.startswith("cannot parse") or p.startswith("unsupported")), None)
    if not content.strip():
        texts = ["文件为空"]
    elif unparsable is not None:
        line = _LINE.search(unparsable)
        where = f"（第 {line.group(1)} 行附近）" if line else ""
        texts = [f"文件不是有效的 TOML 或 JSON 格式{where}"]
    else:
        texts = [_problem_text(p) for p in problems]
    detail = "；".join(texts[:PROBLEMS_LISTED])
    if len(texts) > PROBLEMS_LISTED:
        detail += f"等共 {len(texts)} 处"
    return f"日历文件有误：{detail}。{YEAR_FILE_FORMAT}，请修改后重新上传。"
