"""The report's figures are laid out for their data (issue 26, part 3): no text outside the figure, labels
drawn as written (no math from `$`), a panel per attribute tall enough to read, one scale per panel."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text

from silicon_sample.report import figures

INCOMES = ["less than $10,000", "$10,000 to $19,999", "$20,000 to $29,999", "$30,000 to $39,999",
           "$40,000 to $49,999", "$50,000 to $74,999", "$75,000 to $99,999", "$100,000 or more"]


def drawn(plot):
    """The matplotlib figure of a plotnine plot, drawn (so every text has its place)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        figure = plot.draw()
    FigureCanvasAgg(figure).draw()        # as png_data_uri saves it
    return figure


def texts_outside(figure) -> list[str]:
    renderer = figure.canvas.get_renderer()
    frame = figure.bbox
    outside = []
    for text in figure.findobj(lambda a: hasattr(a, "get_text") and hasattr(a, "get_window_extent")):
        if not text.get_visible() or not str(text.get_text()).strip():
            continue
        box = text.get_window_extent(renderer)
        if box.x0 < frame.x0 - 1 or box.x1 > frame.x1 + 1 or box.y0 < frame.y0 - 1 or box.y1 > frame.y1 + 1:
            outside.append(str(text.get_text()))
    return outside


def composition_frame():
    rows = []
    for attribute, categories in {"income": INCOMES, "gender": ["male", "female"],
                                  "education": ["some high school", "high school graduate", "some college"]}.items():
        for category in categories:
            for source in ("population", "sample"):
                rows.append({"attribute": attribute, "category": category, "source": source, "share": 0.2})
    frame = pd.DataFrame(rows)
    frame["category"] = pd.Categorical(frame["category"], categories=list(dict.fromkeys(frame["category"])))
    return frame


def test_the_composition_figure_keeps_its_labels_inside_and_grows_with_the_categories():
    figure = drawn(figures.composition(composition_frame(), 40))
    assert texts_outside(figure) == []
    labels = [t.get_text() for ax in figure.axes for t in ax.get_yticklabels()]
    assert "\\$10,000 to \\$19,999" in labels                       # the $ escaped: drawn as written, not as math
    panels = [ax for ax in figure.axes if ax.get_yticklabels()]
    heights = [ax.get_window_extent().height for ax in panels]
    assert len(panels) == 3 and min(heights) > 60                # pixels at the figure's dpi: a readable panel
    small = drawn(figures.composition(composition_frame().query("attribute == 'gender'"), 40))
    assert small.get_size_inches()[1] < figure.get_size_inches()[1]


@pytest.mark.parametrize("label", ["gpt-4o-mini / profile_list / explicit / options_reversed",
                                   "smollm2-135m / assistant_control / name / instructions_paraphrase_2"])
def test_an_item_distribution_figure_has_its_title_inside_and_a_scale_per_panel(label):
    rows = [{"item": "therm", "option": o, "source": s, "share": 0.01} for o in range(0, 101, 10)
            for s in ("human", "silicon")]
    rows += [{"item": "Q4", "option": o, "source": s, "share": 0.25} for o in range(1, 5) for s in ("human", "silicon")]
    title = f"{label}\nsilicon (n = 12 personas) beside human (n = 2,800 respondents, psych_bfi)"
    figure = drawn(figures.distributions(pd.DataFrame(rows), title))
    assert texts_outside(figure) == []
    ticks = {ax.get_title() or i: [t.get_text() for t in ax.get_xticklabels()] for i, ax in enumerate(figure.axes)}
    assert any(len(t) == 4 for t in ticks.values()) and any(len(t) == 11 for t in ticks.values())


def test_a_scale_score_figure_has_its_title_inside():
    import numpy as np

    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"scale": np.repeat(["agreeableness", "neuroticism", "openness"], 40),
                          "score": rng.uniform(1, 6, 120), "source": np.tile(["human", "silicon"], 60)})
    title = ("smollm2-135m / assistant_control / explicit / instructions_paraphrase_2\nScale scores: silicon "
             "(n = 100 respondents) beside human (n = 2800, psych_bfi), scored alike")
    assert texts_outside(drawn(figures.scale_distributions(frame, title))) == []


def test_the_fidelity_figure_keeps_its_axis_title_inside():
    labels = [f"{figure} — smollm2-135m / assistant_control / explicit" for figure in
              ("levels", "structure", "item_representativeness", "correlation_srmr")]
    frame = pd.DataFrame({"label": labels, "normalized": [0.1, -0.4, 0.3, 0.9], "normalized_low": [0.0, -0.6, 0.1, 0.5],
                          "normalized_high": [0.2, -0.1, 0.5, 1.2]})
    assert texts_outside(drawn(figures.fidelity(frame))) == []


def test_the_calibration_figure_keeps_its_labels_inside_and_its_colours_to_their_sources():
    rows = []
    for scale, centre in {"agreeableness": 4.6, "conscientiousness": 4.3, "extraversion": 4.1}.items():
        rows += [{"label": scale, "estimate": centre, "low": centre - 0.2, "high": centre + 0.2,
                  "what": "PPI++ (60 humans + 240 silicon)"},
                 {"label": scale, "estimate": centre, "low": centre - 0.22, "high": centre + 0.22,
                  "what": "humans alone (n = 60)"},
                 {"label": scale, "estimate": centre + 0.05, "low": centre + 0.05, "high": centre + 0.05,
                  "what": "full population (every respondent: no interval)"}]
    colours = {"PPI++ (60 humans + 240 silicon)": "#d1495b", "humans alone (n = 60)": "#1b6ca8",
               "full population (every respondent: no interval)": "#444444"}
    figure = drawn(figures.calibration_intervals(pd.DataFrame(rows), colours, "Scale means: PPI++ beside 60 humans"))
    assert texts_outside(figure) == []
    texts = [t.get_text() for t in figure.findobj(Text)]
    assert "humans alone (n = 60)" in texts and "PPI++ (60 humans + 240 silicon)" in texts   # each source with n


def test_the_persona_figures_keep_their_labels_inside():
    rows = []
    for outcome in ("agreeableness", "neuroticism", "openness", "refusal-free outcome"):
        for label, group, mean in (("gender (n = 4)", "persona", 3.1), ("ideology (n = 8)", "persona", 2.7),
                                   ("control (n = 30)", "control", 3.0), ("empty (n = 1)", "empty", 3.4)):
            rows.append({"outcome": outcome, "label": label, "mean": mean, "low": mean - 0.4, "high": mean + 0.4,
                         "group": group})
    title = "smollm2-135m: 12 personas, 30 control paraphrases, the empty persona\n(t intervals over personas)"
    figure = drawn(figures.persona_categories(pd.DataFrame(rows), title))
    assert texts_outside(figure) == []
    ratios = pd.DataFrame({"outcome": ["agreeableness", "neuroticism"] * 2, "pair": ["a"] * 2 + ["b"] * 2,
                           "ratio": [1.2, 0.9, 2.0, 1.1], "low": [0.8, 0.6, 1.3, 0.7], "high": [1.9, 1.4, 3.1, 1.8]})
    figure = drawn(figures.spread_ratios(ratios, "Persona variation against paraphrase noise\n(12 personas, "
                                                 "30 controls; above 1 with its interval: beyond the noise)"))
    assert texts_outside(figure) == []
