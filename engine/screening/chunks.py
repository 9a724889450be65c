"""Evaluating a chunk of rows where it is evaluated — in this process, a local worker
(:mod:`engine.screening.local`) or a Dask worker (:mod:`engine.screening.dask_engine`): each row
read, evaluated and prepared for the writer, with the chunk's part of the summary."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterable, Iterator

from engine.errors import PolicyKBError, ProfileError
from engine.inferring.evaluation import assess_facts, dated, screen
from engine.loading.profile import parse_profile
from engine.loading.values import MonthDate
from engine.model import KnowledgeBase
from engine.screening.parsing import parse_row, problems
from engine.screening.result_rows import CsvText, flat
from engine.screening.rows import Row
from engine.screening.summary import Summary

#: Rows per chunk: a worker's unit of work.
CHUNK = 250


@dataclass(frozen=True)
class Output:
    """What the evaluating process prepares for the writer: the output's kind (``csv``,
    ``jsonl``, ``xlsx``), the language of the results sheet's words, and whether each row's
    HTML report is wanted (``--reports``)."""

    kind: str
    lang: str = "zh"
    reports: bool = False


class Chunk(list):
    """Rows evaluated and prepared for the writer, in input order, with their part of the
    summary (:attr:`summary`), tallied where they were evaluated so that the process writing
    the output only writes and adds up."""

    def __init__(self, items=(), summary: "Summary | None" = None):
        super().__init__(items)
        self.summary = summary if summary is not None else Summary()


def evaluate_rows(kb: KnowledgeBase, rows: list[Row], as_of, kind: str | Output) -> Chunk:
    """Read, evaluate and prepare rows for a ``kind`` file (``csv``, ``jsonl``, ``xlsx``, or an
    :class:`Output`), so that the process writing the file only writes. A row that fails is a
    row with every problem it has in its message, never an exception."""
    output = kind if isinstance(kind, Output) else Output(kind)
    # A CSV row holds statuses and amounts only: screened, without the derivation record an
    # explanation, a report or a JSON record needs (the same values; a test compares them).
    screening = output.kind == "csv" and not output.reports
    out = Chunk()
    text = CsvText() if output.kind == "csv" else None
    for row in rows:
        row = parse_row(kb, row)
        item = {"row": row.number, "id": row.ident, "result": "error", "message": row.error}
        zh = row.error_zh or row.error   # the message in Chinese, for a person reading Chinese
        assessment = evaluation = None
        if row.error is not None:
            if row.data is not None:   # cells that could not be read, and whatever else is wrong
                item["message"] = "; ".join([row.error] + problems(kb, row.data))
                zh = "；".join([zh] + problems(kb, row.data, "zh"))
        else:
            try:
                facts = row.data if row.checked else parse_profile(row.data, kb)
                if screening and not any(isinstance(v, MonthDate) for v in facts.values()):
                    evaluation = screen(dated(facts, as_of), kb)
                else:
                    # The compiled rules, not the rule engine: the same result (tested), without
                    # durable_rules' per-profile cost, which is most of a row's time.
                    assessment = assess_facts(facts, kb, as_of=as_of, engine="compiled")
                    evaluation = assessment.result
                item["result"] = "ok"
            except ProfileError as exc:
                item["message"] = "; ".join(problems(kb, row.data)) or str(exc)
                zh = "；".join(problems(kb, row.data, "zh")) or exc.text("zh")
            except PolicyKBError as exc:
                item["message"], zh = str(exc), exc.text("zh")
            except Exception as exc:  # an internal error of one row must not stop the batch
                item["message"] = f"internal error while evaluating this row: {exc or 'no detail'}"
                zh = f"评估这一行时出现内部错误：{exc or '无详情'}"
        if item["result"] == "error" and item["message"] is not None:
            item["message_zh"] = zh
        out.append(_prepared(kb, item, assessment, evaluation, output, text, row.given))
        out.summary.add(kb, evaluation)
    return out



def _prepared(kb: KnowledgeBase, item: dict, assessment, evaluation: dict | None, output: Output,
              text: CsvText | None, given: dict | None) -> dict:
    kind = output.kind
    prepared = {"row": item["row"]}
    if kind == "jsonl":
        record = dict(item)
        if evaluation is not None:
            record["evaluation"] = evaluation
        line = json.dumps(record, ensure_ascii=False) + "\n"
    elif kind == "csv":
        line = text.line(flat(kb, item, evaluation))
    else:
        from engine.rendering.results_sheet import benefit_cells
        line = flat(kb, item, evaluation)
        message = item.get("message_zh", item["message"]) if output.lang == "zh" else item["message"]
        prepared.update(result=item["result"], message=message, given=given,
                        sheet=benefit_cells(assessment, output.lang) if assessment is not None else None)
    if output.reports and assessment is not None:
        from engine.rendering.report import report_html
        prepared.update(report=report_html(assessment, output.lang), id=item["id"])
    prepared["line"] = line
    return prepared



def chunks(rows: Iterable[Row], size: int | None = None) -> Iterator[list[Row]]:
    size = size or CHUNK
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
