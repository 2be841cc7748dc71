"""Small internal helpers (optional imports, progress bars)."""
