"""Settings from the environment and `.env`, validated once at start (pydantic-settings).

Every setting is listed in the README. A bad value stops the process with one line naming the
variable and what is wrong (see ``load_settings``).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The address ``bobbin web`` listens on unless told otherwise (``--host``).
LOCAL_WEB_HOST = "127.0.0.1"


class SettingsError(SystemExit):
    """Raised (and shown as one line) when a setting is missing or malformed."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Literal["development", "production"] = Field("development", alias="BOBBIN_ENV")
    home: Path = Field(Path(".bobbin"), alias="BOBBIN_HOME")
    database_url: str | None = Field(None, alias="DATABASE_URL")
    redis_url: str | None = Field(None, alias="REDIS_URL")
    # Comma-separated Fernet keys; the first encrypts, all decrypt (rotation).
    secret_keys: str | None = Field(None, alias="BOBBIN_SECRET_KEYS")
    smtp_url: str | None = Field(None, alias="SMTP_URL")
    mail_from: str = Field("Bobbin <bobbin@localhost>", alias="MAIL_FROM")
    flower_user: str = Field("admin", alias="FLOWER_USER")
    flower_password: str | None = Field(None, alias="FLOWER_PASSWORD")
    flower_port: int = Field(5555, alias="FLOWER_PORT", ge=1, le=65535)
    sandbox_port: int = Field(8801, alias="SANDBOX_PORT", ge=1, le=65535)
    joor_sandbox_port: int = Field(8802, alias="SANDBOX_JOOR_PORT", ge=1, le=65535)
    loop_sandbox_port: int = Field(8803, alias="SANDBOX_LOOP_PORT", ge=1, le=65535)
    ebay_sandbox_port: int = Field(8804, alias="SANDBOX_EBAY_PORT", ge=1, le=65535)
    web_port: int = Field(8800, alias="WEB_PORT", ge=1, le=65535)
    log_format: Literal["auto", "json", "console"] = Field("auto", alias="LOG_FORMAT")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", alias="LOG_LEVEL")
    import_interval_minutes: int = Field(15, alias="IMPORT_INTERVAL_MINUTES", ge=1, le=60)
    outbox_flush_seconds: int = Field(60, alias="OUTBOX_FLUSH_SECONDS", ge=5)
    digest_hour: int = Field(7, alias="DIGEST_HOUR", ge=0, le=23)
    timezone: str = Field("UTC", alias="BOBBIN_TIMEZONE")
    visibility_timeout: int = Field(3600, alias="VISIBILITY_TIMEOUT", ge=10)
    writeback_max_attempts: int = Field(8, alias="WRITEBACK_MAX_ATTEMPTS", ge=1, le=50)
    alarm_after_intervals: int = Field(4, alias="ALARM_AFTER_INTERVALS", ge=1, le=1000)
    reconcile_minutes: int = Field(5, alias="RECONCILE_MINUTES", ge=1, le=60)
    # Signs the operator console's session cookie and CSRF tokens; unset: derived from the first
    # BOBBIN_SECRET_KEYS key (or the development key file), so rotating that key signs everyone out.
    console_secret: str | None = Field(None, alias="CONSOLE_SECRET")
    # The console's address as people reach it (links in e-mails; https makes the cookie Secure).
    console_base_url: str | None = Field(None, alias="CONSOLE_BASE_URL")

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _any_case(cls, v: object) -> object:
        # LOG_LEVEL=debug means DEBUG; the values are matched in their documented case.
        if not isinstance(v, str):
            return v
        v = v.strip()
        return v.upper() if v.upper() in ("DEBUG", "INFO", "WARNING", "ERROR") else v.lower()

    @field_validator("import_interval_minutes")
    @classmethod
    def _divides_hour(cls, v: int) -> int:
        if 60 % v:
            raise ValueError("must divide 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60) so runs stay on the clock")
        return v

    @field_validator("database_url")
    @classmethod
    def _pg_url(cls, v: str | None) -> str | None:
        if v in (None, ""):
            return None
        scheme = urlsplit(v).scheme
        if not scheme.startswith("postgres"):
            raise ValueError(f"must be a postgresql:// URL, got scheme {scheme or '(none)'!r}")
        if scheme in ("postgres", "postgresql"):
            v = "postgresql+psycopg2" + v[len(scheme) :]
        return v

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, v: str | None) -> str | None:
        if v in (None, ""):
            return None
        if urlsplit(v).scheme not in ("redis", "rediss"):
            raise ValueError("must be a redis:// or rediss:// URL")
        return v

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, v: str | None) -> str | None:
        if v in (None, ""):
            return None
        parts = urlsplit(v)
        if parts.scheme not in ("smtp", "smtps", "smtp+starttls") or not parts.hostname:
            raise ValueError("must look like smtp://user:password@host:port (or smtps://, smtp+starttls://)")
        return v

    @field_validator("console_secret")
    @classmethod
    def _console_secret(cls, v: str | None) -> str | None:
        if v in (None, ""):
            return None
        if len(v.strip()) < 32:
            raise ValueError(
                "must be at least 32 characters (make one with `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
            )
        return v.strip()

    @field_validator("console_base_url")
    @classmethod
    def _console_base_url(cls, v: str | None) -> str | None:
        if v in (None, ""):
            return None
        parts = urlsplit(v.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL, e.g. https://bobbin.brand.com")
        return v.strip().rstrip("/")

    @field_validator("secret_keys")
    @classmethod
    def _fernet_keys(cls, v: str | None) -> str | None:
        if v in (None, ""):
            return None
        from cryptography.fernet import Fernet

        for i, key in enumerate(k.strip() for k in v.split(",")):
            try:
                Fernet(key)
            except Exception:
                raise ValueError(
                    f"key #{i + 1} is not a Fernet key (32 url-safe base64 bytes); make one with `bobbin keys new`"
                ) from None
        return v

    @model_validator(mode="after")
    def _production_needs_secrets(self) -> Settings:
        if self.environment == "production":
            missing = [
                name
                for name, val in (
                    ("DATABASE_URL", self.database_url),
                    ("REDIS_URL", self.redis_url),
                    ("BOBBIN_SECRET_KEYS", self.secret_keys),
                    ("FLOWER_PASSWORD", self.flower_password),
                )
                if not val
            ]
            if missing:
                raise ValueError("production needs " + ", ".join(missing))
        return self

    # --- derived values -------------------------------------------------------------------------

    @property
    def mail_dir(self) -> Path:
        return self.home / "mail"

    def fernet_keys(self) -> list[str]:
        """The configured keys, or in development a key generated once under BOBBIN_HOME."""
        if self.secret_keys:
            return [k.strip() for k in self.secret_keys.split(",") if k.strip()]
        return [_dev_secret(self.home / "secret.key", lambda: _new_fernet_key())]

    def console_signing_key(self) -> bytes:
        """The key the console signs its session cookie and CSRF tokens with: CONSOLE_SECRET, or
        one derived from the first encryption key (never the key itself)."""
        import hashlib
        import hmac

        if self.console_secret:
            return self.console_secret.encode()
        return hmac.new(self.fernet_keys()[0].encode(), b"bobbin-console-session-v1", hashlib.sha256).digest()

    def console_url(self, reached_at: str | None = None) -> str:
        """The console's address as people reach it, without a trailing slash: ``CONSOLE_BASE_URL``;
        unset, ``reached_at`` (the address a request came to, when there is one), else the address
        ``bobbin web`` listens on by default (``http://127.0.0.1:WEB_PORT``). E-mails link to it."""
        return (self.console_base_url or reached_at or f"http://{LOCAL_WEB_HOST}:{self.web_port}").rstrip("/")

    def flower_login(self) -> tuple[str, str]:
        password = self.flower_password or _dev_secret(self.home / "flower.password", lambda: secrets.token_urlsafe(12))
        return self.flower_user, password


def _new_fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def _dev_secret(path: Path, make: Callable[[], str]) -> str:
    """A development-only secret kept in a 0600 file, made on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(make())
        tmp.chmod(0o600)
        tmp.replace(path)
    return path.read_text().strip()


def load_settings() -> Settings:
    """Read and validate settings; on a bad value exit with one line naming the variable."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(f"{name.upper()}: {msg}" if name else msg)
        raise SettingsError("Bobbin settings are invalid: " + "; ".join(problems)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
