"""Reading a policy's published text for ``policykb draft``: its lines normalised, its header
(title, 文号, issuer, dates), its articles (第X条) and clauses (（一）, or 1. items), and in each
sentence that grants something what it states — amounts, shares, caps, thresholds, periods,
recognitions and named documents (:func:`analyse`).

Nothing here knows a knowledge base: :mod:`engine.authoring.drafting` matches the findings
with facts and writes the files. Money is integer yuan and shares are :class:`~fractions.Fraction`:
Chinese numerals are read by cn2an (integers only), digits by :mod:`engine.loading.values`
(through :class:`~decimal.Decimal`), so no float ever touches an amount.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

import cn2an

from engine.loading.values import ValueProblem, parse_money

CJK = re.compile(r"[\u3400-\u9fff]")
_CN_NUM = "零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟"
_CN_DECIMAL = "零〇一二三四五六七八九"
#: A count of articles, clauses or years: digits or a Chinese numeral.
NUM = r"(?:\d{1,6}|[一二两三四五六七八九十百]{1,8})"
#: An amount before 元: digits with units (1亿5000万, 1.5亿, 1,000万) or a Chinese numeral
#: (一亿五千万, 壹亿伍仟万, 一点五亿).
#: Every run is bounded (no amount has more than 16 digits), so that a hostile line of ten
#: thousand digits is read in linear time rather than backtracked over.
MONEY_NUM = (r"(?:\d{1,16}(?:,\d{3}){0,5}(?:\.\d{1,8})?"                      # 1500, 1,000, 1.5
             r"(?:[亿万千百十]{1,3}(?:\d{1,4}[万千百十]{1,2}){0,3}\d{0,8})?"        # 亿, 1亿5000万, 7亿8332万6434
             rf"|[{_CN_NUM}]{{1,20}}(?:点[{_CN_DECIMAL}]{{1,8}}[万亿]?)?)")
MONEY = rf"(?P<money>{MONEY_NUM})元(?:人民币)?"
PERCENT = (rf"(?:(?P<digits>\d{{1,3}}(?:\.\d{{1,6}})?)[%％]"
           rf"|百分之(?P<cn>[{_CN_NUM}]{{1,8}}(?:点[{_CN_DECIMAL}]{{1,6}})?))")

ARTICLE = re.compile(rf"^第({NUM}|[零〇])[条條](?![规所的之中和、，])\s*")
SECTION = re.compile(r"^([一二三四五六七八九十]+)、")          # 一、 where a text has no 第X条
CLAUSE = re.compile(r"^（([一二三四五六七八九十]+)）")
ITEM = re.compile(r"^(\d{1,2})[.．、](?!\d)")
CHAPTER = re.compile(rf"^第{NUM}[章节]")
SEPARATOR = re.compile(r"^[=＝\-—_]{3,}")
TAIL = re.compile(r"^(抄送|附件|附：|主题词|（此件|此件)")
DATE = r"(\d{4})年(\d{1,2})月(\d{1,2})日"
DATE_LINE = re.compile(rf"^{DATE}$")
PRINTED = re.compile(rf"^(.*?){DATE}印发$")
DOC_NUMBER = re.compile(r"^([\u4e00-\u9fff]{1,12})[〔［\[（]((?:19|20)\d\d)[〕］\]）](\d{1,4})号$")
ISSUER = re.compile(r"^[\u4e00-\u9fff（）]{3,40}(人民政府办公室|人民政府|办公室|委员会|局|厅|委|部|中心)$")
GAP = "[gap:"

#: Words that grant something; the nouns after them (支持对象 …) do not.
GRANT = re.compile(r"给予|予以|(?:补助|补贴|奖励|资助|奖补)(?!资金申报|申报表|申请表)|扶持|支持(?!对象|政策|方向|力度)")
_HALF = {",": "，", ";": "；", ":": "：", "(": "（", ")": "）", "?": "？", "!": "！"}


@dataclass
class Unit:
    """An article or a clause as the text gives it: ``ref`` is ``"13"`` or ``"13(1)"``."""

    ref: str
    number: int
    text: str
    start: int = 0                     # where the text after its marker (第一条, （一）, 1.) begins
    title: str | None = None
    partial: bool = False
    clauses: list["Unit"] = field(default_factory=list)
    style: str | None = None           # an article's clauses: "paren" （一） or "item" 1.

    def body(self) -> str:
        """The text without its marker and heading: where its sentences are."""
        text = self.text[self.start:]
        return text[len(self.title) + 1:] if self.title else text


@dataclass
class Parsed:
    """A published text read: its header fields, articles, gaps, and the lines of source.txt."""

    header: dict
    articles: list[Unit]
    gaps: list[str]
    lines: list[str]
    skipped: list[str]                  # article numbers out of order, for the review


@dataclass(frozen=True)
class Finding:
    """One thing a sentence states. ``kind`` is one of: range_min, range_max, amount, cap,
    cumulative_cap, share, per_unit, threshold, period, recognition, document, mention."""

    kind: str
    text: str                           # the words of the sentence it was read from
    start: int
    value: int | Fraction | None = None  # yuan, a share, a count or years
    op: str | None = None               # threshold: at_least | more_than | at_most | less_than
    subject: str = ""                   # what a threshold compares, a share is of, a unit, an anchor, a title
    bound: str = ""                     # share: fixed | up_to; period: since | consecutive | within | per_year | recent
    quantity: str = ""                  # threshold: money | percent | count


# ---------------------------------------------------------------- lines and normalisation

def normalise(line: str) -> str:
    """A line of Chinese text as the loader compares it: half-width ， ； ： （ ） full-width
    (not a comma or colon between digits: 1,000, 10:30), spaces dropped except between two
    Latin letters or digits ("Windows XP"). A line without Chinese is left as it is."""
    line = line.replace("\u3000", " ").strip()
    if not CJK.search(line):
        return line
    line = re.sub(r"(?<!\d)[,:]|[,:](?!\d)|[;()?!]", lambda m: _HALF[m.group()], line)
    return re.sub(r"(?<![A-Za-z0-9])\s+|\s+(?![A-Za-z0-9])", "", line)


def _tokens(text: str) -> list[tuple[str, str]]:
    """The text as ("comment" | "gap" | "line", text): ``#`` comment lines kept as written, gap
    markers ``[gap: …]`` (which may run over several lines) split off and kept as written,
    other lines normalised."""
    tokens: list[tuple[str, str]] = []
    gap = ""
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not gap and line.lstrip().startswith("#"):
            tokens.append(("comment", line.rstrip()))
            continue
        while line:
            at = 0 if gap else line.find(GAP)
            if at < 0:
                if normalise(line):
                    tokens.append(("line", normalise(line)))
                break
            if normalise(line[:at]):
                tokens.append(("line", normalise(line[:at])))
            gap, line = gap + " " + line[at:], ""
            end = _closing(gap.strip())
            if end:
                gap = gap.strip()
                tokens.append(("gap", " ".join(gap[:end].split())))
                gap, line = "", gap[end:]
    if gap:
        tokens.append(("gap", " ".join(gap.split())))
    return tokens


def _closing(text: str) -> int:
    """Where the bracket opening ``text`` closes; 0 if it does not close in it."""
    depth = 0
    for index, char in enumerate(text):
        depth += {"[": 1, "]": -1}.get(char, 0)
        if depth == 0:
            return index + 1
    return 0


def _join(left: str, right: str) -> str:
    # A line broken by a page: Chinese runs on without a space, Latin words keep one.
    return left + (" " if left[-1:].isascii() and left[-1:].isalnum() and right[:1].isascii()
                   and right[:1].isalnum() else "") + right


# ---------------------------------------------------------------- structure

def parse(text: str) -> Parsed:
    """Read a published text: header, articles with their clauses, gaps, source.txt lines.

    The body starts at the first article (第一条, or 一、 in a text with no 第X条) or chapter
    heading; it ends at a separator line (=====), 抄送/附件, an issuer or date line, or an
    article 1 met again (a second copy of the text). Lines in the body that start no article
    or clause continue the one before (a page break)."""
    tokens = _tokens(text)
    marker = ARTICLE if any(k == "line" and ARTICLE.match(t) for k, t in tokens) else SECTION
    head, items, tail = [], [], []
    articles: list[Unit] = []
    gaps, skipped = [], []
    current: Unit | None = None
    state = "head"
    for index, (kind, line) in enumerate(tokens):
        if state == "head" and kind == "line" and (marker.match(line) or CHAPTER.match(line)):
            state = "body"
        following = next((t for k, t in tokens[index + 1:] if k == "line"), "")
        if state == "body" and kind == "line" and _ends_body(line, following, marker, articles):
            state = "tail"
        if state != "body" or kind == "comment":
            (head if state == "head" else tail).append((kind, line))
            continue
        if kind == "gap":
            gaps.append(line)
            items.append(line)
            for unit in filter(None, (current, articles[-1] if articles else None)):
                unit.partial = True
            continue
        unit = _start(line, marker, articles, skipped)
        if unit is not None:
            items.append(unit)
            current = unit
        elif CHAPTER.match(line) or current is None:
            items.append(line)
            current = None
        else:
            current.text = _join(current.text, line)
    header = _header([t for k, t in head if k == "line"], [t for k, t in tail if k == "line"], articles)
    lines = [t for _, t in head] + [i.text if isinstance(i, Unit) else i for i in items] + [t for _, t in tail]
    for unit in [u for article in articles for u in [article] + article.clauses]:
        unit.title = _heading(unit.body())
    return Parsed(header, articles, gaps, lines, skipped)


def _ends_body(line: str, following: str, marker, articles: list[Unit]) -> bool:
    """Whether ``line`` is past the articles: a separator, 抄送/附件, a date, the issuer's name
    signing above a date (not one a page break left alone mid-sentence), or 第一条 again."""
    if SEPARATOR.match(line) or TAIL.match(line) or DATE_LINE.match(line) or PRINTED.match(line):
        return True
    if ISSUER.match(line) and (DATE_LINE.match(following) or PRINTED.match(following)):
        return True
    match = marker.match(line)
    return bool(match and articles and _number(match.group(1)) == 1)


def _start(line: str, marker, articles: list[Unit], skipped: list[str]) -> Unit | None:
    """The article or clause ``line`` starts, added to ``articles``; None if it starts none."""
    match = marker.match(line)
    if match:
        number = _number(match.group(1))
        if number is None:
            return None
        expected = articles[-1].number + 1 if articles else 1
        if number < expected:
            return None                   # 第三条 quoted at a line start: a continuation
        if number > expected:             # a page of the copy is missing: the author must see it
            skipped.append(f"{expected}–{number - 1}" if number - 1 > expected else str(expected))
        head = line[:match.end()] if marker is SECTION else line[:match.end()].strip() + " "
        articles.append(Unit(str(number), number, head + line[match.end():], len(head)))
        return articles[-1]
    if not articles:
        return None
    article = articles[-1]
    for style, pattern in (("paren", CLAUSE), ("item", ITEM)):
        match = pattern.match(line)
        if match and article.style in (None, style) and _number(match.group(1)) == len(article.clauses) + 1:
            article.style = style
            clause = Unit(f"{article.number}({len(article.clauses) + 1})", len(article.clauses) + 1, line,
                          match.end())
            article.clauses.append(clause)
            return clause
    return None


def _heading(body: str) -> str | None:
    """The heading an article or clause begins with (第一条 重点支持方向。…), if it has one:
    a short phrase up to the first 。 with no comma in it, and more text after it."""
    match = re.match(r"([^。，；：、《》]{1,20})。", body)
    return match.group(1) if match and match.end() < len(body) else None


def _number(numeral: str) -> int | None:
    """A count written in digits or a Chinese numeral; None for one that is not a number (百百)."""
    try:
        return int(numeral) if numeral.isdigit() else cn_int(numeral)
    except ValueError:
        return None


def cn_int(numeral: str) -> int:
    """A Chinese integer numeral (十四, 两千万, 壹亿伍仟万) read by cn2an.

    Raises
    ------
    ValueError
        When it is not one cn2an reads, or not a whole number.
    """
    if numeral[:1] in "十拾百佰千仟万亿":   # 百分之百, 十四: cn2an reads 一百, and 十四 either way
        numeral = ("" if numeral[0] in "十拾" else "一") + numeral
    value = cn2an.cn2an(numeral, "normal")
    if not isinstance(value, int):
        raise ValueError(f"{numeral} is not a whole number")
    return value


# ---------------------------------------------------------------- the header

def _header(head: list[str], tail: list[str], articles: list[Unit]) -> dict:
    """Title, 文号, issuer, dates, notice and preamble from the lines around the body; the
    effective date, validity and interpreting body from the articles."""
    fields: dict = {}
    for line in head:
        match = DOC_NUMBER.match(line)
        if match and "doc_number" not in fields:
            fields["doc_number"] = f"{match.group(1)}〔{match.group(2)}〕{match.group(3)}号"
    around = head + tail
    for index, line in enumerate(around):
        if ISSUER.match(line) and index + 1 < len(around) and DATE_LINE.match(around[index + 1]):
            fields.setdefault("issuer", line)
            fields.setdefault("issue_date", _date(DATE_LINE.match(around[index + 1]).groups()))
        match = PRINTED.match(line)
        if match:
            fields.setdefault("print_date", _date(match.groups()[1:]))
    titles = [i for i, line in enumerate(head) if _title_like(line)]
    if titles:
        at = titles[-1]
        fields["title"] = head[at]
        preamble = [line for line in head[at + 1:] if line.endswith("。")]
        notice = [line for line in head[:at] if line.endswith("。") and "印发" in line]
        if preamble:
            fields["preamble"] = "".join(preamble)
        if notice:
            first = head.index(notice[0])
            addressee = head[first - 1] if first and head[first - 1].endswith("：") else ""
            fields["notice"] = addressee + "".join(notice)
    fields.update(_validity(" ".join(unit_text(a) for a in articles), fields.get("issue_date")))
    return fields


def _title_like(line: str) -> bool:
    return not (line.endswith(("。", "：", "文件")) or line.startswith(("（", GAP)) or DATE_LINE.match(line)
                or PRINTED.match(line) or DOC_NUMBER.match(line) or ISSUER.match(line)
                or SEPARATOR.match(line) or CHAPTER.match(line) or not CJK.search(line))


def unit_text(article: Unit) -> str:
    """An article's text with its clauses'."""
    return "".join([article.text] + [c.text for c in article.clauses])


def _validity(text: str, issued: dt.date | None) -> dict:
    fields: dict = {}
    match = re.search(rf"自{DATE}起(?:正式)?(?:施行|实施|执行|生效)", text)
    if match:
        fields["effective_date"] = _date(match.groups())
    elif issued and re.search(r"自(?:印发|发布|公布)之日起(?:施行|实施|执行|生效)", text):
        fields["effective_date"] = issued
        fields["effective_from_issue"] = True
    match = re.search(rf"有效期(?:为)?({NUM})年", text)
    if match and _number(match.group(1)):
        fields["validity_years"] = _number(match.group(1))
    match = re.search(rf"有效期至{DATE}", text)
    if match:
        fields["expiry_date"] = _date(match.groups())
    elif "effective_date" in fields and "validity_years" in fields:
        fields["expiry_date"] = _years_later(fields["effective_date"], fields["validity_years"]) - dt.timedelta(days=1)
        fields["expiry_computed"] = True
    match = re.search(r"由([\u4e00-\u9fff]{2,30}?)(?:组织实施并|牵头)?负责解释", text)
    if match:
        fields["interpreting_body"] = match.group(1)
    return fields


def _years_later(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:                    # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


def _date(parts) -> dt.date | None:
    try:
        return dt.date(*map(int, parts))
    except ValueError:
        return None


# ---------------------------------------------------------------- sentences

def sentences(unit: Unit) -> list[str]:
    """The sentences of an article's or clause's own text that grant something, without their
    closing mark; a lead-in to clauses (…予以以下资助：) is not one."""
    found = []
    for sentence in re.findall(r"[^。；！？]+[。；！？]?", unit.body()):
        sentence = sentence.strip().rstrip("。；！？")
        if sentence and not sentence.endswith("："):
            if GRANT.search(masked(sentence)):
                found.append(sentence)
    return found


def masked(sentence: str) -> str:
    """The sentence with each named document's title blanked (□), so that the words of a title
    (《西城区支持低效楼宇改造升级的若干措施》) are neither grants nor amounts; same length."""
    return re.sub(r"《[^《》]*》", lambda m: "《" + "□" * (len(m.group()) - 2) + "》", sentence)


def money(token: str) -> int:
    """Yuan from an amount as written before 元: ``500万``, ``1.5亿``, ``一千万``, ``壹亿伍仟万``.

    Raises
    ------
    ValueError
        (or :class:`~engine.loading.values.ValueProblem`) when it is not a whole amount of yuan.
    """
    if token[0].isdigit():
        return parse_money(token + "元")
    match = re.fullmatch(rf"(.+?)点([{_CN_DECIMAL}]+)([万亿]*)", token)
    if not match:
        return cn_int(token)
    digits = "".join(str("零一二三四五六七八九".index(c.replace("〇", "零"))) for c in match.group(2))
    scale = 10 ** (4 * match.group(3).count("万") + 8 * match.group(3).count("亿"))
    value = Decimal(f"{cn_int(match.group(1))}.{digits}") * scale
    if value != value.to_integral_value():
        raise ValueError(f"{token} is not a whole number of yuan")
    return int(value)


def percent(match: re.Match) -> Fraction:
    """A share from ``20%`` or ``百分之二十`` (百分之十二点五).

    Raises
    ------
    ValueError
        When the Chinese numeral is not one cn2an reads.
    """
    if match.group("digits"):
        return Fraction(match.group("digits")) / 100
    text = match.group("cn")
    whole, _, decimals = text.partition("点")
    digits = "".join(str("零一二三四五六七八九".index(c.replace("〇", "零"))) for c in decimals)
    return Fraction(f"{cn_int(whole)}.{digits or 0}") / 100


# ---------------------------------------------------------------- what a sentence states

_CAP = ("最高", "上限为", "上限", "封顶")
#: Words that bound an amount in the grant but set a threshold in a condition (对…不超过1亿元的企业).
_DUAL = {"不超过": "at_most", "不高于": "at_most", "最多": "at_most"}
#: Threshold words before a number, and their inclusivity: 不低于 includes it, 超过 and 不满 do not.
_BEFORE = {"不低于": "at_least", "不少于": "at_least", "达到": "at_least", "超过": "more_than",
           "高于": "more_than", "多于": "more_than", "大于": "more_than", "未达到": "less_than",
           "低于": "less_than", "少于": "less_than", "小于": "less_than", "不满": "less_than",
           "不足": "less_than", "未满": "less_than"}
_WORDS = "|".join(sorted(list(_CAP) + list(_DUAL) + list(_BEFORE), key=len, reverse=True))
_UNITS = "平方米|平米|㎡|人|名|户|家|个|项|套|台|间"
#: Units a per-unit cap multiplies (每平方米…元); 每家, 每个项目 are each recipient, not a quantity.
_PER_UNITS = "平方米|平米|㎡|人|名|户|套|台|间"
_PERIODS = (("since", rf"自([^，。；]{{1,30}}?)之日起(?:({NUM})个?年(?:以)?内)?"),
            ("consecutive", rf"连续[^，。；\d]{{0,6}}?({NUM})个?年"), ("within", rf"({NUM})个?年(?:以)?内"),
            ("per_year", r"每年度?"), ("recent", rf"近({NUM})个?年"))
_SUFFIX = re.compile(rf"(?:{MONEY}|{PERCENT}|(?P<count>{NUM})(?P<unit>{_UNITS}))"
                     rf"(?:（(?P<ex1>不)?含[^）]{{0,20}}）)?及?(?P<dir>以上|以下|以内)(?:（(?P<ex2>不)?含[^）]{{0,20}}）)?")
_RANGE = re.compile(rf"(?P<a>{MONEY_NUM})元?(?:到|至|—|－|-|~|～)(?P<b>{MONEY_NUM})元")


class _Reader:
    """Reads one sentence, each span once: what an earlier, more specific pattern took (a
    cumulative cap, a per-unit cap, a threshold with its （含…）) is not read again."""

    def __init__(self, sentence: str):
        self.sentence = sentence
        self.masked = masked(sentence)
        self.taken = [False] * len(sentence)
        grant = GRANT.search(self.masked)
        self.grant_at = grant.start() if grant else len(sentence)
        self.findings: list[Finding] = []

    def matches(self, pattern):
        for match in re.finditer(pattern, self.masked):
            if not any(self.taken[match.start():match.end()]):
                self.taken[match.start():match.end()] = [True] * (match.end() - match.start())
                yield match

    def add(self, kind: str, match: re.Match, lead: int = 0, **fields) -> None:
        """Record a finding; its text starts ``lead`` characters before the match (超过1亿元)."""
        start = match.start() - lead
        self.findings.append(Finding(kind, self.sentence[start:match.end()], start, **fields))

    def phrase(self, at: int) -> tuple[int, int]:
        start = max(self.masked.rfind(mark, 0, at) for mark in "，：") + 1
        ends = [i for i in (self.masked.find(mark, at) for mark in "，：") if i >= 0]
        return start, min(ends, default=len(self.masked))

    def before(self, at: int) -> str:
        return self.sentence[self.phrase(at)[0]:at]

    def in_condition(self, start: int, end: int) -> bool:
        """Whether a number at start–end stands in a condition (who qualifies), not in the
        grant: its phrase comes before the grant's and does not say how the amount is set
        (按/根据/依据), or it qualifies what the grant follows (…不超过1亿元的企业给予…)."""
        phrase_start, phrase_end = self.phrase(start)
        grant_phrase = self.phrase(self.grant_at)[0] if self.grant_at < len(self.masked) else len(self.masked)
        text = self.masked[phrase_start:phrase_end]
        if phrase_end <= grant_phrase and not re.search(r"按|根据|依据", text):
            return True
        return self.masked[end:end + 1] == "的" and self.grant_at > end


def analyse(sentence: str) -> list[Finding]:
    """What a granting sentence states, in the order of the text: named documents, periods,
    amounts, shares, caps (最高, 不超过, 上限), per-unit and cumulative caps, thresholds
    (以上, 以下, 不低于, 不高于 include the number; 超过, 高于, 低于, 不满, 不足 exclude it;
    （不含）makes 以上/以下 exclusive) and recognitions (经认定, 认定后)."""
    reader = _Reader(sentence)
    for match in re.finditer(r"《([^《》]*)》", sentence):
        reader.add("document", match, subject=match.group(1))
        reader.taken[match.start():match.end()] = [True] * (match.end() - match.start())
    for bound, pattern in _PERIODS:
        for match in reader.matches(pattern):
            years = next((g for g in match.groups()[-1:] if g and re.fullmatch(NUM, g)), None)
            anchor = match.group(1) if bound == "since" else ""
            reader.add("period", match, bound=bound, subject=anchor, value=_number(years) if years else None)
    _amounts(reader)
    for match in reader.matches(r"经[^，。；]{0,12}?认定|认定后"):
        reader.add("recognition", match)
        break
    return sorted(reader.findings, key=lambda f: f.start)     # stable: a range's min before its max


def _amounts(reader: _Reader) -> None:
    def read(kind, match, value=None, **fields):
        """Add a finding whose value is the match's money, or what ``value()`` reads."""
        try:
            number = money(match.group("money")) if match.groupdict().get("money") else value()
        except (ValueError, ValueProblem):
            return                        # not a number after all (数百万元, 百百): left for the review
        if number is not None:
            reader.add(kind, match, value=number, **fields)

    for match in reader.matches(rf"累计[^，。；]{{0,15}}?(?:不超过|最高|最多|上限为?)(?:人民币)?{MONEY}"):
        read("cumulative_cap", match)
    for match in reader.matches(rf"每(?P<unit>{_PER_UNITS})[^，。；\d]{{0,6}}?{MONEY}"):
        read("per_unit", match, subject=match.group("unit"))
    for match in reader.matches(_SUFFIX):
        exclusive = bool(match.group("ex1") or match.group("ex2"))
        op = {("以上", False): "at_least", ("以上", True): "more_than"}.get((match.group("dir"), exclusive),
                                                                        "less_than" if exclusive else "at_most")
        subject = _subject(reader.before(match.start()))
        if match.group("money"):
            read("threshold", match, op=op, subject=subject, quantity="money")
        elif match.group("digits") or match.group("cn"):
            read("threshold", match, lambda: percent(match), op=op, subject=subject, quantity="percent")
        else:
            read("threshold", match, lambda: _number(match.group("count")), op=op, subject=subject, quantity="count")
    for match in reader.matches(_RANGE):
        low, high = match.group("a"), match.group("b")
        units = re.search(r"[亿万千]+$", high)
        if not re.search(r"[亿万千百十]$", low) and units:
            low += units.group()          # 500到2000万元: the unit of the second is the first's too
        try:
            values = money(low), money(high)
        except (ValueError, ValueProblem):
            continue
        reader.add("range_min", match, value=values[0])
        reader.add("range_max", match, value=values[1])
    for match in reader.matches(PERCENT):
        before = reader.before(match.start())
        word = _word(before)
        if word in _BEFORE or (word in _DUAL and reader.in_condition(match.start(), match.end())):
            read("threshold", match, lambda: percent(match), lead=len(before) - before.rfind(word),
                 op=_BEFORE.get(word) or _DUAL[word], subject=_subject(before, word), quantity="percent")
        else:
            bound = "up_to" if re.search(r"最高|不超过|不高于|最多|上限", before) else "fixed"
            read("share", match, lambda: percent(match), bound=bound, subject=_base(before))
    for match in reader.matches(MONEY):
        before = reader.before(match.start())
        word = _word(before)
        condition = reader.in_condition(match.start(), match.end())
        if word in _CAP or (word in _DUAL and not condition):
            read("cap", match)
        elif word in _BEFORE or word in _DUAL:
            read("threshold", match, lead=len(before) - before.rfind(word), op=_BEFORE.get(word) or _DUAL[word],
                 subject=_subject(before, word), quantity="money")
        else:
            read("mention" if condition else "amount", match, subject=_subject(before))
    for match in reader.matches(rf"(?P<word>{'|'.join(_BEFORE)})(?P<count>{NUM})(?P<unit>{_UNITS})"):
        read("threshold", match, lambda: _number(match.group("count")), op=_BEFORE[match.group("word")],
             quantity="count", subject=_subject(reader.before(match.start())))


def _word(before: str) -> str | None:
    """The cap or threshold word just before a number (人民币 or 为 may stand between)."""
    match = re.search(rf"({_WORDS})(?:人民币|为)?$", before)
    return match.group(1) if match else None


def _subject(before: str, word: str | None = None) -> str:
    """What a threshold compares: the words of its phrase before it (对企业实收资本 → 企业实收资本)."""
    text = before[: before.rfind(word)] if word and word in before else before
    text = re.split(r"[且并或、]|以上|以下|以内", text)[-1]   # 收入2000万元以下且员工人数 → 员工人数
    text = re.sub(r"^(?:对于|针对|对|凡|其|以及|及|和)+", "", text)
    return re.sub(r"(?:达到|人民币|为|在)+$", "", text)


def _base(before: str) -> str:
    """What a share is of: 最高按照实际投资额的30% → 实际投资额; 按照不超过增量10% → 增量."""
    text = re.sub(r"^(?:最高|按照|按|以|不超过|不高于)+", "", before)
    return re.sub(r"(?:的|比例为?)$", "", text)
