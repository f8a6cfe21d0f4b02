import stat

import pytest

from crm_core.cookie_key import MIN_KEY_BYTES, WeakCookieKey, cookie_key


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch):
    monkeypatch.delenv("WARROOM_COOKIE_KEY", raising=False)


def test_environment_key_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("WARROOM_COOKIE_KEY", "e" * 40)
    assert cookie_key(tmp_path / "secrets.toml", tmp_path / "gen") == "e" * 40
    assert not (tmp_path / "gen").exists()


def test_secrets_file_key_top_level_or_auth_table(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[auth]\ncookie_key = "{"s" * 33}"\n')
    assert cookie_key(secrets, tmp_path / "gen") == "s" * 33
    secrets.write_text(f'cookie_key = "{"t" * 32}"\n')
    assert cookie_key(secrets, tmp_path / "gen") == "t" * 32


def test_short_configured_key_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("WARROOM_COOKIE_KEY", "short")
    with pytest.raises(WeakCookieKey, match="shorter than 32 bytes"):
        cookie_key(tmp_path / "secrets.toml", tmp_path / "gen")


def test_without_configuration_a_random_key_is_generated_once_and_kept_private(tmp_path):
    generated = tmp_path / "data" / "cookie_key"
    first = cookie_key(tmp_path / "none.toml", generated)
    assert len(first.encode()) >= MIN_KEY_BYTES
    assert cookie_key(tmp_path / "none.toml", generated) == first
    assert stat.S_IMODE(generated.stat().st_mode) == 0o600
    other = cookie_key(tmp_path / "none.toml", tmp_path / "elsewhere")
    assert other != first
