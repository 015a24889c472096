"""Reber strings are grammar strings; targets are the possible next symbols; sets and streams."""
import re

import numpy as np

from graphrnn.tasks import make_task
from graphrnn.tasks.reber import SYMBOLS, ReberStream, embedded_reber_string, reber_string

# An independent description of the Reber grammar (1997, Fig. 3) as a regular expression:
# from the state after B-P (and after B-T-..-X-X) the loop T* V P X returns; exits are T* V V and T* V P S.
_INNER = r"(?:T*VPX)*T*V(?:V|PS)"
REBER = rf"B(?:TS*X(?:S|X{_INNER})|P{_INNER})E"
EMBEDDED = rf"B(?:T{REBER}T|P{REBER}P)E"


def test_known_strings_match_the_grammar_regex():
    for good in ["BTSSXXTVVE", "BPVVE", "BTXXVPSE", "BPVPXVPXVPXVVE", "BTSXXVPSE", "BTXSE", "BPTVPSE"]:
        assert re.fullmatch(REBER, good), good
    for bad in ["BTSSPXSE", "BPTVVB", "BTXXVVSE", "BPVSPSE", "BTSSSE"]:
        assert not re.fullmatch(REBER, bad), bad


def test_generated_strings_are_grammar_strings():
    rng = np.random.default_rng(0)
    for _ in range(300):
        s, nexts = reber_string(rng)
        assert re.fullmatch(REBER, s), s
        assert len(nexts) == len(s) and nexts[-1] == ""
        assert all(s[i + 1] in nexts[i] for i in range(len(s) - 1))
        e, enexts = embedded_reber_string(rng)
        assert re.fullmatch(EMBEDDED, e), e
        assert len(enexts) == len(e) and enexts[-1] == ""
        assert all(e[i + 1] in enexts[i] for i in range(len(e) - 1))
        assert enexts[-3] == e[1] and enexts[-2] == "E" and enexts[:2] == ["TP", "B"]


def test_next_symbol_sets_of_a_known_string():
    rng = np.random.default_rng(1)
    for _ in range(5000):
        s, nexts = embedded_reber_string(rng)
        if s == "BTBPVVETE":
            assert nexts == ["TP", "B", "TP", "TV", "PV", "E", "T", "E", ""]
            return
    raise AssertionError("BTBPVVETE (probability 1/16) not drawn in 5000 tries")


def test_branches_are_taken_with_probability_one_half():
    rng = np.random.default_rng(2)
    seconds = [embedded_reber_string(rng)[0][1] for _ in range(4000)]
    assert abs(seconds.count("T") / 4000 - 0.5) < 0.03


def test_training_and_test_sets(small):
    task = make_task("embedded_reber")                      # the paper's 256 + 256
    assert len(task.train_strings) == 256 and len(task.test_strings) == 256
    assert not set(task.train_strings) & set(task.test_strings), "test strings are not training strings"
    assert all(re.fullmatch(EMBEDDED, s) for s in task.train_strings + task.test_strings)
    again = make_task("embedded_reber", data_seed=0)
    assert again.train_strings == task.train_strings
    assert make_task("embedded_reber", data_seed=1).train_strings != task.train_strings
    b = task.sample(0, 20)
    assert set(b.info["strings"]) <= set(task.train_strings), "exemplars come from the training set"


def test_batch_encoding():
    task = make_task("embedded_reber", train_size=8, test_size=4)
    b = task.sample(0, 8)
    for col, s in enumerate(b.info["strings"]):
        L = len(s) - 1                                        # every symbol but the final E is input
        assert b.lengths[col] == L
        decoded = "".join(SYMBOLS[i] for i in b.x[:L, col].argmax(axis=-1))
        assert decoded == s[:-1]
        # the symbol before last must be predicted from the second one
        np.testing.assert_array_equal(b.target[L - 2, col], np.eye(7)[SYMBOLS.index(s[1])])
        np.testing.assert_array_equal(b.target[L - 1, col], np.eye(7)[SYMBOLS.index("E")])


def test_fresh_strings_without_a_training_set():
    task = make_task("embedded_reber", train_size=None, test_size=4)
    assert task.train_strings is None
    b = task.sample(0, 5)
    assert all(re.fullmatch(EMBEDDED, s) for s in b.info["strings"])


def test_stream_is_an_unbroken_concatenation_of_strings():
    a = ReberStream(7, 1)
    chunks = [a.next(n) for n in (13, 40, 27)]
    whole = ReberStream(7, 1).next(80)
    np.testing.assert_array_equal(np.concatenate([c.x for c in chunks]), whole.x)
    np.testing.assert_array_equal(np.concatenate([c.target for c in chunks]), whole.target)
    text = "".join(SYMBOLS[i] for i in whole.x[:, 0].argmax(axis=-1))
    end = text.rfind("E" + "B")                                # cut after the last complete string
    assert re.fullmatch(rf"(?:{EMBEDDED})+", text[:end + 1]), text
    for t, s in enumerate(text[:-1]):
        assert whole.target[t, 0, SYMBOLS.index(text[t + 1])] == 1.0
        if s == "E" and text[t + 1] == "B":
            np.testing.assert_array_equal(whole.target[t, 0], np.eye(7)[0])   # after E comes B


def test_continual_sample_has_no_padding():
    task = make_task("continual_embedded_reber", length=64)
    b = task.sample(0, 3)
    assert b.x.shape == (64, 3, 7) and b.mask.all() and (b.lengths == 64).all()


def test_the_sets_are_drawn_on_first_use_and_the_same_as_drawn_at_once():
    lazy = make_task("embedded_reber", train_size=30, test_size=20, data_seed=4)
    assert lazy._sets is None                      # nothing drawn while the options are checked
    batch = lazy.sample(1, 5)
    assert lazy._sets is not None and set(batch.info["strings"]) <= set(lazy.train_strings)
    again = make_task("embedded_reber", train_size=30, test_size=20, data_seed=4)
    assert again.test_strings == lazy.test_strings and again.train_strings == lazy.train_strings
