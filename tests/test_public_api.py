from __future__ import annotations

import importer
import importer.errors


def test_all_lists_every_public_name_and_nothing_missing() -> None:
    public = {name for name in vars(importer) if not name.startswith("_")}
    modules = {name for name, value in vars(importer).items() if type(value) is type(importer)}
    assert set(importer.__all__) == public - modules
    for name in importer.__all__:
        assert getattr(importer, name) is not None


def test_every_error_class_is_exported() -> None:
    errors = {
        name
        for name, value in vars(importer.errors).items()
        if isinstance(value, type) and issubclass(value, Exception)
    }
    assert errors <= set(importer.__all__)
