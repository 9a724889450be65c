"""Loading: the knowledge base, profiles and values from YAML, JSON and text, checked, every problem located."""
