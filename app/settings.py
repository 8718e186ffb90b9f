"""The one settings class: from the environment and an optional `.env` file."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{ROOT / 'data' / 'facts.sqlite3'}",
        description="SQLAlchemy URL: an SQLite file by default, postgresql+psycopg://... in production.",
    )
    seed_dir: Path = Field(default=ROOT / "seed", description="Folder holding the curated seed.")
    db_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    pool_size: int = Field(default=5, ge=1, le=100)
    cors_origins: list[str] = ["*"]
    log_format: str = Field(default="text", pattern="^(text|json)$")


@lru_cache
def get_settings() -> Settings:
    return Settings()
