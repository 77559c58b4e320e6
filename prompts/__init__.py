"""Reviewed prompt files (one YAML per prompt) and notices, shipped inside the wheel; see bot/prompts.py."""
