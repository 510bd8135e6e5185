"""python -m srlib reproduce: results.json, RESULTS.md rendered from it, skipped datasets, staleness."""

import json

import pytest

from srlib import evaluate, reproduce, train, zoo


@pytest.fixture(scope="module")
def empty_data(tmp_path_factory):
    """SRLIB_DATA and SRLIB_MIRROR pointing at empty folders: no registered file dataset is available."""
    root = tmp_path_factory.mktemp("no_data")
    (root / "data").mkdir()
    (root / "mirror").mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SRLIB_DATA", str(root / "data"))
        patch.setenv("SRLIB_MIRROR", str(root / "mirror"))
        yield root


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("runs") / "espcn_x3"
    train.train("espcn", 3, minutes=5, run_dir=run_dir, quick=True, validation="embedded",
                command="python -m srlib train --quick")
    directory = tmp_path_factory.mktemp("checkpoints")
    train.publish("espcn", 3, run_dir=run_dir, directory=directory, datasets_to_report=("embedded",))
    return directory


@pytest.fixture(scope="module")
def reproduced(checkpoints, empty_data, tmp_path_factory):
    output = tmp_path_factory.mktemp("output")
    results = reproduce.reproduce(datasets=("embedded", "Urban100"), scales=(2, 3), checkpoints_dir=checkpoints,
                                  output_dir=output, progress=False)
    return results, output


def test_rows_for_every_fir_method_and_the_trained_model(reproduced, checkpoints):
    results, output = reproduced
    assert results == json.loads((output / "results.json").read_text())
    rows = {(row["dataset"], row["scale"], row["method"]): row for row in results["rows"]}
    for scale in (2, 3):
        for method in evaluate.FIR_METHODS:
            row = rows[("embedded", scale, method)]
            assert row["kind"] == "fir" and row["images"] == 5 and row["parameters"] == 0
    assert ("embedded", 2, "espcn_x3") not in rows  # a x3 model is evaluated at x3 only
    trained = rows[("embedded", 3, "espcn_x3")]
    entry = zoo.read_manifest(checkpoints)["models"]["espcn_x3"]
    assert trained["kind"] == "trained" and trained["sha256"] == entry["sha256"]
    assert trained["parameters"] == entry["parameters"]
    assert trained["training"]["data"] == ["embedded"]
    assert trained["training"]["optimizer_steps"] == entry["training"]["optimizer_steps"]
    assert trained["training"]["command"] == "python -m srlib train --quick"
    assert {"wall_time_minutes", "machine"} <= set(trained["training"])
    # the checkpoint measured now reproduces what publish measured
    assert trained["psnr_y"] == pytest.approx(entry["results"]["embedded_x3"]["psnr_y"], abs=1e-3)
    bicubic = rows[("embedded", 2, "bicubic")]
    assert bicubic["psnr_y"] == pytest.approx(evaluate.evaluate("bicubic", "embedded", 2).psnr_y, abs=1e-9)
    assert bicubic["published_psnr_y"] is None and bicubic["difference"] is None  # no paper reports "embedded"
    assert bicubic["published_ssim_y"] is None
    assert results["protocol"] == evaluate.PROTOCOL and results["date"] and results["machine"]


def test_results_md_is_rendered_from_the_json(reproduced):
    results, output = reproduced
    markdown = (output / "RESULTS.md").read_text()
    assert markdown == reproduce.render_markdown(json.loads((output / "results.json").read_text()))
    assert markdown == reproduce.render_markdown(output / "results.json")
    assert markdown.count(evaluate.PROTOCOL) == 1
    assert "python -m srlib reproduce" in markdown and "do not edit" in markdown
    assert "## embedded x2" in markdown and "## embedded x3" in markdown
    assert "| method | published PSNR | ours | difference | published SSIM | ours SSIM | training budget |" in markdown
    assert "quick mode" in markdown
    table = reproduce.readme_table(results)
    assert "espcn_x3" in table and "bicubic" in table and "lanczos3" not in table


def test_readme_table_names_the_published_row_of_each_number():
    def row(method, kind, psnr, published, published_method, model=None):
        return {"dataset": "Set5", "scale": 4, "method": method, "kind": kind, "model": model, "psnr_y": psnr,
                "ssim_y": 0.8, "published_psnr_y": published, "difference": round(psnr - published, 3),
                "published_ssim_y": evaluate.published_ssim(published_method, "Set5", 4),
                "published_method": published_method}
    results = {"date": "2026-11-22", "rows": [row("bicubic", "fir", 28.42, 28.42, "bicubic"),
                                              row("srgan_x4", "trained", 28.19, 30.64, "srgan_mse", "srgan")]}
    table = reproduce.readme_table(results)
    assert "| Set5 | x4 | srgan_x4 | 30.64 (srgan_mse) | 28.19 | -2.45 | - / 0.8000 |" in table
    assert "| Set5 | x4 | bicubic | 28.42 | 28.42 | +0.00 | 0.8104 / 0.8000 |" in table
    assert "- srgan_mse: Ledig et al. 2017, Table 1" in table and "- bicubic: MATLAB imresize" in table


def test_missing_dataset_is_listed_as_skipped(reproduced):
    results, output = reproduced
    assert [skipped["dataset"] for skipped in results["skipped"]] == ["Urban100"]
    assert "Urban100 not found" in results["skipped"][0]["reason"]
    assert not [row for row in results["rows"] if row["dataset"] == "Urban100"]
    markdown = (output / "RESULTS.md").read_text()
    skipped_section = markdown.split("## Skipped datasets")[1]
    assert "**Urban100**" in skipped_section and "not found" in skipped_section


def test_figure_is_written_and_referenced(reproduced):
    results, output = reproduced
    assert results["figure"] == reproduce.FIGURE
    assert (output / reproduce.FIGURE).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"]({reproduce.FIGURE})" in (output / "RESULTS.md").read_text()


def test_check_up_to_date_flags_stale_results(reproduced, checkpoints):
    results, output = reproduced
    manifest = zoo.read_manifest(checkpoints)
    # Urban100 was skipped: the table lacks its rows, which --check says until it is measured.
    assert reproduce.check_up_to_date(output / "results.json", checkpoints, output / "RESULTS.md") == [
        "results.json has no rows for Urban100, which was not available: rerun python -m srlib reproduce where it is"]
    assert reproduce.main_check(output, checkpoints) == 1
    complete = {**results, "skipped": []}
    assert reproduce.check_up_to_date(complete, checkpoints, reproduce.render_markdown(complete)) == []

    without_a_row = {**complete, "rows": [row for row in results["rows"]
                                          if (row["method"], row["scale"]) != ("espcn_x3", 3)]}
    assert reproduce.check_up_to_date(without_a_row, manifest) == [
        "espcn_x3 x3 has no row for embedded: rerun python -m srlib reproduce"]

    changed = json.loads(json.dumps(manifest))
    changed["models"]["espcn_x3"]["sha256"] = "0" * 64
    problems = reproduce.check_up_to_date(results, changed)
    assert any("espcn_x3" in problem and "sha256" in problem for problem in problems)

    added = json.loads(json.dumps(manifest))
    added["models"]["srcnn_x3"] = {**added["models"]["espcn_x3"], "model": "srcnn"}
    problems = reproduce.check_up_to_date(results, added)
    assert any("srcnn_x3" in problem and "not in results.json" in problem for problem in problems)

    removed = {"models": {}}
    assert any("no longer in the manifest" in problem for problem in reproduce.check_up_to_date(results, removed))

    edited = (output / "RESULTS.md").read_text().replace("## embedded x2", "## embedded x2 (edited)")
    assert any("RESULTS.md" in problem for problem in reproduce.check_up_to_date(results, manifest, edited))


def test_main_returns_an_exit_status_and_keeps_the_last_results(checkpoints, empty_data, tmp_path, capsys):
    (tmp_path / "results.json").write_text("the last good results")
    assert reproduce.main(datasets=("Urban100",), scales=(2,), output_dir=tmp_path, checkpoints_dir=checkpoints,
                          progress=False) == 1
    assert "no dataset could be evaluated, nothing was written (Urban100: " in capsys.readouterr().out
    assert (tmp_path / "results.json").read_text() == "the last good results"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["results.json"]
    assert reproduce.main_check(tmp_path / "elsewhere", checkpoints) == 1
    assert reproduce.main_check(tmp_path, checkpoints) == 1  # no RESULTS.md
    assert "RESULTS.md not found" in capsys.readouterr().out


def test_rows_of_a_dataset_missing_here_are_not_dropped_without_allow_partial(checkpoints, empty_data, tmp_path,
                                                                              capsys):
    earlier = json.dumps({"rows": [{"dataset": "Urban100", "scale": 2, "method": "bicubic", "psnr_y": 23.14}]})
    (tmp_path / "results.json").write_text(earlier)
    arguments = dict(datasets=("embedded", "Urban100"), scales=(2,), output_dir=tmp_path, checkpoints_dir=checkpoints,
                     progress=False)
    assert reproduce.main(**arguments) == 1
    assert "Urban100 could not be evaluated here" in capsys.readouterr().out
    assert (tmp_path / "results.json").read_text() == earlier
    assert sorted(path.name for path in tmp_path.iterdir()) == ["results.json"]

    assert reproduce.main(**arguments, allow_partial=True) == 0
    assert [skipped["dataset"] for skipped in json.loads((tmp_path / "results.json").read_text())["skipped"]] == [
        "Urban100"]


def test_a_misspelt_dataset_is_an_error_not_a_skipped_set(checkpoints, tmp_path):
    with pytest.raises(ValueError, match="unknown dataset 'Sett5'"):
        reproduce.reproduce(datasets=("Sett5",), scales=(2,), checkpoints_dir=checkpoints, output_dir=tmp_path,
                            progress=False)
    assert not list(tmp_path.iterdir())


def _row_with_training(**record):
    base = {"data": ["T91", "BSD200"], "optimizer_steps": 327_000, "wall_time_minutes": 115.3, "machine": "CPU"}
    base.update(record)
    base["earlier_stages"] = reproduce._earlier_stages(base)
    return {"training": base}


def test_budget_names_the_data_and_steps_of_the_weights_a_run_started_from():
    row = _row_with_training(started_from={"data": ["T91"], "optimizer_steps": 108_500, "wall_time_minutes": 60.2,
                                           "key": "fsrcnn_x3"})
    budget = reproduce._budget(row)
    assert budget.startswith("T91+BSD200, 327,000 steps, 115.3 min on CPU; ")
    assert "the first 108,500 steps, 60.2 min, on T91 (fsrcnn_x3)" in budget


def test_budget_says_a_gan_pretraining_is_not_in_its_totals():
    row = _row_with_training(optimizer_steps=1_300, wall_time_minutes=47.2,
                             pretrained={"step": 8_000, "wall_time_minutes": 93.2, "run_dir": "srresnet_x4"})
    assert "after 8,000 steps, 93.2 min of pretraining (run srresnet_x4), not counted here" in reproduce._budget(row)
    assert reproduce._earlier_stages({"data": ["T91"]}) is None


def test_update_readme_replaces_only_the_marked_section(reproduced, tmp_path):
    results, output = reproduced
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\nbefore\n{reproduce.README_START}\nold table\n{reproduce.README_END}\nafter\n")
    reproduce.update_readme(output / "results.json", readme)
    text = readme.read_text()
    assert text.startswith("# Title\nbefore\n") and text.endswith(f"{reproduce.README_END}\nafter\n")
    assert "old table" not in text and reproduce.readme_table(results).strip() in text
    unmarked = tmp_path / "NOTES.md"
    unmarked.write_text("no markers here\n")
    reproduce.update_readme(output / "results.json", unmarked)  # a README without the section is left alone
    assert unmarked.read_text() == "no markers here\n"


def test_machine_description_names_the_cpu_and_what_decides_its_speed(tmp_path, monkeypatch):
    monkeypatch.setattr(zoo.resize, "_onednn_enabled", lambda: False)
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: AMD EPYC 9R45\nflags\t\t: fpu avx avx2 avx512f avx512_bf16\n"
                       "processor\t: 1\nmodel name\t: AMD EPYC 9R45\nflags\t\t: fpu avx avx2 avx512f avx512_bf16\n")
    assert "cores (AMD EPYC 9R45, AVX-512, bfloat16, oneDNN off), TensorFlow" in zoo.machine_description(cpuinfo)
    cpuinfo.write_text("processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu avx avx2 fma\n")
    assert "cores (AMD EPYC, AVX2, oneDNN off), TensorFlow" in zoo.machine_description(cpuinfo)
    assert "cores, TensorFlow" in zoo.machine_description(tmp_path / "missing")
