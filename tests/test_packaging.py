"""The data folders are shipped inside the wheel: `pip install .` alone has every instrument and population."""

import subprocess
import sys
import zipfile

from support.studies import ROOT


def test_wheel_contains_data_and_schemas(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True)
    wheel = next(tmp_path.glob("silicon_sample-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        "silicon_sample/_data/instruments/bfi25.yaml",
        "silicon_sample/_data/populations/psych_bfi.yaml",
        "silicon_sample/_data/populations/us_adults_agesex2020.yaml",
        "silicon_sample/_data/templates/personas/profile_list.j2",
        "silicon_sample/_data/templates/prompts/questionnaire.yaml",
        "silicon_sample/_data/studies/pilot_bfi.yaml",
        "silicon_sample/_data/human_baselines/psych_bfi.yaml",
        "silicon_sample/_data/instruments/gss_spending.yaml",
        "silicon_sample/specs/schemas/human_baseline.schema.json",
        "silicon_sample/specs/schemas/instrument.schema.json",
        "silicon_sample/specs/schemas/study.schema.json",
    }
    assert expected <= names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "silicon-sample = silicon_sample.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_installed_wheel_finds_shipped_files_without_the_checkout(tmp_path):
    wheel_dir, target = tmp_path / "wheel", tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(wheel_dir), str(ROOT)], check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
                    str(next(wheel_dir.glob("*.whl")))], check=True, capture_output=True)
    code = ("import silicon_sample, silicon_sample.specs.resources as r, silicon_sample.specs.instruments as i, "
            "silicon_sample.population.populations as p; "
            "print(silicon_sample.__file__); print(r.data_dir('instruments')); "
            "print(len(i.load('bfi25').items), p.load('psych_bfi').id)")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}, check=True).stdout.split("\n")
    assert out[0].startswith(str(target))
    assert out[1] == str(target / "silicon_sample" / "_data" / "instruments")
    assert out[2] == "25 psych_bfi"
