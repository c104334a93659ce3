"""Settings: a typo in tutor.toml or in a TUTOR_* variable is an error naming it, never ignored."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from tutor.config import Settings, check_unknown_keys, get_settings
from tutor.errors import TutorError

REPO = Path(__file__).resolve().parents[1]


def test_unknown_toml_key_is_an_error_naming_it_and_the_closest_field(tutor_home, tmp_path, monkeypatch):
    toml = tmp_path / "tutor.toml"
    toml.write_text('llm_backend = "openai"\nlab_thread = 2\n')
    monkeypatch.setenv("TUTOR_CONFIG", str(toml))
    with pytest.raises(TutorError) as err:
        get_settings()
    message = str(err.value)
    assert "'lab_thread'" in message and str(toml) in message and "did you mean lab_threads?" in message
    assert "\n" not in message
    # Built directly, the settings refuse it too (pydantic's own error).
    with pytest.raises(ValidationError):
        Settings()


def test_unknown_toml_key_without_a_close_name(tutor_home, tmp_path, monkeypatch):
    toml = tmp_path / "tutor.toml"
    toml.write_text('[server]\nport = 1\n')
    monkeypatch.setenv("TUTOR_CONFIG", str(toml))
    with pytest.raises(TutorError, match="unknown setting 'server'") as err:
        get_settings()
    assert "did you mean" not in str(err.value)


def test_unreadable_toml_is_one_line_naming_the_file(tutor_home, tmp_path, monkeypatch):
    toml = tmp_path / "tutor.toml"
    toml.write_text("top_k = \n")
    monkeypatch.setenv("TUTOR_CONFIG", str(toml))
    with pytest.raises(TutorError, match="cannot read the settings file") as err:
        get_settings()
    assert str(toml) in str(err.value)


def test_valid_toml_is_read(tutor_home, tmp_path, monkeypatch):
    toml = tmp_path / "tutor.toml"
    toml.write_text('top_k = 7\nlab_threads = 2\n')
    monkeypatch.setenv("TUTOR_CONFIG", str(toml))
    settings = get_settings()
    assert settings.top_k == 7 and settings.lab_threads == 2


def test_unknown_env_var_is_an_error_naming_it_and_the_closest_field(tutor_home, monkeypatch):
    monkeypatch.setenv("TUTOR_LAB_THREDS", "2")
    with pytest.raises(TutorError) as err:
        get_settings()
    message = str(err.value)
    assert "TUTOR_LAB_THREDS" in message and "did you mean TUTOR_LAB_THREADS?" in message
    assert "\n" not in message


def test_several_unknown_names_are_all_named_on_one_line(tutor_home, monkeypatch):
    monkeypatch.setenv("TUTOR_TOPK", "3")
    monkeypatch.setenv("TUTOR_EMBED_BACKNED", "torch")
    with pytest.raises(TutorError) as err:
        get_settings()
    message = str(err.value)
    assert "TUTOR_TOPK" in message and "TUTOR_EMBED_BACKNED" in message and "\n" not in message


def test_known_variables_are_fine(tutor_home, monkeypatch):
    monkeypatch.setenv("TUTOR_TOP_K", "3")
    monkeypatch.setenv("tutor_chunk_size", "128")  # pydantic-settings matches names case-insensitively
    for name in ("TUTOR_CONFIG", "TUTOR_DEBUG", "TUTOR_AUTH", "TUTOR_TEST_SCRIPTED_LLM", "TUTOR_TEST_ANYTHING"):
        monkeypatch.setenv(name, "1" if name != "TUTOR_CONFIG" else str(tutor_home / "absent.toml"))
    settings = get_settings()
    assert settings.top_k == 3 and settings.chunk_size == 128


def test_every_tutor_variable_the_code_reads_is_allowed():
    """Each TUTOR_* name read from the environment anywhere in the repo passes the check."""
    pattern = re.compile(r"""(?:environ\.get|environ\[|getenv|environ\.setdefault)\(?\s*["'](TUTOR_[A-Z0-9_]+)["']""")
    names: set[str] = set()
    for path in REPO.rglob("*.py"):
        if ".venv" in path.parts or "node_modules" in path.parts:
            continue
        names |= set(pattern.findall(path.read_text(encoding="utf-8", errors="replace")))
    assert {"TUTOR_HOME", "TUTOR_CONFIG", "TUTOR_DEBUG", "TUTOR_AUTH"} <= names
    check_unknown_keys({name: "1" for name in names})


def test_other_variables_are_not_checked():
    check_unknown_keys({"TUTORIAL": "1", "HOME": "/root", "XTUTOR_X": "1"})


def test_lab_threads_default_setting_and_bounds(tutor_home, monkeypatch):
    from tutor.lab.runner import _default_threads

    assert Settings().lab_threads is None and _default_threads(Settings()) == 1
    assert _default_threads(Settings(lab_threads=4)) == 4
    monkeypatch.setenv("TUTOR_LAB_THREADS", "3")
    get_settings.cache_clear()
    assert _default_threads(get_settings()) == 3
    for bad in (0, 65):
        with pytest.raises(ValidationError):
            Settings(lab_threads=bad)
    assert "1" in Settings.model_fields["lab_threads"].description


def test_cli_prints_one_line_for_an_unknown_variable(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUTOR_")}
    env.update(PYTHONPATH=str(REPO), TUTOR_HOME=str(tmp_path), TUTOR_LAB_THREDS="2")
    out = subprocess.run([sys.executable, "-m", "tutor.cli", "models"], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "TUTOR_LAB_THREDS" in lines[0], out.stderr
    assert "TUTOR_LAB_THREADS" in lines[0] and out.stdout == ""
