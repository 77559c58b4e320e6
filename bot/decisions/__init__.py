"""The shared decision record: append-only history, current state derived from it."""
