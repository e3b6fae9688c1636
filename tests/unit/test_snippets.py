"""Ranking snippets from other files (pure)."""

from __future__ import annotations

from inkstream.completion.snippets import Candidate, jaccard, rank_snippets


def test_most_similar_file_wins_within_budget() -> None:
    around = "user = fetch_user(user_id)\nprofile = build_profile(user)\n"
    candidates = [
        Candidate("/p/math.py", "def add(a, b):\n    return a + b\n"),
        Candidate("/p/users.py", "def fetch_user(user_id):\n    return db.get(user_id)\n"),
        Candidate("/p/profile.py", "def build_profile(user):\n    return Profile(user.name)\n"),
    ]
    chosen = rank_snippets(around, candidates, budget_chars=1000)
    paths = [s.path for s in chosen]
    assert "/p/math.py" not in paths
    assert set(paths) == {"/p/users.py", "/p/profile.py"}
    only_one = rank_snippets(around, candidates, budget_chars=60)
    assert len(only_one) == 1


def test_long_file_contributes_its_best_window() -> None:
    filler = "".join(f"unrelated_{i} = {i}\n" for i in range(100))
    target = "def parse_config(config_path):\n    return load_yaml(config_path)\n"
    chosen = rank_snippets(
        "cfg = parse_config(config_path)",
        [Candidate("/p/big.py", filler + target + filler)],
        budget_chars=5000,
    )
    assert len(chosen) == 1 and "parse_config" in chosen[0].text
    assert chosen[0].text.count("\n") <= 20


def test_jaccard_edges() -> None:
    assert jaccard(frozenset(), frozenset({"a"})) == 0.0
    assert jaccard(frozenset({"abc"}), frozenset({"abc"})) == 1.0
