"""What holds between documents, from ``knowledge_base.yaml``: benefits not stacked
(``overlaps``) and newer-prevails relations."""

from __future__ import annotations

from engine.errors import nearest
from engine.loading.reader import Reader
from engine.loading.rules import cite, quote_of
from engine.model import KnowledgeBase, NewerPrevails, Overlap

#: The index of a knowledge base of several documents: the documents and these relations.
INDEX_FILE = "knowledge_base.yaml"

def read_relations(kb: KnowledgeBase, index, file) -> None:
    """The index's ``overlaps`` and ``newer_prevails``: what holds between documents."""
    top = Reader(index, INDEX_FILE, file)
    for item in top.list("overlaps"):
        reader = Reader(item, "an overlap", file)
        reader.keys(("id", "benefits", "why", "cites"), ("notes",))
        benefits = tuple(str(b) for b in reader.list("benefits"))
        for bid in benefits:
            if bid not in kb.benefits:
                raise reader.error(f"'{bid}' is not a benefit", "benefits", suggestion=nearest(bid, kb.benefits))
        owners = [kb.conclusions[b].document for b in benefits]
        if len(benefits) != 2 or owners[0] == owners[1]:
            raise reader.error("an overlap names two benefits of different documents", "benefits")
        why = Reader(reader.data["why"], "'why' of an overlap", file, reader.data.line_of("why"))
        why.keys(("zh", "en"))
        cites = [cite(reader, kb, "cites", None, ref) for ref in reader.list("cites")]
        if not cites:
            raise reader.error("an overlap cites where not stacking comes from, e.g. [\"14\"]", "cites")
        kb.overlaps.append(Overlap(reader.text("id"), benefits, {"zh": why.text("zh"), "en": why.text("en")},
                                   reader.text("notes", "", required=False), reader.where(), cites))
    for item in top.list("newer_prevails"):
        reader = Reader(item, "a newer-prevails relation", file)
        reader.keys(("id", "newer", "older", "cites", "quote"), ("conflicts", "notes"))
        newer, older = reader.text("newer"), reader.text("older")
        for key, value in (("newer", newer), ("older", older)):
            if value not in kb.documents:
                raise reader.error(f"'{value}' is not a document", key, suggestion=nearest(value, kb.documents))
        dates = kb.documents[newer].effective_date, kb.documents[older].effective_date
        if None in dates:
            unknown = newer if dates[0] is None else older
            raise reader.error(f"'{unknown}' has no known effective_date: which document is newer cannot be "
                               "settled, so neither can prevail", "newer")
        if dates[0] <= dates[1]:
            raise reader.error(f"'{newer}' is not newer than '{older}'", "newer")
        cites = cite(reader, kb, "cites", None)
        conflicts = []
        for pair in reader.list("conflicts"):
            if not isinstance(pair, list) or len(pair) != 2 or any(b not in kb.benefits for b in pair):
                raise reader.error("a conflict is [benefit of the newer document, benefit of the older]", "conflicts")
            if (kb.conclusions[pair[0]].document, kb.conclusions[pair[1]].document) != (newer, older):
                raise reader.error(f"conflict {pair}: the first benefit belongs to {newer}, the second to {older}",
                                   "conflicts")
            conflicts.append((str(pair[0]), str(pair[1])))
        kb.newer_prevails.append(NewerPrevails(reader.text("id"), newer, older, cites, quote_of(reader, kb, cites),
                                               conflicts, reader.text("notes", "", required=False), reader.where()))
