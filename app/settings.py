"""The one settings class: from the environment and an optional `.env` file.

A bad value stops the process at start with a message that names the setting.
"""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
DATABASE_SCHEMES = ("sqlite://", "postgresql://", "postgresql+psycopg://")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{ROOT / 'data' / 'facts.sqlite3'}",
        description="SQLAlchemy URL: an SQLite file by default; postgresql+psycopg://... in production.",
    )
    read_database_url: str | None = Field(
        default=None,
        description="A read replica for the API's reads; the loader always writes to DATABASE_URL.",
    )
    seed_dir: Path = Field(default=ROOT / "seed", description="Folder holding the curated seed.")
    db_timeout_seconds: float = Field(
        default=5.0, gt=0, le=120, description="Connect, pool and statement timeout."
    )
    pool_size: int = Field(default=5, ge=1, le=100)
    max_overflow: int = Field(default=5, ge=0, le=100)
    cors_origins: list[str] = Field(default=["*"], min_length=1)
    log_format: Literal["text", "json"] = "text"
    access_log: bool = True
    cache_bytes: int = Field(
        default=64 * 2**20, ge=0, le=2**34, description="Response cache budget; 0 turns it off."
    )
    rate_limit_per_minute: int = Field(
        default=0, ge=0, le=10**6, description="Requests per client address a minute; 0 is off."
    )
    version_poll_seconds: float = Field(
        default=0.5,
        gt=0,
        le=60,
        description="How often a worker checks for a newly loaded dataset.",
    )

    @field_validator("database_url", "read_database_url")
    @classmethod
    def known_database(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(DATABASE_SCHEMES):
            raise ValueError(f"must start with one of {', '.join(DATABASE_SCHEMES)}")
        if url is not None and url.startswith("postgresql://"):
            return "postgresql+psycopg://" + url.removeprefix("postgresql://")
        return url


class ConfigurationError(SystemExit):
    """Raised at start: the message names each bad setting (as its environment variable)."""


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        lines = [
            f"  {'.'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        ]
        raise ConfigurationError("configuration error:\n" + "\n".join(lines)) from None


@lru_cache
def get_settings() -> Settings:
    return load_settings()
