"""The settings: the one place that reads the environment, and what each variable becomes."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from server.settings import (
    CentralSettings,
    SetupSecrets,
    StoreNodeSettings,
    SyncSettings,
    data_dir_from_env,
)
from server.store.central_address import Enrollment
from sync.schedule import SyncWindow

VARIABLES = (
    "HALLSYNC_DATA_DIR",
    "HALLSYNC_DATABASE_URL",
    "HALLSYNC_SYNC_MODE",
    "HALLSYNC_SYNC_WINDOW",
    "HALLSYNC_CENTRAL_URL",
    "HALLSYNC_MANAGER_PASSWORD",
    "HALLSYNC_HQ_ADMIN_PASSWORD",
    "HALLSYNC_HQ_USER_PASSWORD",
    "HALLSYNC_CONTACT_KEY",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_sync_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert SyncSettings.from_env() == SyncSettings("continuous", "01:00-05:00")
    monkeypatch.setenv("HALLSYNC_SYNC_MODE", "Window")
    monkeypatch.setenv("HALLSYNC_SYNC_WINDOW", "23:30-04:00")
    settings = SyncSettings.from_env()
    schedule = settings.schedule("Asia/Shanghai")
    assert schedule.mode == "window" and schedule.window == SyncWindow(time(23, 30), time(4, 0))
    monkeypatch.setenv("HALLSYNC_SYNC_MODE", "sometimes")
    with pytest.raises(ValueError, match="is not continuous"):
        SyncSettings.from_env()
    with pytest.raises(ValueError, match="01:00-05:00"):
        SyncSettings(window="1am-5am")


def test_hallsync_central_url_overrides_the_kept_address(monkeypatch: pytest.MonkeyPatch) -> None:
    kept = Enrollment("ws://central:8000", "credential")
    assert SyncSettings.from_env().address(kept) == kept
    monkeypatch.setenv("HALLSYNC_CENTRAL_URL", " https://lb.example.com ")
    assert SyncSettings.from_env().address(kept) == Enrollment("wss://lb.example.com", "credential")
    monkeypatch.setenv("HALLSYNC_CENTRAL_URL", "lb.example.com")
    with pytest.raises(ValueError, match="HALLSYNC_CENTRAL_URL"):
        SyncSettings.from_env()


def test_setup_secrets_are_none_when_unset_or_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    assert SetupSecrets.from_env() == SetupSecrets()
    monkeypatch.setenv("HALLSYNC_MANAGER_PASSWORD", "")
    monkeypatch.setenv("HALLSYNC_HQ_ADMIN_PASSWORD", "hq-admin-pass-1")
    monkeypatch.setenv("HALLSYNC_HQ_USER_PASSWORD", "hq-user-pass-1")
    monkeypatch.setenv("HALLSYNC_CONTACT_KEY", "chain-contact-key-0123456789")
    assert SetupSecrets.from_env() == SetupSecrets(
        manager_password=None,
        hq_admin_password="hq-admin-pass-1",
        hq_user_password="hq-user-pass-1",
        contact_key="chain-contact-key-0123456789",
    )


def test_the_data_dir_comes_from_the_option_else_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert data_dir_from_env() is None
    assert StoreNodeSettings.from_env().data_dir == Path("./data/store")
    monkeypatch.setenv("HALLSYNC_DATA_DIR", str(tmp_path))
    assert data_dir_from_env() == tmp_path
    assert CentralSettings.from_env().data_dir == tmp_path
    assert CentralSettings.from_env(data_dir=tmp_path / "other").data_dir == tmp_path / "other"


def test_the_database_url_option_wins_over_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HALLSYNC_DATABASE_URL", "postgresql+asyncpg://hallsync@db/hallsync")
    assert CentralSettings.from_env().database_url == "postgresql+asyncpg://hallsync@db/hallsync"
    given = "postgresql+asyncpg://hallsync@other/hallsync"
    assert CentralSettings.from_env(database_url=given).database_url == given
