"""The words of the register's pages that the shared table (:data:`engine.web.templating.TEXTS`)
does not hold: the notice that recorded decisions were made under another knowledge base, the
replay page, the interview's "Save as a case", and the notes the register itself writes (the
first version of a case is stored with the note ``added``, shown in the page's language).
"""

from __future__ import annotations

WORDS = {
    "zh": {
        "edit_added": "新增",
        "iv_save_note": "把目前已回答的事实保存为案例库中的一个案例（跳过的事实不保存）。",
        "back_interview": "回到访谈（同一案例）",
        "other_kb": "有 {records} 条决定记录（涉及 {cases} 个案例）是在另一版知识库下作出的，与本服务器当前的知识库不同；"
                    "其中 {latest} 个案例的最近一次决定如此。",
        "other_kb_versions": "记录时的知识库版本", "other_kb_count": "（{n} 条记录）",
        "other_kb_link": "按当前知识库重放这些案例 →",
        "title_replay": "按本服务器的知识库重放",
        "replay_intro": "按本服务器当前的知识库，重新评估已存案例的当前事实（评估日期取各案例最近一次记录的日期），"
                        "与最近一次记录的决定比较，并注明每项变化的原因。不会向案例库写入任何内容。",
        "replay_scope": "重放哪些案例",
        "scope_other": "最近一次决定依据另一版知识库的案例（{n} 个）",
        "scope_all": "所有已记录决定的案例（{n} 个）",
        "replay_button": "重放",
        "replay_served": "本服务器的知识库",
        "replay_none": "没有要重放的案例。",
        "replay_limited": "本页最多重放 {limit} 个案例：符合条件的共 {total} 个，这里只重放了编号最小的 {limit} 个。",
        "replay_counted": "重放了 {n} 个案例。",
        "replay_whole": "要重放整个案例库（并写出报告），请在命令行运行：",
        "replay_old_kb": "本服务器只有它当前的这一版知识库，所以变化的原因只能写作“与记录时不同的知识库”，"
                         "指不出是哪条规则。在命令行上加 --old-kb 给出记录时的知识库目录，即可按规则、文件和事实的变化归因。",
        "replay_xlsx": "下载重放结果（Excel）",
        "replay_open": "结果有变化的案例",
    },
    "en": {
        "edit_added": "added",
        "iv_save_note": "Saves the facts answered so far as a case in the register (skipped facts are not saved).",
        "back_interview": "Back to the interview (the same case)",
        "other_kb": "{records} decision records, of {cases} cases, were made under another knowledge base than the one "
                    "this server serves; for {latest} of these cases it is the latest decision.",
        "other_kb_versions": "Knowledge bases recorded", "other_kb_count": " ({n} records)",
        "other_kb_link": "Replay them under this knowledge base →",
        "title_replay": "Replay under this server's knowledge base",
        "replay_intro": "The saved cases' current facts evaluated again under the knowledge base this server serves "
                        "(each at the as-of date of its latest record) and compared with the latest recorded decision, "
                        "each change with what is responsible. Nothing is written to the register.",
        "replay_scope": "Which cases",
        "scope_other": "Cases whose latest decision was made under another knowledge base ({n})",
        "scope_all": "Every case with a recorded decision ({n})",
        "replay_button": "Replay",
        "replay_served": "This server's knowledge base",
        "replay_none": "No case to replay.",
        "replay_limited": "This page replays at most {limit} cases: {total} match, and the {limit} with the lowest "
                          "numbers were replayed.",
        "replay_counted": "{n} cases replayed.",
        "replay_whole": "To replay the whole register (and write the report), run on the command line:",
        "replay_old_kb": "This server holds only the knowledge base it serves, so a change can be put only to "
                         "“a knowledge base other than the one recorded”, not to a rule. On the command line, "
                         "--old-kb with the folder of the knowledge base the decisions were made under puts each "
                         "change to the rules, documents and facts responsible.",
        "replay_xlsx": "Download the replay (Excel)",
        "replay_open": "Cases whose outcome changes",
    },
}


def edit_note(note: str, version: int, lang: str) -> str:
    """An edit's note as the page shows it: the note the register writes for a case's first
    version (``added``) in the page's language, any other note as it was typed."""
    if version == 1 and note == "added":
        return WORDS[lang]["edit_added"]
    return note
