"""Settings: a bad value stops the process with one readable line naming the variable.

Given a malformed environment variable, when the settings are loaded (``load_settings``, or any
``bobbin`` command), then a ``SettingsError`` carries one line that names the variable and says
what is wrong; secrets in the bad value are not repeated.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from core.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]
BOBBIN = Path(sys.executable).parent / "bobbin"
VARIABLES = (
    "BOBBIN_ENV",
    "DATABASE_URL",
    "REDIS_URL",
    "BOBBIN_SECRET_KEYS",
    "SMTP_URL",
    "FLOWER_PASSWORD",
    "IMPORT_INTERVAL_MINUTES",
    "WRITEBACK_MAX_ATTEMPTS",
    "LOG_FORMAT",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No setting from the developer's environment or a stray .env file."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BOBBIN_HOME", str(tmp_path / "home"))


def _error(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    message = str(raised.value)
    assert "\n" not in message, f"not one line: {message!r}"
    assert message.startswith("Bobbin settings are invalid: ")
    return message


def test_defaults_load(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given nothing set, then development defaults load
    s = load_settings()
    assert (s.environment, s.import_interval_minutes, s.database_url) == ("development", 15, None)


def test_database_url_must_be_postgres(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _error(monkeypatch, DATABASE_URL="mysql://bob:hunter2pass@db.example/shop")
    assert message == ("Bobbin settings are invalid: DATABASE_URL: must be a postgresql:// URL, got scheme 'mysql'")
    assert "hunter2pass" not in message


def test_postgres_urls_get_the_psycopg2_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    for given in ("postgres://u:p@h:5432/db", "postgresql://u:p@h:5432/db"):
        monkeypatch.setenv("DATABASE_URL", given)
        assert load_settings().database_url == "postgresql+psycopg2://u:p@h:5432/db"


def test_import_interval_must_divide_the_hour(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _error(monkeypatch, IMPORT_INTERVAL_MINUTES="7")
    assert message.startswith("Bobbin settings are invalid: IMPORT_INTERVAL_MINUTES: must divide 60")
    assert "so runs stay on the clock" in message
    assert "IMPORT_INTERVAL_MINUTES: Input should be a valid integer" in _error(
        monkeypatch, IMPORT_INTERVAL_MINUTES="fifteen"
    )
    for ok in ("1", "5", "15", "20", "30", "60"):
        monkeypatch.setenv("IMPORT_INTERVAL_MINUTES", ok)
        assert load_settings().import_interval_minutes == int(ok)


def test_secret_keys_must_be_fernet_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _error(monkeypatch, BOBBIN_SECRET_KEYS="notakey")
    assert message == (
        "Bobbin settings are invalid: BOBBIN_SECRET_KEYS: key #1 is not a Fernet key "
        "(32 url-safe base64 bytes); make one with `bobbin keys new`"
    )
    # A bad second key (rotation) is named by its position, and its value is not repeated
    good = Fernet.generate_key().decode()
    message = _error(monkeypatch, BOBBIN_SECRET_KEYS=f"{good},halfakey")
    assert "BOBBIN_SECRET_KEYS: key #2 is not a Fernet key" in message
    assert good not in message and "halfakey" not in message


def test_smtp_url_must_be_smtp(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _error(monkeypatch, SMTP_URL="ftp://x")
    assert message.startswith("Bobbin settings are invalid: SMTP_URL: must look like smtp://")


def test_production_needs_its_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given BOBBIN_ENV=production with nothing else, then every missing variable is named
    message = _error(monkeypatch, BOBBIN_ENV="production")
    assert "production needs DATABASE_URL, REDIS_URL, BOBBIN_SECRET_KEYS, FLOWER_PASSWORD" in message
    # Given all but one, then only that one is named
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db:5432/bobbin")
    monkeypatch.setenv("REDIS_URL", "redis://redis:6379/0")
    monkeypatch.setenv("BOBBIN_SECRET_KEYS", Fernet.generate_key().decode())
    assert _error(monkeypatch).endswith("production needs FLOWER_PASSWORD")
    monkeypatch.setenv("FLOWER_PASSWORD", "s3cret-flower")
    assert load_settings().environment == "production"


def test_several_bad_values_share_the_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _error(monkeypatch, SMTP_URL="ftp://x", IMPORT_INTERVAL_MINUTES="7", LOG_FORMAT="xml")
    for name in ("SMTP_URL:", "IMPORT_INTERVAL_MINUTES:", "LOG_FORMAT:"):
        assert name in message


def test_celery_process_stops_with_the_one_line(tmp_path: Path) -> None:
    # Given a bad value, when the worker / beat process starts (`celery -A worker beat`)
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    env.update(SMTP_URL="ftp://x", BOBBIN_HOME=str(tmp_path / "home"))
    done = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "worker", "beat"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    # Then it exits 1 before starting, with only the line naming the variable
    assert done.returncode == 1
    assert (done.stdout + done.stderr).strip().splitlines() == [
        "Bobbin settings are invalid: SMTP_URL: must look like smtp://user:password@host:port "
        "(or smtps://, smtp+starttls://)"
    ]


def test_cli_prints_one_line_and_exits_non_zero(tmp_path: Path) -> None:
    # Given IMPORT_INTERVAL_MINUTES=7, when an operator runs `bobbin status`
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    env.update(IMPORT_INTERVAL_MINUTES="7", BOBBIN_HOME=str(tmp_path / "home"))
    done = subprocess.run([str(BOBBIN), "status"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)

    # Then it prints one line naming the variable, no traceback, and exits non-zero
    output = (done.stdout + done.stderr).strip()
    assert done.returncode != 0
    assert len(output.splitlines()) == 1, output
    assert "IMPORT_INTERVAL_MINUTES" in output and "must divide 60" in output
    assert "Traceback" not in output
