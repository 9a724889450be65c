"""Generated enterprise profiles for benchmarks: random but reproducible from a seed.

Each fact of the knowledge base is left out (unknown) with some probability, else given a value
of its type, biased so that every rule fires for a fair share of profiles.
"""

from __future__ import annotations

import datetime as dt
import random

from engine.model import KnowledgeBase

_MONEY = [0, 1, 99_999_999, 100_000_000, 120_000_000, 5_000_000, 50_000_000, 200_000_000,
          18_000_000, 25_000_000, 3_000_000_000]


def generate(kb: KnowledgeBase, index: int, seed: int = 2021, unknown: float = 0.15) -> dict:
    """Profile number ``index`` of the sequence for ``seed`` (independent of other indices)."""
    rng = random.Random(f"{seed}:{index}")
    profile: dict = {"name": f"企业{index:06d}"}
    for fact in kb.facts.values():
        if fact.id == "name" or rng.random() < unknown:
            continue
        profile[fact.id] = _value(kb, fact, rng)
    return profile


def _value(kb, fact, rng):
    if fact.type == "bool":
        return rng.random() < 0.7
    if fact.type == "enum":
        return rng.choice(list(fact.values))
    if fact.type == "list":
        return rng.sample(list(fact.values), rng.randint(0, 3))
    if fact.type == "money":
        return rng.choice(_MONEY) if rng.random() < 0.6 else rng.randint(0, 300_000_000)
    if fact.type == "number":
        return rng.choice([0, 500, 1000, 4000, "1234.5", 20000])
    if fact.type == "date":
        return dt.date(2020, 6, 1) + dt.timedelta(days=rng.randint(0, 1600))
    if fact.type == "records":
        if rng.random() < 0.7:
            return []
        return [{"benefit": rng.choice(list(kb.benefits)), "policy": "其他区级政策",
                 "amount": rng.choice([1_000_000, 6_000_000, 20_000_000, 30_000_000])}]
    return "text"
