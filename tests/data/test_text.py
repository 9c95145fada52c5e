"""Text loading, the character vocabulary and the train/val split."""

import sysconfig

import numpy as np
import pytest

import tinygen as tg
from tinygen.data import DEFAULT_TEXT_FILES, CharVocab, load_text, split_ids
from tinygen.data import text as text_module


def test_default_text_is_the_stdlib_selection():
    text = load_text()
    assert 500_000 < len(text) < 3_000_000
    stdlib = sysconfig.get_paths()["stdlib"]
    with open(f"{stdlib}/{DEFAULT_TEXT_FILES[0]}", encoding="utf-8") as f:
        assert text.startswith(f.read())
    assert "def dedent(" in text and "class ArgumentParser" in text


def test_missing_stdlib_sources_name_the_way_out(monkeypatch):
    monkeypatch.setattr(text_module, "DEFAULT_TEXT_FILES", ("textwrap.py", "no_such_module.py"))
    with pytest.raises(FileNotFoundError, match="lacks no_such_module.py.*--text PATH"):
        load_text()


def test_load_text_file(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("héllo wörld\n", encoding="utf-8")
    assert load_text(path) == "héllo wörld\n"
    assert load_text(str(path)) == "héllo wörld\n"


@pytest.mark.parametrize("content, error, message", [
    (b"", ValueError, "empty"),
    (b"caf\xe9", ValueError, "not UTF-8"),
])
def test_load_text_bad_files(tmp_path, content, error, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(error, match=message):
        load_text(path)
    with pytest.raises(FileNotFoundError, match="text file not found"):
        load_text(tmp_path / "missing.txt")


def test_vocab_round_trip():
    text = "hello, wörld! 🙂 \n\ttabs"
    vocab = CharVocab(text)
    assert vocab.chars == "".join(sorted(set(text))) and vocab.size == len(vocab) == 18
    ids = vocab.encode(text)
    assert ids.dtype == np.int64 and ids.shape == (len(text),)
    assert [vocab.chars[i] for i in ids] == list(text)
    assert vocab.decode(ids) == text
    assert vocab.decode(ids.tolist()) == text
    assert vocab.decode(tg.tensor(ids)) == text
    assert vocab.decode([]) == "" and vocab.encode("").shape == (0,)


def test_from_chars_keeps_ids_of_a_checkpoint():
    saved = "zyx ab"            # any order: id i is chars[i]
    vocab = CharVocab.from_chars(saved)
    assert vocab.encode("abz").tolist() == [4, 5, 0]
    assert vocab.decode([2, 1, 0]) == "xyz"
    original = CharVocab(load_text()[:20000])
    rebuilt = CharVocab.from_chars(original.chars)
    sample = load_text()[:20000]
    np.testing.assert_array_equal(rebuilt.encode(sample), original.encode(sample))
    with pytest.raises(ValueError, match="distinct"):
        CharVocab.from_chars("aab")


def test_vocab_errors():
    vocab = CharVocab("abc")
    with pytest.raises(ValueError, match=r"not in the vocabulary: 'dz'"):
        vocab.encode("abzdz")
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        vocab.decode([0, 3])
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        vocab.decode([-1])
    with pytest.raises(TypeError, match="integers"):
        vocab.decode(np.array([0.5]))
    with pytest.raises(ValueError, match="non-empty"):
        CharVocab("")


def test_split_ids():
    ids = np.arange(100)
    train, val = split_ids(ids)
    assert train.tolist() == list(range(90)) and val.tolist() == list(range(90, 100))
    train, val = split_ids(ids, val_fraction=0.25)
    assert len(train) == 75 and len(val) == 25
    for bad in (0, 1, -0.1):
        with pytest.raises(ValueError, match="strictly between"):
            split_ids(ids, bad)
    with pytest.raises(ValueError, match="too few"):
        split_ids(np.arange(3), 0.1)
