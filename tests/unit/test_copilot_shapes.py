"""The shapes Copilot's plugins read, built from inkstream's completions (no server)."""

from __future__ import annotations

from inkstream.config import Settings
from inkstream.copilot import shapes
from inkstream.copilot.session import CopilotSession


def test_copilot_clients_are_told_apart_by_their_init_options() -> None:
    assert shapes.is_copilot_client({"editorPluginInfo": {"name": "copilot.lua"}})
    assert shapes.is_copilot_client({"editorInfo": {"name": "Emacs"}})
    assert not shapes.is_copilot_client({"model": "m", "baseUrl": "http://x"})  # inkstream's own
    assert not shapes.is_copilot_client(None)
    assert not shapes.is_copilot_client({"editorInfo": "Neovim"})


def test_user_names_model_and_host_never_the_key() -> None:
    remote = Settings(base_url="https://api.example.com/v1", api_key="sk-secret", model="m1")
    assert shapes.user(remote) == "inkstream (m1 @ api.example.com)"
    assert shapes.user(Settings(api_key="sk-secret", model="gpt-4o-mini")) == (
        "inkstream (gpt-4o-mini @ api.openai.com)"
    )
    assert shapes.user(Settings()) == "inkstream (offline model)"
    assert "sk-secret" not in str(shapes.signed_out(remote))


def test_selected_model_reads_copilot_settings() -> None:
    settings = {"github": {"copilot": {"selectedCompletionModel": "m2"}}}
    assert shapes.selected_model(settings) == "m2"
    assert shapes.selected_model({"github": {"copilot": {"selectedCompletionModel": ""}}}) is None
    assert shapes.selected_model(None) is None
    assert shapes.selected_model({"github": "x"}) is None


def test_item_text_starts_at_the_line_start() -> None:
    where = shapes.Where(line=3, character=6, line_prefix="    re")
    item = shapes.inline_item(where, "turn x", "id1")
    assert item["insertText"] == "    return x"
    assert item["range"] == {
        "start": {"line": 3, "character": 0},
        "end": {"line": 3, "character": 6},
    }
    assert item["command"]["arguments"] == ["id1"]
    legacy = shapes.legacy_completion(where, "turn x\n", "id1", 9)
    assert legacy["text"] == "    return x\n" and legacy["displayText"] == "turn x\n"
    assert legacy["docVersion"] == 9 and legacy["position"] == {"line": 3, "character": 6}


def test_panel_solution_goes_in_at_the_cursor() -> None:
    where = shapes.Where(line=1, character=4, line_prefix="    ")
    solution = shapes.panel_solution(where, "return 1", "s1", "p", 0.75)
    assert solution["range"]["start"] == solution["range"]["end"] == {"line": 1, "character": 4}
    assert solution["completionText"] == "return 1"
    assert solution["displayText"] == "    return 1"


def test_accepted_length_counts_from_the_cursor() -> None:
    session = CopilotSession()
    session.remember_prefix("a", shapes.utf16_len("    é😀"))  # the emoji is 2 UTF-16 units
    assert session.from_cursor("a", 10) == 3
    assert session.from_cursor("unknown", 10) == 10


def test_status_never_asks_for_a_github_sign_in() -> None:
    assert shapes.status_notification("") == {
        "kind": "Normal",
        "status": "Normal",
        "busy": False,
        "message": "",
    }
    error = shapes.status_notification("http://x rejected the API key (HTTP 401).")
    assert error["kind"] == "Error" and "not signed into" not in error["message"]
