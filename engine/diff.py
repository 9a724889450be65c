"""What an edit changes: a set of profiles evaluated under two versions of a knowledge base.

:func:`diff` evaluates each profile under the old and the new knowledge base and reports every
profile whose conclusions, benefits, amounts, Article 14 outcomes or statuses differ, old and
new side by side, then counts per benefit: how many enterprises gain it, lose it, or see its
amount change. This is how a rule author sees the effect of an edit before merging.
"""

from __future__ import annotations

from pathlib import Path

from .errors import PolicyKBError, ProfileError
from .evaluation import assess
from .kb import KnowledgeBase
from .yamlio import load_file

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


def _outcome(kb: KnowledgeBase, data, source: str) -> dict:
    try:
        result = assess(data, kb=kb, source=source).result
    except PolicyKBError as exc:
        return {"error": str(exc)}
    return {
        "conclusions": result["conclusions"],
        "benefits": {b["id"]: b["amount"] for b in result["benefits"]},
        "superseded": {s["id"]: s["by"] for s in result["superseded"]},
        "status": result["status"],
    }


def diff(old: KnowledgeBase, new: KnowledgeBase, paths: list[str | Path]) -> dict:
    """Compare the evaluation of every profile under ``old`` and ``new``."""
    changed, errors = [], []
    counts: dict[str, dict[str, int]] = {}
    files = profile_files(paths)
    for path in files:
        data = load_file(path, ProfileError)
        if not isinstance(data, dict):
            errors.append({"profile": str(path), "error": "not a mapping of facts"})
            continue
        before, after = _outcome(old, data, str(path)), _outcome(new, data, str(path))
        changes = _changes(before, after)
        if changes:
            changed.append({"profile": str(path), "enterprise": data.get("name"), "changes": changes})
            for change in changes:
                if change["what"] == "benefit":
                    tally = counts.setdefault(change["id"], {"gained": 0, "lost": 0, "amount_changed": 0})
                    tally[change["kind"]] += 1
    return {"old": str(old.root), "new": str(new.root), "old_version": old.version, "new_version": new.version,
            "profiles": len(files), "changed": changed, "per_benefit": dict(sorted(counts.items())), "errors": errors}


def _changes(before: dict, after: dict) -> list[dict]:
    if "error" in before or "error" in after:
        if before.get("error") == after.get("error"):
            return []
        return [{"what": "error", "old": before.get("error"), "new": after.get("error")}]
    changes = []
    for cid in sorted(set(before["conclusions"]) ^ set(after["conclusions"])):
        changes.append({"what": "conclusion", "id": cid, "old": cid in before["conclusions"],
                        "new": cid in after["conclusions"]})
    for bid in sorted(set(before["benefits"]) | set(after["benefits"])):
        old, new = before["benefits"].get(bid, "absent"), after["benefits"].get(bid, "absent")
        if old == new:
            continue
        kind = "gained" if old == "absent" else "lost" if new == "absent" else "amount_changed"
        changes.append({"what": "benefit", "id": bid, "kind": kind,
                        "old": None if old == "absent" else old, "new": None if new == "absent" else new,
                        "old_granted": old != "absent", "new_granted": new != "absent"})
    for bid in sorted(set(before["superseded"]) | set(after["superseded"])):
        if before["superseded"].get(bid) != after["superseded"].get(bid):
            changes.append({"what": "superseded", "id": bid, "old": before["superseded"].get(bid),
                            "new": after["superseded"].get(bid)})
    reported = {c["id"] for c in changes if "id" in c}
    for cid in sorted(set(before["status"]) | set(after["status"])):
        old, new = before["status"].get(cid), after["status"].get(cid)
        if old != new and cid not in reported:
            changes.append({"what": "status", "id": cid, "old": old, "new": new})
    return changes


def render_text(report: dict, lang: str = "zh") -> str:
    from .values import format_money

    def amount(value) -> str:
        if value is None:
            return "—"
        if value["min"] == value["max"]:
            return format_money(value["max"], lang)
        low = format_money(value["min"], lang) if value["min"] is not None else "0"
        return f"{low}–{format_money(value['max'], lang)}"

    lines = [f"old: {report['old']} ({report['old_version']})", f"new: {report['new']} ({report['new_version']})", ""]
    for item in report["changed"]:
        lines.append(f"{item['profile']}" + (f" ({item['enterprise']})" if item["enterprise"] else ""))
        for change in item["changes"]:
            what = change["what"]
            if what == "benefit":
                old = amount(change["old"]) if change["old_granted"] else "not granted"
                new = amount(change["new"]) if change["new_granted"] else "not granted"
                lines.append(f"  benefit {change['id']:<28} {old:>24}  →  {new}")
            elif what == "conclusion":
                lines.append(f"  conclusion {change['id']:<25} {'holds' if change['old'] else 'no':>24}  →  "
                             f"{'holds' if change['new'] else 'no'}")
            elif what == "superseded":
                show = (lambda by: f"by {by['policy']} {format_money(by['amount'], lang)}" if by else "not superseded")
                lines.append(f"  superseded {change['id']:<25} {show(change['old']):>24}  →  {show(change['new'])}")
            elif what == "status":
                lines.append(f"  status {change['id']:<29} {change['old']:>24}  →  {change['new']}")
            else:
                lines.append(f"  error: {change['old']}  →  {change['new']}")
        lines.append("")
    lines.append("per benefit (enterprises that gain / lose it / see its amount change):")
    for bid, tally in report["per_benefit"].items():
        lines.append(f"  {bid:<30} +{tally['gained']}  -{tally['lost']}  ~{tally['amount_changed']}")
    if not report["per_benefit"]:
        lines.append("  (none)")
    for error in report["errors"]:
        lines.append(f"skipped {error['profile']}: {error['error']}")
    lines.append(f"{len(report['changed'])} of {report['profiles']} profiles differ")
    return "\n".join(lines) + "\n"
