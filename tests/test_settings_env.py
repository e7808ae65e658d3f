import pytest
from django.core.exceptions import ImproperlyConfigured

from quizsite.env import envbool, envfloat, envint, envlist


@pytest.mark.parametrize(
    ("raw", "value"), [("true", True), ("0", False), ("YES", True), ("off", False)]
)
def test_envbool_reads_the_usual_spellings(monkeypatch, raw, value):
    monkeypatch.setenv("FLAG", raw)
    assert envbool("FLAG", not value) is value


def test_bad_values_fail_loudly_at_start_up(monkeypatch):
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="FLAG must be one of"):
        envbool("FLAG", True)
    monkeypatch.setenv("COUNT", "ten")
    with pytest.raises(ImproperlyConfigured, match="COUNT must be an integer"):
        envint("COUNT", 1)
    monkeypatch.setenv("COUNT", "-1")
    with pytest.raises(ImproperlyConfigured, match="at least 0"):
        envint("COUNT", 1, minimum=0)


def test_envlist_splits_on_commas(monkeypatch):
    monkeypatch.setenv("HOSTS", " a.example, b.example ,,")
    assert envlist("HOSTS", []) == ["a.example", "b.example"]


def test_envfloat_reads_a_bounded_number(monkeypatch):
    monkeypatch.delenv("SHARE", raising=False)
    assert envfloat("SHARE", 0.95, minimum=0.5, maximum=0.999) == 0.95
    monkeypatch.setenv("SHARE", "0.9")
    assert envfloat("SHARE", 0.95, minimum=0.5, maximum=0.999) == 0.9
    monkeypatch.setenv("SHARE", "most")
    with pytest.raises(ImproperlyConfigured, match="SHARE must be a number"):
        envfloat("SHARE", 0.95, minimum=0.5, maximum=0.999)
    monkeypatch.setenv("SHARE", "1.5")
    with pytest.raises(ImproperlyConfigured, match=r"between 0\.5 and 0\.999"):
        envfloat("SHARE", 0.95, minimum=0.5, maximum=0.999)


@pytest.mark.django_db
def test_sqlite_writes_ahead_so_readers_do_not_wait_for_a_writer():
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        (mode,) = cursor.fetchone()
    assert mode.lower() == "wal"
