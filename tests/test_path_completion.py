"""Completing half-typed paths, and reading what a terminal pastes when files are
dropped on it."""

from __future__ import annotations

import os

import pytest

from luna_tui.services.path_completion import (
    MAX_MATCHES,
    complete,
    complete_field,
    paths_from_paste,
    quote_paths,
)


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "results.pdf").write_text("x")
    (tmp_path / "Reports").mkdir()
    (tmp_path / "referral.txt").write_text("x")
    (tmp_path / ".hidden").write_text("x")
    (tmp_path / "scan 1.png").write_text("x")
    return tmp_path


@pytest.fixture
def home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / "Downloads").mkdir(parents=True)
    (home / "Documents").mkdir()
    (home / "Downloads" / "labs.pdf").write_text("x")
    monkeypatch.setenv("HOME", str(home))
    return home


def test_matches_start_with_the_last_part_folders_first(folder):
    assert complete(f"{folder}/res") == [f"{folder}/results.pdf"]
    assert complete(f"{folder}/re") == [f"{folder}/referral.txt", f"{folder}/results.pdf"]
    assert complete(f"{folder}/R") == [f"{folder}/Reports/"]
    assert complete(f"{folder}/") == [f"{folder}/Reports/", f"{folder}/referral.txt",
                                      f"{folder}/results.pdf", f"{folder}/scan 1.png"]


def test_hidden_entries_only_when_asked_for(folder):
    assert f"{folder}/.hidden" not in complete(f"{folder}/")
    assert complete(f"{folder}/.h") == [f"{folder}/.hidden"]


def test_the_home_folder_is_looked_up_but_kept_as_typed(home):
    assert complete("~/Do") == ["~/Documents/", "~/Downloads/"]
    assert complete("~/Downloads/") == ["~/Downloads/labs.pdf"]
    assert complete("~") == ["~/"]


def test_a_folder_without_its_slash_is_offered_with_it(folder):
    assert complete(str(folder)) == [f"{folder}/"]


def test_a_missing_or_unreadable_folder_offers_nothing(folder):
    assert complete(f"{folder}/nowhere/x") == []
    assert complete(f"{folder}/results.pdf/x") == []
    locked = folder / "locked"
    locked.mkdir()
    (locked / "a.txt").write_text("x")
    locked.chmod(0)
    try:
        if not os.access(locked, os.R_OK):  # root reads every folder
            assert complete(f"{locked}/") == []
    finally:
        locked.chmod(0o700)


def test_a_big_folder_is_capped(tmp_path):
    for number in range(MAX_MATCHES + 20):
        (tmp_path / f"f{number:04}").write_text("")
    found = complete(f"{tmp_path}/f")
    assert len(found) == MAX_MATCHES and found[0] == f"{tmp_path}/f0000"


def test_a_relative_path_completes_from_the_current_folder(folder, monkeypatch):
    monkeypatch.chdir(folder)
    assert complete("res") == ["results.pdf"]
    assert complete("Reports") == ["Reports/"]


def test_one_plain_path_with_spaces_stays_whole_when_it_exists(folder):
    assert paths_from_paste(f"{folder}/scan 1.png") == [f"{folder}/scan 1.png"]
    assert paths_from_paste(f"  {folder}/scan 1.png \n") == [f"{folder}/scan 1.png"]


def test_several_plain_paths_separated_by_spaces(folder):
    assert paths_from_paste(f"{folder}/results.pdf {folder}/referral.txt") == [
        f"{folder}/results.pdf", f"{folder}/referral.txt"]


def test_a_missing_plain_path_with_spaces_is_kept_whole_for_the_error_message():
    assert paths_from_paste("/nowhere/my scan.png") == ["/nowhere/my scan.png"]


def test_quoted_and_escaped_paths_as_terminals_drop_them(folder):
    assert paths_from_paste(f"'{folder}/scan 1.png' '{folder}/results.pdf' ") == [
        f"{folder}/scan 1.png", f"{folder}/results.pdf"]
    assert paths_from_paste(f'"{folder}/scan 1.png"') == [f"{folder}/scan 1.png"]
    assert paths_from_paste(f"{folder}/scan\\ 1.png {folder}/results.pdf") == [
        f"{folder}/scan 1.png", f"{folder}/results.pdf"]


def test_file_uris_one_a_line_are_decoded(folder):
    pasted = f"file://{folder}/scan%201.png\r\nfile://localhost{folder}/results.pdf\r\n"
    assert paths_from_paste(pasted) == [f"{folder}/scan 1.png", f"{folder}/results.pdf"]
    assert paths_from_paste(f"file://{folder}/scan%201.png file://{folder}/results.pdf") == [
        f"{folder}/scan 1.png", f"{folder}/results.pdf"]


def test_paths_on_separate_lines(folder):
    assert paths_from_paste(f"{folder}/results.pdf\n{folder}/scan 1.png\n") == [
        f"{folder}/results.pdf", f"{folder}/scan 1.png"]


def test_an_apostrophe_in_a_name_is_not_a_quote(tmp_path):
    (tmp_path / "Mum's letter.pdf").write_text("x")
    assert paths_from_paste(f"{tmp_path}/Mum's letter.pdf") == [f"{tmp_path}/Mum's letter.pdf"]
    assert paths_from_paste("/nowhere/Mum's") == ["/nowhere/Mum's"]


def test_nothing_pasted_is_no_paths():
    assert paths_from_paste("") == [] and paths_from_paste(" \n \n") == []


def test_quoted_paths_read_back_the_same(folder):
    paths = [f"{folder}/scan 1.png", "~/Downloads/labs.pdf", "/tmp/it's.txt"]
    line = quote_paths(paths)
    assert "~/Downloads/labs.pdf" in line  # left readable
    assert paths_from_paste(line) == paths


def test_the_last_of_several_paths_is_completed_and_a_space_escaped(folder, monkeypatch):
    monkeypatch.chdir(folder)
    assert complete_field("sca") == "scan\\ 1.png"
    assert complete_field("scan\\ 1.png res") == "scan\\ 1.png results.pdf"
    assert complete_field("'sca") == "'scan 1.png'"
    assert complete_field("results.pdf Rep") == "results.pdf Reports/"
    assert complete_field("results.pdf ") is None  # a new path not begun yet
    assert complete_field("results.pdf") is None  # already whole
    field = complete_field("sca") + " " + complete_field("res")
    assert paths_from_paste(field) == ["scan 1.png", "results.pdf"]
