"""Prompts are reviewed YAML files in ``prompts/``; this loads and validates them."""

from __future__ import annotations

import string
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, ConfigDict, Field, model_validator

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"


class Prompt(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    version: int = Field(ge=1)
    description: str
    variables: list[str]
    system: str = Field(min_length=20)
    user: str = Field(min_length=5)

    @model_validator(mode="after")
    def _placeholders_match(self) -> Prompt:
        used = {
            field for text in (self.system, self.user) for _, field, _, _ in string.Formatter().parse(text) if field
        }
        if used != set(self.variables):
            raise ValueError(f"prompt {self.name}: placeholders {sorted(used)} != variables {sorted(self.variables)}")
        return self

    def render(self, **values: Any) -> list[BaseMessage]:
        missing = set(self.variables) - set(values)
        if missing:
            raise KeyError(f"prompt {self.name} needs {sorted(missing)}")
        return [SystemMessage(self.system.format(**values)), HumanMessage(self.user.format(**values))]


@cache
def load_prompt(name: str, folder: Path = PROMPTS_DIR) -> Prompt:
    path = folder / f"{name}.yaml"
    return Prompt.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def all_prompts(folder: Path = PROMPTS_DIR) -> list[Prompt]:
    return [load_prompt(path.stem, folder) for path in sorted(folder.glob("*.yaml"))]
