"""Settings are checked when they load: a misspelt value stops the hub with one line naming the
variable, the value and what it may be, instead of a traceback mid-search or being ignored."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.cli import main
from hub.errors import ConfigError
from hub.settings import Settings


@pytest.mark.parametrize("variable, value, says", [
    ("HUB_FUSION", "x", "HUB_FUSION='x' is not one of: weighted, rrf"),
    ("HUB_LOG_FORMAT", "xml", "HUB_LOG_FORMAT='xml' is not one of: text, json"),
    ("HUB_OCR", "maybe", "HUB_OCR='maybe' is not yes or no"),
    ("HUB_DENSE_WEIGHT", "2", "HUB_DENSE_WEIGHT=2.0 must be between 0 and 1"),
    ("HUB_PORT", "eighty", "HUB_PORT='eighty' is not a valid int"),
    ("HUB_SEARCH_EF", "8", "HUB_SEARCH_EF=8 must be between 16 and 100000"),
    ("HUB_CHUNK_WORDS", "50", "HUB_CHUNK_MIN_WORDS (100) <= HUB_CHUNK_WORDS (50)"),
])
def test_a_bad_setting_is_named_with_its_value_and_choices(tmp_path: Path, variable: str, value: str,
                                                           says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({variable: value}, home=tmp_path)
    assert says in str(caught.value)


def test_the_command_line_says_it_in_one_line_without_a_traceback(tmp_path: Path, capsys,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_FUSION", "x")
    assert main(["--home", str(tmp_path), "documents"]) == 2
    err = capsys.readouterr().err
    assert err == "error: HUB_FUSION='x' is not one of: weighted, rrf\n"


def test_good_values_load_whatever_their_case(tmp_path: Path) -> None:
    settings = Settings.from_env({"HUB_FUSION": "RRF", "HUB_LOG_LEVEL": "INFO", "HUB_OCR": "off",
                                  "HUB_DENSE_WEIGHT": "0.5"}, home=tmp_path)
    assert (settings.fusion, settings.log_level, settings.ocr, settings.dense_weight) == ("rrf", "info", False, 0.5)


def test_a_broken_thesaurus_file_stops_the_first_search_in_one_line_not_the_start(make_hub, tmp_path: Path,
                                                                                  monkeypatch) -> None:
    import threading

    from hub.errors import HubError

    broken = tmp_path / "thesaurus.yaml"
    broken.write_text("concepts: [unclosed\n", encoding="utf-8")
    hub = make_hub(thesaurus=broken)
    escaped: list = []
    monkeypatch.setattr(threading, "excepthook", escaped.append)
    hub.warm_up()  # loads the thesaurus beside the models: its error must not escape as a traceback
    assert escaped == []
    with pytest.raises(HubError) as error:
        hub.search("street lighting")
    assert "thesaurus.yaml" in str(error.value) and "\n" not in str(error.value)
