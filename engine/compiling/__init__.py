"""Compiling: the condition language, and rules compiled to three-valued checks and to durable_rules rulesets."""
