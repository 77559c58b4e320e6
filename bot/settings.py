"""The one place that reads the environment.

Every other module receives a :class:`Settings` (or values taken from it) as an argument.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, Literal, cast

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from knowledge.authority import DEFAULT_RULES, TIERS, AuthorityPolicy, Tier, tier_name
from knowledge.visibility import Visibility

Fusion = Literal["rrf", "convex"]

LIBRARY_DIR = Path(__file__).resolve().parent.parent / "knowledge" / "library"


class Settings(BaseSettings):
    """CityBridge configuration, read from ``CITYBRIDGE_*`` variables (and a ``.env`` file)."""

    model_config = SettingsConfigDict(
        env_prefix="CITYBRIDGE_", env_file=".env", extra="ignore", frozen=True, populate_by_name=True
    )

    home: Path = Field(
        default=Path.home() / ".citybridge",
        description="Folder holding the index and the database.",
    )
    library_dir: Path = Field(
        default=LIBRARY_DIR, description="The bundled sample knowledge base indexed by `chat` on first run."
    )
    embedding_model: str = Field(
        default="",
        description="A sentence-transformers model directory; empty means the bundled all-MiniLM-L6-v2.",
    )
    embedding_batch_size: int = Field(default=16, ge=1, le=1024, description="16 pads least on CPU.")
    embedding_threads: int = Field(default=0, ge=0, description="Torch threads; 0 keeps torch's default.")
    chunk_chars: int = Field(default=1100, ge=200, le=8000, description="Target chunk size in characters.")
    max_file_mb: float = Field(default=25.0, gt=0, description="Files larger than this are skipped.")
    fusion: Fusion = "rrf"
    rrf_k: int = Field(default=60, ge=1)
    convex_alpha: float = Field(default=0.5, ge=0.0, le=1.0, description="Dense weight in convex fusion.")
    candidates: int = Field(default=50, ge=10, le=1000, description="Candidates per retriever.")
    duplicate_jaccard: float = Field(default=0.8, gt=0.0, le=1.0)
    answer_threshold: float = Field(
        default=0.40,
        ge=0.0,
        le=1.0,
        description="Minimum cosine similarity of the best passage for `ask` to answer (bench calibrate).",
    )
    authority_order: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: [str(t) for t in TIERS],
        description="Authority tiers, most authoritative first (comma-separated). A city that ranks its own "
        "handbook first for its own rules sets city,regulation,guidance,case-study,blog.",
    )
    authority_rules: dict[str, str] = Field(
        default_factory=lambda: {p: str(t) for p, t in DEFAULT_RULES.items()},
        description="Path patterns (fnmatch, on the document id or source path) mapped to a tier, as JSON; "
        "front matter `authority:` or a MANIFEST.csv `authority` column wins over these.",
    )
    default_visibility: str = Field(
        default="internal",
        description="Who may see an ingested file that does not say (front matter `visibility:`, a MANIFEST.csv "
        "`visibility` column, `ingest --visibility` or a folder rule): public, internal or restricted:GROUP.",
    )
    folder_visibility: dict[str, str] = Field(
        default_factory=dict,
        description="Per-folder defaults as JSON: fnmatch pattern on the file path → visibility, first match "
        'wins, e.g. {"*/public-notices/*": "public", "*/evaluation/*": "restricted:S0EVAL"}.',
    )
    decision_visibility: str = Field(
        default="internal",
        description="Visibility of a new decision unless its author chooses (public pages show public only).",
    )
    slack_home_teams: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Team (workspace) and enterprise (grid) ids whose members are city staff, comma-separated. "
        "Empty: the workspace the app is installed in.",
    )
    audience_cache_seconds: float = Field(
        default=300.0, ge=0, description="How long a users.info / conversations.info answer is trusted."
    )
    blackout_similarity: float = Field(
        default=0.6,
        ge=0.0,
        le=1.0,
        description="Cosine similarity to an open solicitation's title, keywords or documents at which an "
        "outside question counts as about it (keywords and aliases always do).",
    )
    audit_retention_days: int = Field(
        default=2555, ge=1, description="Audit records older than this are removed (7 years by default)."
    )
    log_level: str = "WARNING"

    llm: str = Field(
        default="",
        description="LLM mode: provider:model for LangChain's init_chat_model (openai:gpt-4o-mini, "
        "anthropic:claude-sonnet-4-5, ollama:llama3.1). Empty means grounded mode.",
    )
    llm_base_url: str = Field(default="", description="Base URL of an OpenAI-compatible or Ollama server.")
    llm_api_key: SecretStr | None = Field(default=None, description="API key for the LLM provider.")
    llm_timeout: float = Field(default=30.0, gt=0, description="Seconds before falling back to grounded mode.")
    llm_redact: bool = Field(default=True, description="Redact resident personal data before it leaves.")

    database_url: str = Field(
        default="",
        description="sqlite:///PATH or postgresql://USER:PASS@HOST/DB; empty means SQLite in the home folder.",
    )
    database_retry_seconds: float = Field(
        default=10.0,
        ge=0,
        description="How long a decision write keeps retrying while the database is unreachable before "
        "the user is told that nothing was saved.",
    )
    public_url: str = Field(
        default="",
        description="Where `citybridge serve` is reachable (https://citybridge.example.gov); links decision "
        "cards to their public /decisions/ID page. Empty: no links.",
    )
    decisions_channel: str = Field(
        default="", description="Slack channel ID where every new decision card is also posted; empty: none."
    )
    decision_editors: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Slack user IDs (comma-separated) allowed to accept, reject or supersede decisions. "
        "Empty: anyone in the workspace.",
    )

    # Slack uses its standard variable names (no CITYBRIDGE_ prefix).
    slack_bot_token: SecretStr | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(
        default="",
        validation_alias="SLACK_API_URL",
        description="Web API base URL (GovSlack or a test fake); empty means Slack's.",
    )
    slash_command: str = Field(default="/citybridge", description="The slash command the app answers.")
    max_upload_mb: float = Field(default=10.0, gt=0, description="Largest file accepted from Slack.")

    @field_validator("authority_order", mode="before")
    @classmethod
    def _split_tiers(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("authority_order")
    @classmethod
    def _known_tiers(cls, value: list[str]) -> list[str]:
        unknown = [tier for tier in value if tier_name(tier) is None]
        if unknown:
            raise ValueError(f"unknown authority tiers {unknown}; use {', '.join(TIERS)}")
        return [str(tier_name(tier)) for tier in value]

    @field_validator("authority_rules")
    @classmethod
    def _known_rule_tiers(cls, value: dict[str, str]) -> dict[str, str]:
        bad = {pattern: tier for pattern, tier in value.items() if tier_name(tier) is None}
        if bad:
            raise ValueError(f"unknown authority tiers in rules {bad}; use {', '.join(TIERS)}")
        return {pattern.lower(): str(tier_name(tier)) for pattern, tier in value.items()}

    def authority_policy(self) -> AuthorityPolicy:
        """The tier order and path rules, already checked and normalised by the validators above."""
        return AuthorityPolicy(
            order=tuple(cast(Tier, tier) for tier in self.authority_order),
            rules={pattern: cast(Tier, tier) for pattern, tier in self.authority_rules.items()},
        )

    @field_validator("default_visibility", "decision_visibility")
    @classmethod
    def _visibility(cls, value: str) -> str:
        return str(Visibility.parse(value))

    @field_validator("folder_visibility")
    @classmethod
    def _folder_visibility(cls, value: dict[str, str]) -> dict[str, str]:
        return {pattern: str(Visibility.parse(v)) for pattern, v in value.items()}

    @field_validator("decision_editors", "slack_home_teams", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    def may_change_decisions(self, user_id: str) -> bool:
        return not self.decision_editors or user_id in self.decision_editors

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'citybridge.sqlite3'}"

    def with_home(self, home: Path | None) -> Settings:
        """A copy pointing at another home folder (the global ``--home`` option)."""
        if home is None:
            return self
        return self.model_copy(update={"home": home.expanduser().resolve()})


@cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
