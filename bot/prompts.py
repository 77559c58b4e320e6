"""Prompts are reviewed YAML files in the ``prompts`` package (shipped in the wheel); this loads and
validates them. ``prompts/notices/`` holds reviewed wording the bot sends as is (no model involved)."""

from __future__ import annotations

import importlib.resources
import string
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, ConfigDict, Field, model_validator

PROMPTS_DIR = Path(str(importlib.resources.files("prompts")))
NOTICES_DIR = PROMPTS_DIR / "notices"


class _Template(BaseModel):
    """A reviewed file whose placeholders must be exactly its declared variables."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    version: int = Field(ge=1)
    description: str
    variables: list[str]

    def texts(self) -> tuple[str, ...]:
        raise NotImplementedError

    @model_validator(mode="after")
    def _placeholders_match(self) -> _Template:
        used = {field for text in self.texts() for _, field, _, _ in string.Formatter().parse(text) if field}
        if used != set(self.variables):
            kind = type(self).__name__.lower()
            raise ValueError(f"{kind} {self.name}: placeholders {sorted(used)} != variables {sorted(self.variables)}")
        return self


class Prompt(_Template):
    system: str = Field(min_length=20)
    user: str = Field(min_length=5)

    def texts(self) -> tuple[str, ...]:
        return (self.system, self.user)

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


class Notice(_Template):
    """Reviewed wording sent as is: a reply and, where someone must be told, a message to them."""

    reply: str = Field(min_length=20)
    officer_dm: str = ""

    def texts(self) -> tuple[str, ...]:
        return (self.reply, self.officer_dm)

    def render(self, **values: str) -> tuple[str, str]:
        missing = set(self.variables) - set(values)
        if missing:
            raise KeyError(f"notice {self.name} needs {sorted(missing)}")
        return self.reply.format(**values), self.officer_dm.format(**values)


@cache
def load_notice(name: str, folder: Path = NOTICES_DIR) -> Notice:
    return Notice.model_validate(yaml.safe_load((folder / f"{name}.yaml").read_text(encoding="utf-8")))


def all_notices(folder: Path = NOTICES_DIR) -> list[Notice]:
    return [load_notice(path.stem, folder) for path in sorted(folder.glob("*.yaml"))]
