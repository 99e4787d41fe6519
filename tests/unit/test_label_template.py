"""Label templates: the shipped ones load; every mistake names the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.errors import TemplateError
from bench.labels.template import FIELDS, available_templates, load_template, parse_template

SHIPPED = ("58mm", "80mm", "40x30mm")


def test_shipped_templates_load() -> None:
    assert set(SHIPPED) <= set(available_templates())
    widths = {name: load_template(name).width for name in SHIPPED}
    assert widths == {"58mm": 384, "80mm": 576, "40x30mm": 320}
    small = load_template("40x30mm")
    assert (small.mode, small.height, small.font) == ("raster", 240, "b")
    assert load_template("58mm").columns((1, 1)) == 32 and load_template("80mm").columns((2, 2)) == 24


def _tpl(**blocks) -> dict:
    return {"name": "t", "width": 384, "block": [{"type": "text", "text": "{asset_tag}", **blocks}]}


@pytest.mark.parametrize(
    "data, key, words",
    [
        (_tpl(text="Model {modle}"), "block[0].text", "unknown field {modle}"),
        (_tpl(text="{model.__class__}"), "block[0].text", "unknown field"),
        (_tpl(text="{}"), "block[0].text", "unknown field {}"),
        (_tpl(text="{model:%}"), "block[0].text", "cannot be filled in"),
        (_tpl(text="{model"), "block[0].text", "bad braces"),
        (_tpl(size="huge"), "block[0].size", "unknown size 'huge'"),
        (_tpl(size="9x1"), "block[0].size", "unknown size"),
        (_tpl(size=2), "block[0].size", "must be a string"),
        (_tpl(align="middle"), "block[0].align", "left, center, right"),
        (_tpl(colour="red"), "block[0].colour", "unknown key"),
        (_tpl(bold="yes"), "block[0].bold", "true or false"),
        ({"name": "t", "width": 384, "block": [{"type": "picture"}]}, "block[0].type", "must be one of"),
        ({"name": "t", "width": 384, "block": [{"type": "qr", "module": 40}]}, "block[0].module", "1..16"),
        ({"name": "t", "width": 384, "block": [{"type": "barcode", "height": 2}]}, "block[0].height", "8..255"),
        ({"name": "t", "width": 384, "block": [{"type": "qr", "position": "right"}]}, "block[0].position", "raster"),
        ({"name": "t", "block": [{"type": "rule"}]}, "width", "missing"),
        ({"name": "t", "width": 384, "paper": "a4", "block": [{"type": "rule"}]}, "paper", "unknown key"),
        ({"name": "t", "width": 384, "mode": "vector", "block": [{"type": "rule"}]}, "mode", "text or raster"),
        ({"name": "t", "width": 384}, "block", "no [[block]]"),
        ({"name": "t", "width": 50, "block": [{"type": "rule"}]}, "width", "96..2048"),
    ],
)
def test_errors_name_file_and_key(data: dict, key: str, words: str) -> None:
    with pytest.raises(TemplateError) as err:
        parse_template(data, "bad.toml")
    assert err.value.message.startswith(f"bad.toml: {key}: ") or err.value.message.startswith(f"bad.toml: {key} ")
    assert words in err.value.message
    assert err.value.hint


def test_unknown_name_lists_known_templates(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text('width = 384\n[[block]]\ntype = "rule"\n')
    with pytest.raises(TemplateError) as err:
        load_template("nope", (tmp_path,))
    assert "mine" in err.value.hint
    assert load_template("mine", (tmp_path,)).name == "mine"


def test_broken_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("width = \n")
    with pytest.raises(TemplateError, match=r"broken\.toml: not valid TOML"):
        load_template(str(path))


def test_every_field_is_a_labelfields_attribute() -> None:
    from bench.labels.content import LabelFields

    assert set(FIELDS) == set(LabelFields.__dataclass_fields__)
