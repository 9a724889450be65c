"""Inferring: forward chaining (durable_rules behind one module), derivations, amounts, Article 14 and the JSON result."""
