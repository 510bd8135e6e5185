"""The committed RESULTS.md, results.json and README table describe the shipped checkpoints.

After retraining or publishing new weights, `python -m srlib reproduce --datasets Set5 Set14
--scales 2 3 4` regenerates all three; this test fails until it has been run.
"""

from pathlib import Path

import pytest

from srlib import reproduce, zoo

ROOT = Path(__file__).parents[1]


@pytest.fixture
def results_json():
    path = ROOT / reproduce.RESULTS_JSON
    if not path.is_file():
        pytest.fail(f"{path} is missing: run python -m srlib reproduce")
    return path


def test_results_match_the_manifest(results_json):
    assert reproduce.check_up_to_date(results_json, zoo.CHECKPOINTS, ROOT / reproduce.RESULTS_MD) == []


def test_readme_table_is_generated_from_results(results_json):
    readme = (ROOT / "README.md").read_text()
    assert reproduce.readme_with_results(readme, results_json) == readme


def test_bicubic_rows_match_the_published_protocol_numbers(results_json):
    import json

    rows = json.loads(results_json.read_text())["rows"]
    bicubic = {(r["dataset"], r["scale"]): r for r in rows if r["method"] == "bicubic"}
    for scale in (2, 3, 4):
        assert abs(bicubic["Set5", scale]["difference"]) <= 0.02
        assert abs(bicubic["Set14", scale]["difference"]) <= 0.1
