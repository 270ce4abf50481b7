"""The frozen, validated configuration: TOML, overrides, messages."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from verbatim.config import (
    Config,
    FileSpec,
    IngestConfig,
    TextField,
    from_dict,
    load_config,
    replace_section,
    to_dict,
)
from verbatim.errors import ConfigError, UnknownSource, VerbatimError

TOML = """
seed = 7

[ingest]
date_required = true
date_order = "dayfirst"
max_text_chars = 500
sources = ["customer", "employee", "manager"]

[[ingest.files]]
path = "clients.csv"
source = "customer"
text = "commentaire"
date = "date"

[[ingest.files]]
path = "sub/staff.csv.gz"
source = "employee"
text = ["review_advantages:pros", {column = "review_disadvantages", tag = "cons"}]

[[ingest.files]]
path = "/abs/elsewhere.xlsx"
source_column = "origine"
text = ["avis"]
sheet = "Feuil2"
"""


def test_load_toml_resolves_paths_relative_to_the_file(tmp_path):
    d = tmp_path / "conf"
    d.mkdir()
    toml = d / "verbatim.toml"
    toml.write_text(TOML, encoding="utf-8")
    cfg = load_config(toml)
    assert cfg.seed == 7
    ic = cfg.ingest
    assert ic.date_required is True
    assert ic.date_order == "dayfirst"
    assert ic.max_text_chars == 500
    assert ic.sources == ("customer", "employee", "manager")
    assert [Path(f.path) for f in ic.files] == [d / "clients.csv", d / "sub" / "staff.csv.gz",
                                                Path("/abs/elsewhere.xlsx")]
    assert ic.files[0].text == (TextField("commentaire"),)
    assert ic.files[1].text == (TextField("review_advantages", "pros"), TextField("review_disadvantages", "cons"))
    assert ic.files[2].source_column == "origine" and ic.files[2].sheet == "Feuil2"


def test_defaults():
    cfg = load_config()
    assert cfg == Config()
    assert cfg.ingest.sources == ("customer", "employee")
    assert cfg.ingest.date_order == "auto"
    assert cfg.ingest.files == ()


def test_the_top_level_seed_drives_the_mirror_unless_the_mirror_sets_its_own():
    assert from_dict({"seed": 7}).mirror.seed == 7
    assert from_dict({"seed": 7, "mirror": {"n_bootstrap": 50}}).mirror.seed == 7
    assert from_dict({"seed": 7, "mirror": {"seed": 3}}).mirror.seed == 3
    cfg = from_dict({"seed": 7})
    assert from_dict(to_dict(cfg)) == cfg  # a saved configuration reads back the same


def test_missing_and_invalid_toml(tmp_path):
    with pytest.raises(ConfigError, match=r"config file '.*nope\.toml' does not exist; check the path given to --config"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("seed = = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"is not valid TOML"):
        load_config(bad)
    latin = tmp_path / "latin.toml"
    latin.write_bytes("seed = 1 # défaut\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"is not UTF-8 text; save it as UTF-8"):
        load_config(latin)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"sed": 1}, "unknown configuration key 'sed' (did you mean 'seed'?); known: "),
        ({"ingest": {"date_requird": True}},
         "[ingest] has an unknown key 'date_requird' (did you mean 'date_required'?); known keys: "
         "date_order, date_required, files, max_text_chars, negative_tags, positive_tags, sources"),
        ({"ingest": {"files": [{"path": "a.csv", "text": "t", "source": "customer", "delimitor": ";"}]}},
         "[[ingest.files]] has an unknown key 'delimitor' (did you mean 'delimiter'?); known keys: "),
    ],
)
def test_unknown_keys_did_you_mean(data, message):
    with pytest.raises(ConfigError) as ei:
        from_dict(data)
    assert str(ei.value).startswith(message)
    known = str(ei.value).split("known", 1)[1]
    assert "ingest" in known or "path" in known or "sources" in known


def test_unknown_key_in_toml_file(tmp_path):
    p = tmp_path / "v.toml"
    p.write_text("[ingest]\nmax_text_char = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown key 'max_text_char' \(did you mean 'max_text_chars'\?\)"):
        load_config(p)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"ingest": {"date_order": "daysfirst"}},
         "ingest.date_order must be one of 'auto', 'dayfirst', 'monthfirst'; got 'daysfirst'"),
        ({"ingest": {"files": [{"path": "a.csv", "text": "t", "source": "customer", "text_mode": "both"}]}},
         "file 'a.csv': text_mode must be one of 'combine', 'split'; got 'both'"),
        ({"ingest": {"files": [{"path": "a.csv", "text": "t", "source": "customer", "format": "xls"}]}},
         "file 'a.csv': format must be one of 'auto', 'csv', 'xlsx', 'parquet', 'json', 'jsonl'; got 'xls'"),
        ({"ingest": {"max_text_chars": 0}}, "ingest.max_text_chars must be a positive integer; got 0"),
        ({"ingest": {"max_text_chars": "many"}}, "ingest.max_text_chars must be a number; got 'many'"),
        ({"ingest": {"date_required": "yes"}}, "ingest.date_required must be true or false; got 'yes'"),
        ({"ingest": {"sources": "customer"}}, "ingest.sources must be a list; got 'customer'"),
        ({"ingest": {"sources": ["Customer Care"]}},
         "ingest.sources entries must be lowercase names (letters, digits, '-', '_'); got 'Customer Care'"),
        ({"ingest": 3}, "[ingest] must be a table; got 3"),
        ({"ingest": {"files": 3}}, "ingest.files must be a list; got 3"),
        ({"ingest": {"files": ["a.csv"]}}, "each [[ingest.files]] entry must be a table; got 'a.csv'"),
        ({"ingest": {"files": [{"path": "a.csv", "source": "customer"}]}},
         "each [[ingest.files]] entry needs path and text; got keys ['path', 'source']"),
        ({"ingest": {"files": [{"path": "a.csv", "text": "t"}]}},
         "file 'a.csv': give exactly one of source (a label such as 'customer') or source_column"),
        ({"ingest": {"files": [{"path": "a.csv", "text": [], "source": "customer"}]}},
         "file 'a.csv': no text column given; name one with --text COLUMN or text = [\"COLUMN\"]"),
        ({"ingest": {"files": [{"path": "a.csv", "text": 5, "source": "customer"}]}},
         "file 'a.csv': text must be a column name or a list of them; got 5"),
        ({"ingest": {"files": [{"path": "a.csv", "text": "t", "source": "customer", "date": 3}]}},
         "file 'a.csv': date must be text; got 3"),
        ({"ingest": {"files": [{"path": "a.csv", "text": "t", "source": "customer", "delimiter": ":"}]}},
         "file 'a.csv': delimiter must be one of ',', ';', '\\t', '|'; got ':'"),
        ({"seed": -1}, "seed must be a non-negative integer; got -1"),
        ({"embed": {"workers": 0}}, "embed.workers must be 'auto' or a positive integer; got 0"),
        ({"mirror": {"variation_filter": 0}}, "mirror.variation_filter must be in (0, 1] (1: no filter); got 0"),
        ({"embed": {"workers": "all"}}, "embed.workers must be 'auto' or a positive integer; got 'all'"),
    ],
)
def test_validation_messages(data, message):
    with pytest.raises(ConfigError) as ei:
        from_dict(data)
    assert str(ei.value) == message
    assert isinstance(ei.value, VerbatimError) and ei.value.exit_code == 2


def test_overrides():
    cfg = Config()
    new = cfg.with_overrides(ingest={"date_required": True, "sources": ["customer", "employee", "manager"]})
    assert new.ingest.date_required is True
    assert new.ingest.sources == ("customer", "employee", "manager")
    assert cfg.ingest.date_required is False  # the original is untouched
    assert new.ingest.max_text_chars == cfg.ingest.max_text_chars
    with pytest.raises(ConfigError, match="must be one of"):
        cfg.with_overrides(ingest={"date_order": "sideways"})
    cfg2 = load_config(None, seed=3, ingest={"max_text_chars": 20})
    assert cfg2.seed == 3 and cfg2.ingest.max_text_chars == 20
    cfg3 = replace_section(cfg, "ingest", date_required=True)
    assert cfg3.ingest.date_required is True
    with pytest.raises(ConfigError):
        replace_section(cfg, "ingest", date_order="nope")


def test_overrides_on_top_of_toml(tmp_path):
    p = tmp_path / "v.toml"
    p.write_text(TOML, encoding="utf-8")
    cfg = load_config(p, ingest={"max_text_chars": 42})
    assert cfg.ingest.max_text_chars == 42
    assert cfg.ingest.date_required is True  # from the file
    assert len(cfg.ingest.files) == 3


def test_round_trip_through_plain_data(tmp_path):
    p = tmp_path / "v.toml"
    p.write_text(TOML, encoding="utf-8")
    cfg = load_config(p)
    assert from_dict(to_dict(cfg)) == cfg
    assert cfg.with_overrides() == cfg


def test_frozen():
    cfg = Config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.seed = 1  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.ingest.date_required = True  # type: ignore[misc]
    spec = FileSpec(path="a.csv", text=("t",), source="customer")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.path = "b.csv"  # type: ignore[misc]
    assert isinstance(cfg.ingest.sources, tuple)


def test_text_field_parse():
    assert TextField.parse("cons") == TextField("cons", None)
    assert TextField.parse("review_disadvantages:cons") == TextField("review_disadvantages", "cons")
    assert TextField.parse("a:b:cons") == TextField("a:b", "cons")
    assert TextField.parse("trailing:") == TextField("trailing:", None)
    assert TextField.parse({"column": "x", "tag": "pros"}).label == "pros"
    assert TextField.parse("x").label == "x"
    with pytest.raises(ConfigError, match="a text entry must be a column name or"):
        TextField.parse({"col": "x"})


@pytest.mark.parametrize(
    "label, expected",
    [("customer", "customer"), ("Clients", "customer"), (" client ", "customer"), ("salariés", "employee"),
     ("Employé", "employee"), ("staff", "employee"), ("EMPLOYEE", "employee")],
)
def test_source_aliases(label, expected):
    assert IngestConfig().canonical_source(label) == expected


def test_unknown_source_message():
    with pytest.raises(UnknownSource) as ei:
        IngestConfig().canonical_source("custmer")
    assert str(ei.value) == (
        "source 'custmer' is not a known source; known: customer, employee (did you mean 'customer'?). "
        "To compare another group, declare it with --allow-source custmer or sources = [...] in [ingest]"
    )
    assert IngestConfig(sources=("customer", "employee", "manager")).canonical_source("Manager") == "manager"


def test_a_saved_configuration_keeps_how_it_was_fitted_for_settings_it_predates():
    from verbatim.config import from_saved, to_dict

    old = to_dict(Config())
    del old["segment"]["merge_content_free"]  # an artefact saved before the setting existed
    assert from_saved(old).segment.merge_content_free is False
    assert from_saved(to_dict(Config())).segment.merge_content_free is True
    assert old["segment"] == {k: v for k, v in to_dict(Config())["segment"].items() if k != "merge_content_free"}
