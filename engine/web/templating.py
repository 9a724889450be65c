"""The page templates (Jinja2, autoescaped: every string a user typed is shown as text) and
the words of the pages in Chinese and English."""

from __future__ import annotations

import hashlib
import json
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from fastapi.responses import HTMLResponse
from engine.accounts.roles import role_label
from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

TEXTS = {
    "zh": {
        "evaluate": "评估", "interview": "问答", "why": "为何 / 为何不", "compare": "比较", "policy": "政策原文",
        "graph": "关系图", "batch": "批量筛查", "switch": "English", "switch_lang": "en",
        "title_evaluate": "评估一家企业", "intro_evaluate": "填写已知的事实，结果随之更新。未知的事实留空（“未知”），未知不等于“否”。",
        "import": "粘贴或上传档案（YAML、JSON 或 Excel）", "import_button": "导入", "paste": "粘贴 YAML 或 JSON",
        "file": "或选择文件", "batch_file": "选择文件（CSV、Excel 或 JSON Lines）",
        "template_download": "下载填写模板（Excel，含说明和示例）", "unknown": "未知", "yes": "是", "no": "否", "none_of_these": "以上皆无（已知）",
        "other_support": "其他区级政策对同一事项的支持（第十四条）", "benefit": "支持事项", "policy_name": "政策名称",
        "amount": "金额", "status": "状态", "clause": "条款", "note": "说明", "granted": "给予", "denied": "不给予",
        "undetermined": "待定", "superseded": "由其他政策支持", "open": "重叠待定", "conclusions": "成立的结论",
        "overlaps": "第十四条：与其他政策的重叠", "missing": "缺少的事实（按其可决定的事项）", "none": "（无）",
        "unnamed": "（未命名企业）", "as_of": "评估日期", "in_force": "有效", "not_in_force": "不在有效期",
        "in_force_unknown": "是否有效未知", "why_link": "为什么", "why_not_link": "为何不", "print": "打印报告",
        "permalink": "本案例的链接", "copy": "复制链接", "copied": "已复制", "what_if": "加入比较",
        "summary_counts": "给予 {granted} 项，待定 {undetermined} 项，由其他政策支持 {superseded} 项，不给予 {denied} 项",
        "ceiling": "已给予事项的金额上限合计", "facts_given": "已填写的事实",
        "kb_mismatch": "此链接是在知识库版本 {old} 下生成的，本服务器的版本是 {new}：下面是按当前版本的结果，可能与当时不同。",
        "bad_link": "链接中的案例无法读取，已忽略。",
        "title_interview": "问答：一次一个问题", "intro_interview": "每次只问对尚待确定的支持事项最有决定作用（或涉及金额最多）的事实。可以跳过（保持未知），可以返回上一题。",
        "why_asking": "为什么问这个？", "waiting": "以下事项等待这个事实：", "answer": "回答", "skip": "跳过", "back": "上一题",
        "restart": "重新开始", "done": "问答结束：没有企业还能回答的问题了。",
        "done_but_skipped": "除了跳过的 {n} 个问题，没有其他可回答的问题了。", "revisit": "回答跳过的问题", "open_in_evaluate": "在评估页打开",
        "question": "问题", "answered": "已回答 {n} 题", "still_undetermined": "仍待定的支持事项：{n} 项",
        "title_why": "为何 / 为何不", "intro_why": "选择一项结论或支持事项：成立的显示推导过程，不成立的显示原因和可以改变结果的事实变化（每项都经重新评估验证）。",
        "choose": "选择", "benefits": "支持事项", "conclusions_group": "结论", "no_case": "还没有案例：先在评估页填写事实，或打开一个案例链接。",
        "met": "满足", "not_met": "不满足", "unknown_mark": "未知", "actual": "实际", "grounds": "依据",
        "arithmetic": "金额计算", "next_fact": "下一步应询问", "alternatives": "这样可以获得（每项均经重新评估验证；企业自己能做到的在前）",
        "no_alternative": "没有能给予的事实变化。", "apply_copy": "应用到副本并比较", "any_of": "以下任一", "all_of": "以下全部",
        "also_by": "亦由", "holds": "成立", "not_holds": "不成立", "missing_here": "缺少的事实",
        "superseded_by": "由其他政策支持", "reasons": "原因（逐条条件：✓ 满足，✗ 不满足，? 未知）",
        "title_compare": "比较案例", "intro_compare": "两个或多个案例并列：与第一个案例不同之处已标出。",
        "case": "案例", "add_case": "添加案例（粘贴 YAML 或 JSON）", "add": "添加", "differs": "不同", "fact": "事实",
        "same": "相同", "remove": "移除", "copy_suffix": "（副本）", "no_cases": "还没有案例。从评估页或为何不页的“应用到副本”打开，或在下方粘贴档案。",
        "title_policy": "政策原文", "intro_policy": "每条每项按公布的原文；句子下方是编码它的规则。有案例时，标出每条规则对本案例的判断。",
        "subpolicies": "所援引的其他政策", "rules_here": "规则", "fired": "已适用", "rule_not_met": "条件不满足",
        "rule_unknown": "缺少事实", "partial": "（现有文本不完整）", "deferred_by": "援引于",
        "title_graph": "依赖关系图", "intro_graph": "事实 → 规则 → 结论 → 支持事项。拖动平移，滚轮缩放，点击节点查看详情；有案例时，已成立的路径以绿色标出。",
        "search": "搜索节点（名称或 id）", "matches": "匹配 {n} 个", "legend": "图例",
        "title_batch": "批量筛查", "intro_batch": "上传 CSV（UTF-8 或 GBK）、Excel（.xlsx）或 JSON Lines 文件：表头为事实名称，每行一家企业。",
        "limit": "文件大小上限：{limit}。", "upload": "上传并筛查", "output_format": "结果格式", "as_of_all": "统一评估日期（可选）",
        "progress": "进度", "rows_done": "已完成 {done} 行", "of_total": "共 {total} 行", "batch_done": "完成：{rows} 行，其中错误 {errors} 行。",
        "download": "下载结果", "summary_page": "汇总页", "batch_failed": "筛查未完成：", "batch_running": "正在筛查…",
        "same_as_input": "与输入相同", "report_print": "打印", "kb_version": "知识库版本", "documents": "文件",
        "loading": "计算中…", "error_title": "无法评估",
        "read_as": "读作 {value}", "left_out_here": "评估时已略去此项（按未知处理）。",
        "left_out_title": "以下事实无法读取，评估时已略去（按未知处理），其余照常评估：",
        "not_read_again": "请重新回答或跳过。", "import_failed": "无法导入：", "import_too_big": "读取这个文件超出了时间或内存上限；一个企业的档案应是一张小表格。", "cannot_print": "无法打印报告，因为以下事实无法读取：",
        "date_hint": "年份在前：2021-03-01、2021/3/1、2021.3.1 或 2021年3月1日", "calendar": "日历", "pick_date": "从日历中选择日期",
        "money_placeholder": "例如 1.2亿元、500万元、3000", "number_placeholder": "平方米", "optional": "（可选）",
        "inverted_note": "档案中记为“{label}”：答“是”记为否，答“否”记为是。",
        "what_it_means": "这个事实的含义", "how_to_judge": "判断依据", "name_why": "企业名称不决定任何支持事项，只用于结果、报告和比较中的显示；可以跳过。",
        "blocked": "以下支持事项要等跳过的问题有了答案才能确定，不再为它们提问：",
        "check_one": "只看一项支持事项", "all_facts": "全部事实",
        "check_one_shown": "只显示决定“{benefit}”的 {n} 项事实；其他事实保留已填写的值。", "show_all": "显示全部事实",
        "request_failed": "结果未能更新：服务器返回了错误（HTTP {status}）。下面的内容是更改之前的，已过期。",
        "request_offline": "结果未能更新：无法连接服务器（网络中断或服务器已停止）。下面的内容是更改之前的，已过期。",
        "request_timeout": "结果未能更新：服务器没有及时回答。下面的内容是更改之前的，已过期。",
        "retry": "重试", "stale": "已过期",
        "copy_manual": "浏览器不允许自动复制：链接已在上面选中，请按 Ctrl+C（Mac 上按 ⌘C）复制。",
        "left_out_case": "已略去无法读取的事实",
        # The case register (/register, /register/{id}; the Evaluate page's "save as a case")
        "register": "案例库", "title_register": "案例库",
        "reg_intro": "保存的案例，以及对每个案例所作的每次决定的记录。记录构成哈希链：事后修改任何一条都能被发现。",
        "reg_none": "本服务器没有启用案例库。", "reg_how": "启动服务器时指定一个案例库文件即可启用：",
        "reg_how_note": "（一个 SQLite 文件，不存在时自动创建；团队共用时也可以是 postgresql:// 地址。）也可以在命令行上用 policykb cases 管理案例。",
        "reg_search": "按名称搜索", "reg_any_benefit": "任一支持事项", "reg_any_status": "任一状态",
        "reg_filter": "筛选", "reg_clear": "清除条件", "reg_filter_note": "支持事项和状态按每个案例最近一次的决定记录筛选。",
        "reg_number": "编号", "reg_name": "名称", "reg_version": "版本", "reg_changed": "最后修改", "reg_latest": "最近一次决定",
        "reg_never": "尚未记录决定", "reg_count": "共 {n} 个案例", "reg_count_of": "{n} 个案例符合条件（共 {total} 个）",
        "reg_empty": "案例库中还没有案例。在评估页的结果旁点击“保存为案例”即可保存一个。", "reg_no_match": "没有符合条件的案例。",
        "reg_case": "案例 {id}", "reg_meta": "版本 {version} · {created} 由 {by} 创建 · 最后修改 {updated}",
        "reg_notes": "备注", "reg_facts": "事实", "reg_value": "值", "reg_no_facts": "（没有填写任何事实）",
        "reg_edits": "修改记录", "reg_when": "时间", "reg_who": "操作人", "reg_records": "决定记录", "reg_seq": "序号",
        "reg_kb_hash": "知识库哈希", "reg_kb_current": "本服务器的版本", "reg_no_records": "还没有决定记录。",
        "reg_record_n": "第 {seq} 号记录", "reg_result_gone": "（结果已随案例数据删除）",
        "reg_record_title": "记录一次决定",
        "reg_record_intro": "按案例当前的事实和本服务器的知识库重新评估，并把结果记入哈希链。说明是记录的一部分，永远不能删除：请勿写入个人信息。",
        "reg_record_note": "说明（为何记录）", "reg_record_by": "记录人（可选）", "reg_record_button": "评估并记录",
        "reg_recorded": "已记录第 {seq} 号决定。", "reg_record_failed": "无法记录：",
        "reg_diff_title": "比较两次决定", "reg_diff_a": "记录 A", "reg_diff_b": "记录 B", "reg_diff_button": "比较",
        "reg_diff_head": "第 {a} 号与第 {b} 号记录的不同之处", "reg_diff_none": "两次决定对每项支持事项和结论的状态、金额都相同。",
        "reg_diff_need_two": "至少有两条决定记录才能比较。", "reg_diff_bad": "本案例没有第 {seq} 号记录。", "reg_item": "事项",
        "reg_not_found": "案例库中没有编号为 {id} 的案例。", "reg_erased": "此案例的数据已按要求删除；其决定记录的哈希仍留在链中。",
        "reg_back": "全部案例", "reg_save": "保存为案例", "reg_save_name": "案例名称", "reg_saved": "已保存为案例 {id}。",
        "reg_back_evaluate": "回到评估页（同一案例）", "reg_save_failed": "无法保存：", "reg_utc": "UTC",
    },
    "en": {
        "evaluate": "Evaluate", "interview": "Interview", "why": "Why / why not", "compare": "Compare",
        "policy": "Policy text", "graph": "Graph", "batch": "Batch", "switch": "中文", "switch_lang": "zh",
        "title_evaluate": "Evaluate an enterprise", "intro_evaluate": "Fill in the facts you know; the result follows. Leave a fact you do not know as “unknown”: unknown is not “no”.",
        "import": "Paste or upload a profile (YAML, JSON or Excel)", "import_button": "Import", "paste": "Paste YAML or JSON",
        "file": "or choose a file", "batch_file": "Choose a file (CSV, Excel or JSON Lines)",
        "template_download": "Download the template to fill in (Excel, with notes and an example)", "unknown": "unknown", "yes": "yes", "no": "no", "none_of_these": "none of these (known)",
        "other_support": "Support for the same benefit from another district policy (Art. 14)", "benefit": "Benefit",
        "policy_name": "Policy", "amount": "Amount", "status": "Status", "clause": "Clause", "note": "Note",
        "granted": "granted", "denied": "denied", "undetermined": "undetermined", "superseded": "superseded",
        "open": "open overlap", "conclusions": "Conclusions that hold", "overlaps": "Article 14: overlaps with other policies",
        "missing": "Missing facts (by what they could decide)", "none": "(none)", "unnamed": "(unnamed enterprise)",
        "as_of": "As of", "in_force": "in force", "not_in_force": "not in force", "in_force_unknown": "in force: unknown",
        "why_link": "why", "why_not_link": "why not", "print": "Print the report", "permalink": "Link to this case",
        "copy": "Copy link", "copied": "copied", "what_if": "Add to comparison",
        "summary_counts": "{granted} granted, {undetermined} undetermined, {superseded} superseded, {denied} denied",
        "ceiling": "Sum of the ceilings of granted benefits", "facts_given": "Facts given",
        "kb_mismatch": "This link was made under knowledge base version {old}; this server runs version {new}: the results below are today's and may differ from when the link was made.",
        "bad_link": "The case in the link could not be read and was ignored.",
        "title_interview": "Interview: one question at a time", "intro_interview": "Each question is the fact that decides the most (or the most money) of what is still undetermined. Skip keeps it unknown; Back keeps your answers.",
        "why_asking": "Why are you asking this?", "waiting": "These wait on this fact:", "answer": "Answer", "skip": "Skip",
        "back": "Back", "restart": "Start again", "done": "The interview is over: nothing the enterprise could answer is left.",
        "done_but_skipped": "Nothing is left to answer but the {n} questions skipped.", "revisit": "Answer the skipped questions",
        "open_in_evaluate": "Open in Evaluate", "question": "Question", "answered": "{n} answered",
        "still_undetermined": "Benefits still undetermined: {n}",
        "title_why": "Why / why not", "intro_why": "Pick a conclusion or benefit: one that holds shows its derivation; one that does not shows why, and the changes of facts that would grant it (each re-evaluated).",
        "choose": "Choose", "benefits": "Benefits", "conclusions_group": "Conclusions", "no_case": "No case yet: fill in facts on the Evaluate page, or open a case link.",
        "met": "met", "not_met": "not met", "unknown_mark": "unknown", "actual": "actual", "grounds": "grounds",
        "arithmetic": "Amount", "next_fact": "Ask next", "alternatives": "It would be granted with (each re-evaluated; what the enterprise can do itself first)",
        "no_alternative": "No change of facts would grant it.", "apply_copy": "Apply to a copy and compare",
        "any_of": "any of", "all_of": "all of", "also_by": "also by", "holds": "holds", "not_holds": "does not hold",
        "missing_here": "Missing facts", "superseded_by": "Superseded by", "reasons": "Why not (each condition: ✓ met, ✗ not met, ? unknown)",
        "title_compare": "Compare cases", "intro_compare": "Two or more cases side by side; what differs from the first case is marked.",
        "case": "Case", "add_case": "Add a case (paste YAML or JSON)", "add": "Add", "differs": "differs", "fact": "Fact",
        "same": "same", "remove": "remove", "copy_suffix": " (copy)", "no_cases": "No cases yet. Open one from Evaluate or from why-not's “apply to a copy”, or paste a profile below.",
        "title_policy": "The policy text", "intro_policy": "Every article and clause as published; under each sentence, the rules that encode it. With a case, each rule is marked by what it decided.",
        "subpolicies": "Policies it defers to", "rules_here": "rules", "fired": "applied", "rule_not_met": "not met",
        "rule_unknown": "facts missing", "partial": "(the available text is partial)", "deferred_by": "deferred to by",
        "title_graph": "Dependency graph", "intro_graph": "Facts → rules → conclusions → benefits. Drag to pan, scroll to zoom, click a node for details; with a case, what holds is green.",
        "search": "Search nodes (label or id)", "matches": "{n} found", "legend": "Legend",
        "title_batch": "Batch screening", "intro_batch": "Upload a CSV (UTF-8 or GBK), Excel (.xlsx) or JSON Lines file: a header of fact names, one enterprise per row.",
        "limit": "Size limit: {limit}.", "upload": "Upload and screen", "output_format": "Results as", "as_of_all": "Judge every row at (optional)",
        "progress": "Progress", "rows_done": "{done} rows done", "of_total": "of {total}", "batch_done": "Done: {rows} rows, {errors} with errors.",
        "download": "Download the results", "summary_page": "Summary page", "batch_failed": "The batch did not finish: ",
        "batch_running": "Screening…", "same_as_input": "same as the input", "report_print": "Print",
        "kb_version": "Knowledge base version", "documents": "Documents", "loading": "working…", "error_title": "Cannot evaluate",
        "read_as": "read as {value}", "left_out_here": "Left out of the evaluation (taken as unknown).",
        "left_out_title": "These facts could not be read and were left out (taken as unknown); the rest is evaluated:",
        "not_read_again": "Answer again or skip it.", "import_failed": "Cannot import: ", "import_too_big": "reading this file went past the time or memory limit; one enterprise's profile is a small sheet.", "cannot_print": "Cannot print the report, because these facts cannot be read: ",
        "date_hint": "Year first: 2021-03-01, 2021/3/1, 2021.3.1 or 2021年3月1日", "calendar": "Calendar", "pick_date": "Pick the date from a calendar",
        "money_placeholder": "e.g. 1.2亿元, 500万元, 3000", "number_placeholder": "m²", "optional": "(optional)",
        "inverted_note": "Stored as “{label}”: yes is stored as no, no as yes.",
        "what_it_means": "What it means", "how_to_judge": "How to judge it", "name_why": "The name decides no benefit; it only labels the result, the report and comparisons. You may skip it.",
        "blocked": "These benefits wait on a question you skipped, so nothing more is asked for them:",
        "check_one": "Check one benefit", "all_facts": "All facts",
        "check_one_shown": "Showing only the {n} facts that decide “{benefit}”; the other facts keep what you filled in.", "show_all": "Show all facts",
        "request_failed": "The result could not be updated: the server answered with an error (HTTP {status}). What is shown is from before the change and out of date.",
        "request_offline": "The result could not be updated: the server cannot be reached (the network is down or the server stopped). What is shown is from before the change and out of date.",
        "request_timeout": "The result could not be updated: the server did not answer in time. What is shown is from before the change and out of date.",
        "retry": "Retry", "stale": "out of date",
        "copy_manual": "The browser does not allow copying here: the link above is selected — press Ctrl+C (⌘C on a Mac) to copy it.",
        "left_out_case": "Facts left out, as they cannot be read",
        # The case register (/register, /register/{id}; the Evaluate page's "save as a case")
        "register": "Register", "title_register": "The case register",
        "reg_intro": "The saved cases and the record of every decision made on them. The records form a hash chain: a record changed afterwards shows.",
        "reg_none": "This server keeps no case register.", "reg_how": "Start the server with a register file to keep one:",
        "reg_how_note": "(an SQLite file, made when missing; for a register shared by a team, a postgresql:// URL). On the command line, policykb cases manages the same cases.",
        "reg_search": "Search by name", "reg_any_benefit": "any benefit", "reg_any_status": "any status",
        "reg_filter": "Filter", "reg_clear": "Clear", "reg_filter_note": "The benefit and status filter by each case's latest decision record.",
        "reg_number": "No.", "reg_name": "Name", "reg_version": "Version", "reg_changed": "Last changed", "reg_latest": "Latest decision",
        "reg_never": "no decision recorded", "reg_count": "{n} cases", "reg_count_of": "{n} of {total} cases match",
        "reg_empty": "No cases yet. Save one with “Save as a case” beside a result on the Evaluate page.", "reg_no_match": "No case matches.",
        "reg_case": "Case {id}", "reg_meta": "version {version} · added {created} by {by} · last changed {updated}",
        "reg_notes": "Notes", "reg_facts": "Facts", "reg_value": "Value", "reg_no_facts": "(no fact given)",
        "reg_edits": "Edits", "reg_when": "When", "reg_who": "Who", "reg_records": "Decision records", "reg_seq": "No.",
        "reg_kb_hash": "Knowledge base hash", "reg_kb_current": "this server's", "reg_no_records": "No decision recorded yet.",
        "reg_record_n": "Record {seq}", "reg_result_gone": "(the result was erased with the case's data)",
        "reg_record_title": "Record a decision",
        "reg_record_intro": "Evaluates the case's facts now, under this server's knowledge base, and appends the result to the chain. The note is part of the record and can never be erased: put no personal data in it.",
        "reg_record_note": "Note (why)", "reg_record_by": "Recorded by (optional)", "reg_record_button": "Evaluate and record",
        "reg_recorded": "Decision {seq} recorded.", "reg_record_failed": "Cannot record: ",
        "reg_diff_title": "Compare two decisions", "reg_diff_a": "Record A", "reg_diff_b": "Record B", "reg_diff_button": "Compare",
        "reg_diff_head": "What differs between records {a} and {b}", "reg_diff_none": "The two decisions give every benefit and conclusion the same status and amount.",
        "reg_diff_need_two": "Two decision records are needed to compare.", "reg_diff_bad": "Record {seq} is not one of this case's.", "reg_item": "Item",
        "reg_not_found": "The register holds no case {id}.", "reg_erased": "This case's data was erased on request; the hashes of its records stay in the chain.",
        "reg_back": "All cases", "reg_save": "Save as a case", "reg_save_name": "Case name", "reg_saved": "Saved as case {id}.",
        "reg_back_evaluate": "Back to the Evaluate page (the same case)", "reg_save_failed": "Cannot save: ", "reg_utc": "UTC",
    },
}

class Words:
    """The words of one language; ``T.copy`` and ``T["copy"]`` both work in a template (a plain
    dict would answer ``T.copy`` with its own method)."""

    def __init__(self, words: dict[str, str]):
        self._words = words

    def __getattr__(self, name: str) -> str:
        try:
            return self._words[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> str:
        return self._words[name]

    def __contains__(self, name: str) -> bool:
        return name in self._words


WORDS = {lang: Words(words) for lang, words in TEXTS.items()}

NAV = ("evaluate", "interview", "why", "compare", "policy", "graph", "batch")

#: Whether the app serving this request keeps a case register (set per request by
#: :class:`engine.web.routers.register_pages.RegisterFlag`): the nav's "Register" link and the
#: Evaluate page's "Save as a case" are shown only then.
REGISTER_ON: ContextVar[bool] = ContextVar("policykb_register_on", default=False)


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"], default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.globals["static"] = static_url
    env.globals["NAV"] = NAV
    env.globals["has_register"] = REGISTER_ON.get
    from . import access   # who is asking: what the page shows them, and the CSRF token of its forms
    env.globals.update(can=access.can, me=lambda: access.visitor().account, csrf=lambda: access.visitor().csrf,
                       accounts_on=access.ACCOUNTS_ON.get, role_label=role_label)
    from .forms import record_rows
    env.globals["record_rows"] = record_rows
    env.filters["tojson_attr"] = lambda value: json.dumps(value, ensure_ascii=False, sort_keys=True)
    return env


@lru_cache(maxsize=None)
def _static_hash(name: str) -> str:
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:10]


def static_url(name: str) -> str:
    """A static file's URL, with its content hash so a new version is never served from cache."""
    return f"/static/{name}?v={_static_hash(name)}"


def render(template: str, status_code: int = 200, **context) -> HTMLResponse:
    lang = context.get("lang", "zh")
    context.setdefault("T", WORDS[lang])
    return HTMLResponse(environment().get_template(template).render(**context), status_code=status_code)
