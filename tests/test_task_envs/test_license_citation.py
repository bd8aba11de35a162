"""LICENSE is the MIT text pyproject declares; CITATION.cff cites the MGSD paper and matches the package."""

import re
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[2]
PAPER = "Learning Visual Spatial Planning from Symbolic State via Modality-Gap-Aware Self-Distillation"


def top_level(cff: str) -> dict[str, str]:
    """``key: value`` lines at indentation 0 (enough for the fields checked here; no YAML library needed)."""
    return {m[1]: m[2].strip().strip('"') for m in re.finditer(r"^([a-z-]+):[ \t]*(.*)$", cff, re.M)}


def test_license_is_mit_with_the_project_copyright():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    text = (ROOT / "LICENSE").read_text()
    assert project["license"] == "MIT"
    assert text.startswith("MIT License\n")
    assert re.search(r"^Copyright \(c\) \d{4} the MGSD rebuild authors$", text, re.M)
    assert "Permission is hereby granted, free of charge" in text and 'THE SOFTWARE IS PROVIDED "AS IS"' in text


def test_citation_cites_the_paper_and_matches_the_package():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    cff = (ROOT / "CITATION.cff").read_text()
    fields = top_level(cff)
    assert fields["cff-version"] == "1.2.0"
    assert fields["version"] == project["version"]
    assert fields["license"] == project["license"]
    assert "preferred-citation" in fields
    preferred = cff.split("preferred-citation:", 1)[1]
    assert f'title: "{PAPER}"' in preferred
    assert "\t" not in cff
