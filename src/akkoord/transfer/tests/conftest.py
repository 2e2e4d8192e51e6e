from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture
def data_dir():
    return DATA


@pytest.fixture
def write_csv(tmp_path):
    def write(name: str, text: str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(text, str):
            path.write_text(text, encoding="utf-8")
        else:
            path.write_bytes(text)
        return path

    return write
