"""What an edit changes: a set of profiles evaluated under two versions of a knowledge base.

:func:`diff` evaluates each profile under the old and the new knowledge base and reports every
profile whose conclusions, benefits, amounts, Article 14 outcomes or statuses differ, old and
new side by side — a benefit's status (granted, denied, undetermined), amount and the fact it
asks next, and the unknown facts that matter — then counts per benefit: how many enterprises
gain it, lose it (to denied or to undetermined), see its amount change, or see its status
change. This is how a rule author sees the effect of an edit before merging. A fact only one side
knows (the edit added or removed it) is left out on the other side — the profile is evaluated
there as if it did not say it — and the report names it, instead of failing the profile.
"""

from __future__ import annotations

from pathlib import Path

from engine.errors import PolicyKBError, ProfileError
from engine.inferring.evaluation import assess
from engine.model import KnowledgeBase
from engine.loading.yamlio import load_file

PROFILE_SUFFIXES = (".yaml", ".yml", ".json")


def profile_files(paths: list[str | Path]) -> list[Path]:
    """The profile files named, folders expanded (sorted, recursively)."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in PROFILE_SUFFIXES))
        elif path.is_file():
            found.append(path)
        else:
            raise ProfileError("no such file or folder", file=str(path))
    return found


def _unknown_to(kb: KnowledgeBase, data: dict) -> list[str]:
    """The profile's keys that name no fact of ``kb`` (by id or label), in the profile's order."""
    from engine.loading.profile import fact_id
    return [key for key in data if key not in ("id",) and fact_id(kb, key) is None]


def _outcome(kb: KnowledgeBase, data, source: str) -> dict:
    # A fact one knowledge base does not know (one side added it) is left out there: the profile
    # is evaluated without it, as an enterprise that did not say it, and the report names it.
    unknown = _unknown_to(kb, data)
    if unknown:
        data = {key: value for key, value in data.items() if key not in unknown}
    try:
        result = assess(data, kb=kb, source=source).result
    except PolicyKBError as exc:
        return {"error": str(exc)}
    return {
        "conclusions": result["conclusions"],
        "benefits": {b["id"]: b["amount"] for b in result["benefits"]},
        "benefit_ids": list(kb.benefits),
        "superseded": {s["id"]: s["by"] for s in result["superseded"]},
        "status": result["status"],
        "missing": result["missing"],
        "next_fact": result["next_fact"],
    }


def diff(old: KnowledgeBase, new: KnowledgeBase, paths: list[str | Path]) -> dict:
    """Compare the evaluation of every profile under ``old`` and ``new``.

    Each changed profile lists its ``changes`` (benefits with old and new status and amount,
    conclusions, Article 14 outcomes, other statuses) and, when the unknown facts that matter
    differ, ``missing`` (old, new, added, removed). ``labels`` gives every id mentioned its
    Chinese and English label; ``per_benefit`` counts, per benefit, the enterprises that gain
    it, lose it (``lost_undetermined`` of them to undetermined, the rest to denied), see its
    amount change, or see its status change while it is granted under neither.

    Raises
    ------
    ProfileError
        When a path names no file or folder, or a profile file does not read.
    """
    changed, errors = [], []
    counts: dict[str, dict[str, int]] = {}
    files = profile_files(paths)
    for path in files:
        data = load_file(path, ProfileError)
        if not isinstance(data, dict):
            errors.append({"profile": str(path), "error": "not a mapping of facts"})
            continue
        before, after = _outcome(old, data, str(path)), _outcome(new, data, str(path))
        changes, missing = _changes(before, after), _missing_change(before, after)
        unknown = {side: names for side, names in (("old", _unknown_to(old, data)), ("new", _unknown_to(new, data)))
                   if names}
        if changes or missing or unknown:
            item = {"profile": str(path), "enterprise": data.get("name"), "changes": changes}
            if missing:
                item["missing"] = missing
            if unknown:
                item["unknown_facts"] = unknown   # left out where that side does not know them
            changed.append(item)
            for change in changes:
                if change["what"] == "benefit":
                    _tally(counts.setdefault(change["id"], dict.fromkeys(TALLIES, 0)), change)
    return {"old": str(old.root), "new": str(new.root), "old_version": old.version, "new_version": new.version,
            "profiles": len(files), "changed": changed, "per_benefit": dict(sorted(counts.items())),
            "labels": _labels(old, new, changed), "errors": errors}


TALLIES = ("gained", "lost", "lost_undetermined", "amount_changed", "status_changed")


def _tally(tally: dict[str, int], change: dict) -> None:
    tally[change["kind"]] += 1
    if change["kind"] == "lost" and change["new_status"] == "undetermined":
        tally["lost_undetermined"] += 1


def _changes(before: dict, after: dict) -> list[dict]:
    if "error" in before or "error" in after:
        if before.get("error") == after.get("error"):
            return []
        return [{"what": "error", "old": before.get("error"), "new": after.get("error")}]
    changes = []
    for cid in sorted(set(before["conclusions"]) ^ set(after["conclusions"])):
        changes.append({"what": "conclusion", "id": cid, "old": cid in before["conclusions"],
                        "new": cid in after["conclusions"], "old_status": before["status"].get(cid),
                        "new_status": after["status"].get(cid)})
    benefit_ids = sorted(set(before["benefit_ids"]) | set(after["benefit_ids"]))
    changes += [c for c in (_benefit_change(bid, before, after) for bid in benefit_ids) if c]
    for bid in sorted(set(before["superseded"]) | set(after["superseded"])):
        if before["superseded"].get(bid) != after["superseded"].get(bid):
            changes.append({"what": "superseded", "id": bid, "old": before["superseded"].get(bid),
                            "new": after["superseded"].get(bid)})
    reported = {c["id"] for c in changes if "id" in c} | set(benefit_ids)
    for cid in sorted(set(before["status"]) | set(after["status"])):
        old, new = before["status"].get(cid), after["status"].get(cid)
        if old != new and cid not in reported:
            changes.append({"what": "status", "id": cid, "old": old, "new": new})
    return changes


def _benefit_change(bid: str, before: dict, after: dict) -> dict | None:
    """One benefit's change: its status (granted, denied, undetermined — ``None`` where the
    knowledge base has no such benefit), its amount, and the fact each side asks next."""
    old_status, new_status = before["status"].get(bid), after["status"].get(bid)
    old, new = before["benefits"].get(bid), after["benefits"].get(bid)
    old_granted, new_granted = bid in before["benefits"], bid in after["benefits"]
    if (old_status, old, old_granted) == (new_status, new, new_granted):
        return None
    kind = ("amount_changed" if old_granted and new_granted else "gained" if new_granted
            else "lost" if old_granted else "status_changed")
    return {"what": "benefit", "id": bid, "kind": kind, "old": old, "new": new,
            "old_granted": old_granted, "new_granted": new_granted,
            "old_status": old_status, "new_status": new_status,
            "old_next_fact": before["next_fact"].get(bid), "new_next_fact": after["next_fact"].get(bid)}


def _missing_change(before: dict, after: dict) -> dict | None:
    """The unknown facts that matter, old and new, when they differ (their order aside)."""
    if "error" in before or "error" in after or set(before["missing"]) == set(after["missing"]):
        return None
    return {"old": before["missing"], "new": after["missing"],
            "added": [f for f in after["missing"] if f not in before["missing"]],
            "removed": [f for f in before["missing"] if f not in after["missing"]]}


def _labels(old: KnowledgeBase, new: KnowledgeBase, changed: list[dict]) -> dict[str, dict[str, str]]:
    """Chinese and English labels of every conclusion, benefit and fact the changes name (the
    new knowledge base's wording first)."""
    ids = {c["id"] for item in changed for c in item["changes"] if "id" in c}
    ids |= {f for item in changed for key in ("old", "new") for f in item.get("missing", {}).get(key, [])}
    ids |= {c.get(k) for item in changed for c in item["changes"] for k in ("old_next_fact", "new_next_fact")}
    labels = {}
    for ident in sorted(i for i in ids if i):
        for kb in (new, old):
            found = kb.conclusions.get(ident) or kb.facts.get(ident)
            if found is not None:
                labels[ident] = {"zh": found.zh, "en": found.en}
                break
    return labels


STATUS_TEXT = {"granted": "granted", "denied": "denied", "undetermined": "undetermined", None: "absent"}


def render_text(report: dict, lang: str = "zh") -> str:
    """The report for a person: per changed profile, one line per change, labels with ids."""
    from engine.loading.values import format_money

    def name(ident) -> str:
        label = report.get("labels", {}).get(ident, {}).get(lang)
        return f"{label} ({ident})" if label else str(ident)

    def amount(value) -> str:
        if value is None:
            return ""
        if value["min"] == value["max"]:
            return " " + format_money(value["max"], lang)
        low = format_money(value["min"], lang) if value["min"] is not None else "0"
        return f" {low}–{format_money(value['max'], lang)}"

    def benefit_side(change, side) -> str:
        status = change[f"{side}_status"]
        text = STATUS_TEXT[status] + amount(change[side])
        asks = change.get(f"{side}_next_fact")
        return text + (f" (asks for {name(asks)})" if status == "undetermined" and asks else "")

    lines = [f"old: {report['old']} ({report['old_version']})", f"new: {report['new']} ({report['new_version']})", ""]
    for item in report["changed"]:
        lines.append(f"{item['profile']}" + (f" ({item['enterprise']})" if item["enterprise"] else ""))
        for change in item["changes"]:
            what = change["what"]
            if what == "benefit":
                lines.append(f"  benefit {name(change['id'])}: {benefit_side(change, 'old')}  →  "
                             f"{benefit_side(change, 'new')}")
            elif what == "conclusion":
                lines.append(f"  conclusion {name(change['id'])}: {STATUS_TEXT[change['old_status']]}  →  "
                             f"{STATUS_TEXT[change['new_status']]}")
            elif what == "superseded":
                show = (lambda by: f"by {by['policy']} {format_money(by['amount'], lang)}" if by else "not superseded")
                lines.append(f"  superseded {name(change['id'])}: {show(change['old'])}  →  {show(change['new'])}")
            elif what == "status":
                lines.append(f"  status {name(change['id'])}: {STATUS_TEXT[change['old']]}  →  "
                             f"{STATUS_TEXT[change['new']]}")
            else:
                lines.append(f"  error: {change['old'] or 'evaluates'}  →  {change['new'] or 'evaluates'}")
        for side, names in item.get("unknown_facts", {}).items():
            lines.append(f"  not known to the {side} knowledge base, left out there: {', '.join(names)}")
        missing = item.get("missing")
        if missing:
            parts = [f"+ {name(f)}" for f in missing["added"]] + [f"− {name(f)}" for f in missing["removed"]]
            lines.append(f"  missing facts: {', '.join(parts)}")
        lines.append("")
    lines.append("per benefit (enterprises that gain it +, lose it − (of them now undetermined ?), see its amount "
                 "change ~, or its status change while granted under neither ±):")
    for bid, tally in report["per_benefit"].items():
        lines.append(f"  {name(bid)}: +{tally['gained']}  −{tally['lost']} (?{tally['lost_undetermined']})  "
                     f"~{tally['amount_changed']}  ±{tally['status_changed']}")
    if not report["per_benefit"]:
        lines.append("  (none)")
    for error in report["errors"]:
        lines.append(f"skipped {error['profile']}: {error['error']}")
    lines.append(f"{len(report['changed'])} of {report['profiles']} profiles differ")
    return "\n".join(lines) + "\n"
