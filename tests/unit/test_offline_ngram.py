"""The n-gram model: counts, back-off, mixing models, and a compact cache round trip."""

from __future__ import annotations

import pickle

from inkstream.providers.offline import ngram
from inkstream.providers.offline.ngram import NgramModel, choose, complete_word, rank, train


def words(text: str) -> list[str]:
    return text.split()


def test_the_longest_known_context_decides() -> None:
    model = train([words("a b c X a b c X q b c Y q b c Y q b c Y")])
    # after "b c" alone, Y is more frequent; after "a b c", X always followed
    assert choose([(model, 1.0)], words("q b c")) == "Y"
    assert choose([(model, 1.0)], words("a b c")) == "X"


def test_back_off_to_shorter_contexts_and_none_when_nothing_is_known() -> None:
    model = train([words("x y z x y z")])
    assert choose([(model, 1.0)], words("unknown y")) == "z"
    assert choose([(model, 1.0)], words("never seen")) is None
    assert choose([(model, 1.0)], []) is None


def test_scores_are_relative_frequencies_discounted_per_token_of_context_given_up() -> None:
    model = train([words("x a b c d e x a b c d f")])
    seen_twice = 1 / (2 + ngram.EVIDENCE)  # one in two, discounted: two sightings prove little
    scores = model.scores(words("x a b c d"))
    assert scores["e"] == scores["f"] == seen_twice  # the longest context
    shorter = model.scores(words("z z z z d"))  # only "d" is known: four steps down
    assert shorter["e"] == seen_twice * ngram.BACKOFF**4


def test_min_count_drops_rare_long_contexts_but_keeps_bigrams() -> None:
    model = train([words("p q r s")], min_count=2)
    assert choose([(model, 1.0)], words("q")) == "r"  # bigrams are always kept
    assert model.tables[2].lookup(hash((0, 1, 2))) is None  # a trigram context seen once


def test_the_weightier_model_wins_a_tie() -> None:
    library = train([words("open ( path ) open ( path ) open ( path )")])
    project = train([words("open ( url ) open ( url )")])
    assert choose([(project, 4.0), (library, 1.0)], words("open (")) == "url"
    assert choose([(project, 0.1), (library, 1.0)], words("open (")) == "path"


def test_ranking_is_deterministic_and_filters() -> None:
    model = train([words("k a k b k c")])
    ranked = rank([(model, 1.0)], ["k"])
    assert [token for _, token in ranked] == ["a", "b", "c"]  # equal scores: by token
    assert choose([(model, 1.0)], ["k"], lambda t: t != "a") == "b"


def test_completes_the_word_being_typed_from_context_or_vocabulary() -> None:
    model = train([["x", " =", " make_response", "(", ")", "\n", "print", "(", ")"]])
    assert complete_word([(model, 1.0)], ["x", " ="], "make_re") == "make_response"
    assert complete_word([(model, 1.0)], ["nothing"], "pri") == "print"
    assert complete_word([(model, 1.0)], ["x", " ="], "make_response") is None  # whole already
    assert complete_word([(model, 1.0)], ["x"], "zzz") is None


def test_pickle_round_trip_keeps_predictions_and_leaves_the_lookup_out() -> None:
    model = train([words("a b c d a b c e")])
    loaded = pickle.loads(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    assert isinstance(loaded, NgramModel)
    assert loaded.ids == model.ids
    assert loaded.scores(words("a b c")) == model.scores(words("a b c"))
    assert "ids" not in model.__getstate__()
