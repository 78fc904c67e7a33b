"""The HTML report, checked in a real browser (Debian's chromium, headless): every section present, no
broken image, no console error, a screenshot kept; and checked offline: no external URL anywhere."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

import silicon_sample as ss
from silicon_sample.report.html_report import SECTIONS

from support.studies import cli, write_study

CHECK = """<script>
window.addEventListener("load", () => {
  const images = Array.from(document.images);
  const result = {images: images.length,
                  broken: images.filter(i => !i.complete || i.naturalWidth === 0).length,
                  sections: Array.from(document.querySelectorAll("section")).map(s => s.id),
                  figures_per_section: Object.fromEntries(Array.from(document.querySelectorAll("section")).map(
                      s => [s.id, s.querySelectorAll("img").length]))};
  const out = document.createElement("pre"); out.id = "check"; out.textContent = JSON.stringify(result);
  document.body.appendChild(out);
});
</script>"""


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "chromium is missing: `make test` installs it (apt-get install chromium)"
    return path


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A loopback run of 20 personas × bfi25, a small bayes fit, and the report of both against psych::bfi."""
    from silicon_sample.throughput.loopback import LoopbackServer

    folder = tmp_path_factory.mktemp("report")
    with LoopbackServer(delay=0.0) as server:
        study = write_study(folder, n=20, models=[{"id": "lb", "backend": "openai", "model": "loopback",
                                                   "options": {"base_url": server.url}}])
        ss.run(study, folder / "run", fresh=True, progress=False)
    ss.bayes(folder / "run", "psych_bfi", "neuroticism", "gender", draws=40, tune=40, chains=1,
             max_respondents=40, output=folder / "bayes")
    result = cli("report", folder / "run", "--baseline", "psych_bfi", "--bayes", folder / "bayes", "--bootstrap",
                 "20", "--repetitions", "2", "-o", folder / "report.html")
    assert result.returncode == 0, result.stderr
    return folder / "report.html"


@pytest.mark.slow
def test_the_report_renders_in_a_browser_with_every_section_and_no_broken_image_or_console_error(report, tmp_path):
    page = tmp_path / "checked.html"
    page.write_text(report.read_text().replace("</body>", CHECK + "</body>"))
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000"]
    dom = subprocess.run([chromium(), *flags, "--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=180)
    found = re.search(r'<pre id="check">(.*?)</pre>', dom.stdout)
    assert found, dom.stderr[-2000:]
    check = json.loads(found.group(1).replace("&quot;", '"'))
    assert check["sections"] == list(SECTIONS)
    assert check["broken"] == 0 and check["images"] >= 7
    for section in ("composition", "status", "distributions", "fidelity", "patterns", "bayes"):
        assert check["figures_per_section"][section] >= 1, section
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert not console, console
    shot = tmp_path / "report.png"
    subprocess.run([chromium(), *flags, f"--screenshot={shot}", "--window-size=1200,3000", report.as_uri()],
                   capture_output=True, timeout=180)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_the_report_needs_nothing_from_the_network(report):
    text = report.read_text()
    for attribute in re.findall(r'(?:src|href)\s*=\s*["\']([^"\']*)["\']', text):
        assert attribute.startswith(("data:", "#")), attribute
    assert not re.search(r'url\(\s*["\']?(?:https?:)?//', text) and "@import" not in text
    assert "<script" not in text                          # a static page: nothing to run
    tables = text.count("<table")
    assert tables >= 6 and "Cronbach" in text and "Chen 2007" in text


def test_without_a_baseline_the_report_says_what_it_cannot_show(report, tmp_path):
    run = report.parent / "run"
    ss.report(run, tmp_path / "plain.html")
    text = (tmp_path / "plain.html").read_text()
    assert all(f'<section id="{s}">' in text for s in SECTIONS)
    assert text.count("no human baseline given") >= 5 and "One prompt as sent" in text


def test_no_sentence_of_the_report_is_missing_its_number_and_long_tables_are_collapsed(report):
    """Issue 26, part 3: what a co-author reads has no gap where a number belongs, no nan, and the long count
    tables behind a one-line summary."""
    text = re.sub(r"<[^>]+>", " ", report.read_text())
    text = re.sub(r"data:image/png;base64,\S+", "", text)
    assert not re.search(r"\bin of\b|\bnan%|\bof  ?them\b", text)
    assert re.search(r"every cell answered in every group \(\d+ groups\)|\d+ cells not answered across", text)
    assert "<details><summary>" in report.read_text()


def test_the_answer_distributions_are_drawn_from_the_items_table_beside_them(report, monkeypatch):
    """Each distribution figure takes its shares from its pair's items table: the comparison's own (weighted,
    per model–persona pair) with a baseline, the silicon side computed alike without one; never pooled over
    models, never unweighted."""
    import numpy as np
    import pandas as pd

    from silicon_sample.comparison.item_fidelity import option_distribution
    from silicon_sample.report import figures, html_report

    run_dir = report.parent / "run"
    drawn = []
    monkeypatch.setattr(figures, "distributions", lambda frame, title: drawn.append(frame) or figures.statuses(
        pd.DataFrame({"model": ["m"], "cells": [1], "status": ["answered"]})))
    base = ss.load_baseline("psych_bfi")
    tables = ss.compare(run_dir, base, invariance=False, anchors=False)
    view = html_report.run_view(run_dir, pd.DataFrame(), {}, tables)
    lines = []
    monkeypatch.setattr(figures, "scale_distributions",
                        lambda frame, title, means: lines.append(means) or figures.statuses(
                            pd.DataFrame({"model": ["m"], "cells": [1], "status": ["answered"]})))
    html_report._distributions(html_report.ReportInputs([view], base))
    scales = tables["scales"].droplevel(list(html_report.PAIR_COLUMNS))       # the comparison's own scales table
    drawn_means = lines[0].set_index(["scale", "source"])["mean"]
    for scale, row in scales.iterrows():
        assert drawn_means[(scale, "silicon")] == pytest.approx(row["mean_silicon"])
        assert drawn_means[(scale, "human")] == pytest.approx(row["mean_human"])
    items = tables["items"].droplevel(list(html_report.PAIR_COLUMNS))
    shares = drawn[0].set_index(["item", "source", "option"])["share"]
    for item, row in items.iterrows():
        for value in range(1, 7):
            assert shares[(item, "silicon", value)] == pytest.approx(row[f"p_silicon_{value}"])
            assert shares[(item, "human", value)] == pytest.approx(row[f"p_human_{value}"])

    # Without a baseline: a second model answering otherwise, and unequal weights, stay apart and weighted.
    rng = np.random.default_rng(3)
    long = view.long.copy()
    weights = dict(zip(long["persona_id"].unique(), rng.uniform(0.2, 3.0, long["persona_id"].nunique())))
    long["weight"] = long["persona_id"].map(weights)
    other = long.assign(model="other", answer=lambda f: 7 - f["answer"])
    view.long = pd.concat([long, other], ignore_index=True)
    drawn.clear()
    html_report._distributions(html_report.ReportInputs([view], None))
    assert len(drawn) == 2
    for frame, model in zip(drawn, ("lb", "other")):
        mine = view.long[(view.long["model"] == model) & (view.long["item_id"] == "A1")
                         & (view.long["status"] == "answered")]
        expected = option_distribution(mine["answer"], list(range(1, 7)), mine["weight"])
        got = frame[frame["item"] == "A1"].set_index("option")["share"].reindex(range(1, 7)).to_numpy()
        assert got == pytest.approx(expected)


@pytest.mark.slow
def test_a_catalogue_run_gets_its_persona_effects_section_in_a_browser(tmp_path):
    """A run of Araujo & Roth's personas with control paraphrases (a loopback server answering): the section
    draws each pair's category means beside the controls and the spread ratios, every image loads."""
    import yaml

    from silicon_sample.throughput.loopback import LoopbackServer

    spec = {"id": "personas", "seed": 3,
            "population": {"name": "persona_behavior", "categories": ["gender", "ideology"], "per_category": 4,
                           "controls": 8},
            "persona_styles": ["role"], "instruments": ["bfi25"]}
    with LoopbackServer(delay=0.0) as server:
        spec["models"] = [{"id": name, "backend": "openai", "model": "loopback", "answer_mode": "sample",
                           "options": {"base_url": server.url}} for name in ("lb-a", "lb-b")]
        (tmp_path / "study.yaml").write_text(yaml.safe_dump(spec))
        ss.run(tmp_path / "study.yaml", tmp_path / "run", fresh=True, progress=False)
    done = cli("report", tmp_path / "run", "-o", tmp_path / "personas.html", "--bootstrap", "200")
    assert done.returncode == 0, done.stderr
    page = tmp_path / "checked.html"
    page.write_text((tmp_path / "personas.html").read_text().replace("</body>", CHECK + "</body>"))
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000"]
    dom = subprocess.run([chromium(), *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True,
                         timeout=180)
    check = json.loads(re.search(r'<pre id="check">(.*?)</pre>', dom.stdout).group(1).replace("&quot;", '"'))
    assert check["broken"] == 0 and check["figures_per_section"]["personas"] == 3     # two pairs + the ratios
    text = (tmp_path / "personas.html").read_text()
    assert 'alt="category means beside the controls, lb-a: agreeableness' in text and "lb-b" in text
    assert "Agreement across models on which personas matter" in text and "lb-a vs lb-b" in text
    assert "not drawn, more than 30 categories each (as many as personas): description (193 categories)" in text
