# SPDX-License-Identifier: MIT OR Apache-2.0
"""Errors carry the library's code, status name and full message; the library is found as
documented."""

import os
import pickle
import subprocess
import sys

import pytest

import senti


def test_a_missing_file_is_an_io_error(tmp_path):
    missing = tmp_path / "no-such-model.safetensors"
    with pytest.raises(senti.IoError) as e:
        senti.load(missing)
    err = e.value
    assert isinstance(err, senti.SentiError)
    assert err.code == 6 and err.status == "SENTI_ERR_IO" == senti.status_name(6)
    assert str(missing) in err.message
    assert str(err) == f"SENTI_ERR_IO: {err.message}"


def test_a_damaged_model_file(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}")
    with pytest.raises(senti.ModelFileError) as e:
        senti.load(bad)
    assert e.value.code == 8 and e.value.status == "SENTI_ERR_MODEL_FILE" and e.value.message


def test_a_bad_parameter_name_and_value():
    with pytest.raises(senti.SentiError) as e:
        senti.Params(hiden_size=16)
    assert type(e.value) is senti.ConfigError
    assert (e.value.code, e.value.status) == (5, "SENTI_ERR_CONFIG")
    assert "hiden_size" in e.value.message
    with pytest.raises(senti.ConfigError) as e:
        senti.Params(dropout=1.5)
    assert "dropout" in e.value.message
    with pytest.raises(senti.ConfigError) as e:
        senti.Params(bidirectional="yes")  # a string for a bool field
    assert "bidirectional" in e.value.message


def test_invalid_utf8_and_nul_bytes(model):
    with pytest.raises(senti.InvalidUtf8Error) as e:
        model.predict(b"caf\xff")
    assert e.value.code == 4
    with pytest.raises(senti.InvalidUtf8Error):
        model.predict("lone \ud800 surrogate")
    with pytest.raises(senti.InvalidArgumentError) as e:
        senti.load("a\0b")
    assert e.value.status == "SENTI_ERR_INVALID_ARGUMENT" and "NUL" in e.value.message
    with pytest.raises(TypeError):
        model.predict(42)
    with pytest.raises(TypeError):
        model.predict_batch("one text, not a list")


def test_dataset_errors():
    with pytest.raises(senti.InvalidArgumentError) as e:
        senti.Dataset(labels=["only"])
    assert "two" in e.value.message
    ds = senti.Dataset(labels=["a", "b"])
    with pytest.raises(senti.InvalidArgumentError):
        ds.add("text", "c")  # not declared
    with pytest.raises(senti.InvalidArgumentError):
        ds.add_texts(["x", "y"], [0, 5])  # index past the labels
    assert len(ds) == 0  # nothing added by refused calls
    ds.add("text", 1)
    assert len(ds) == 1
    with pytest.raises(TypeError):
        ds.extend(["not a pair"])
    ds.close()
    ds.close()
    with pytest.raises(senti.InvalidHandleError):
        len(ds)
    with pytest.raises(senti.DataError) as e:
        senti.train([("a b", "x"), ("c d", "x")], epochs=1)
    assert "one class" in e.value.message


def test_error_classes_come_from_the_library():
    assert senti.errors.STATUS_CODES["SENTI_OK"] == 0
    for name, code in senti.errors.STATUS_CODES.items():
        assert senti.status_name(code) == name
        if code:
            cls = senti.error_class(code)
            assert cls is senti.error_class(name) and issubclass(cls, senti.SentiError)
            err = senti.SentiError(code, "why")
            assert type(err) is cls and err.code == code and err.status == name
    assert senti.status_name(999) == "SENTI_UNKNOWN_STATUS"
    unknown = senti.SentiError(999, "from the future")
    assert type(unknown) is senti.SentiError and unknown.status == "SENTI_UNKNOWN_STATUS"
    err = pickle.loads(pickle.dumps(senti.SentiError(5, "msg")))
    assert type(err) is senti.ConfigError and err.message == "msg" and err.code == 5


def _import_with(env_value, code="import senti; print(senti.library_path())", **extra):
    env = dict(os.environ, **extra)
    env.pop("SENTI_LIBRARY", None)
    if env_value is not None:
        env["SENTI_LIBRARY"] = env_value
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)


def test_senti_library_is_used_and_a_bad_one_is_reported(tmp_path):
    good = _import_with(senti.library_path())
    assert good.returncode == 0, good.stderr
    assert good.stdout.strip() == senti.library_path()
    missing = str(tmp_path / "libnothing.so")
    bad = _import_with(missing)
    assert bad.returncode != 0
    assert "ImportError" in bad.stderr and "SENTI_LIBRARY" in bad.stderr and missing in bad.stderr
    assert senti.library_version_number() // 10000 == 0


def test_without_senti_library_the_loader_search_finds_it():
    found = _import_with(None, LD_LIBRARY_PATH=os.path.dirname(senti.library_path()))
    assert found.returncode == 0, found.stderr
    assert "senti" in found.stdout


# Makes the library report another major version (1.0.0) before the binding checks it.
_OTHER_MAJOR = """
import ctypes
real = ctypes.CDLL
def fake(*args, **kwargs):
    lib = real(*args, **kwargs)
    lib.senti_version_number = lambda: 10000
    return lib
ctypes.CDLL = fake
import senti
"""


def test_a_library_of_another_major_version_is_refused():
    other = _import_with(senti.library_path(), code=_OTHER_MAJOR)
    assert other.returncode != 0
    assert "ImportError" in other.stderr and "major version 0" in other.stderr, other.stderr
