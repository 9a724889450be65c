"""Explaining: why a conclusion holds, why not and what would change it, in words."""
