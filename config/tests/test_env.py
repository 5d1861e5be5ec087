import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_choice, env_int, env_list


def test_booleans_accept_the_usual_spellings(monkeypatch):
    monkeypatch.setenv("FLAG", "Yes")
    assert env_bool("FLAG", False) is True
    monkeypatch.setenv("FLAG", "off")
    assert env_bool("FLAG", True) is False


def test_a_misspelt_boolean_stops_start_up(monkeypatch):
    monkeypatch.setenv("FLAG", "ture")
    with pytest.raises(ImproperlyConfigured, match="FLAG"):
        env_bool("FLAG", False)


def test_integers_must_be_integers_and_above_their_minimum(monkeypatch):
    monkeypatch.setenv("LIMIT", "512MB")
    with pytest.raises(ImproperlyConfigured, match="LIMIT"):
        env_int("LIMIT", 1)
    monkeypatch.setenv("LIMIT", "0")
    with pytest.raises(ImproperlyConfigured, match="minimum"):
        env_int("LIMIT", 1, minimum=1)
    monkeypatch.setenv("LIMIT", "42")
    assert env_int("LIMIT", 1) == 42


def test_choices_and_lists(monkeypatch):
    monkeypatch.setenv("MODE", "staging")
    with pytest.raises(ImproperlyConfigured):
        env_choice("MODE", "development", ("development", "production"))
    monkeypatch.setenv("HOSTS", " a.example , b.example ,")
    assert env_list("HOSTS", []) == ["a.example", "b.example"]
