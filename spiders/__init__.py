"""Spiders that walk disclosure columns, and portal profiles (data, not code, where possible)."""
