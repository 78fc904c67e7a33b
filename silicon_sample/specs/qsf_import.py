"""Importing a Qualtrics survey (``.qsf``) as an instrument.

A QSF file is the JSON Qualtrics exports: ``SurveyEntry`` (name, id) and ``SurveyElements``, among them
the blocks (``BL``), the survey flow (``FL``) and one ``SQ`` element per question, whose ``Payload`` holds
``QuestionType``, ``Selector``, ``SubSelector``, ``QuestionText``, ``DataExportTag``, ``Choices`` /
``ChoiceOrder`` and, for matrices, ``Answers`` / ``AnswerOrder``, ``ChoiceDataExportTags`` and
``RecodeValues``. What is imported, in the order of the survey flow (blocks in flow order, questions in
block order; the trash block left out):

- **Likert matrices with one answer per row** (``Matrix`` / ``Likert`` / ``SingleAnswer``): one item per
  statement (id from its data export tag, else ``<tag>_<choice>``), the answer columns as its options;
- **single-answer multiple choice** (``MC`` with ``SAVR``, ``SAHR``, ``SACOL`` or ``DL``): one item;
- option codes are the survey's recode values when they are distinct whole numbers ≥ 0, else 1…K in
  the order shown (with a note); where questions show the same answer labels and most have recodes that
  rise along the order shown, one whose recodes *fall* is reverse-scored by the survey: its items get the
  majority's codes and ``reverse: true`` (so a scale score counts them reversed, as the survey's recode
  did), and the other way round when most fall;
- the response scale most items share becomes the instrument's; other items carry their own;
- each matrix with two or more items becomes a scale (scored by the mean; edit ``scoring`` to change it);
- **sliders** (``Slider``): one ``numeric`` item per slider statement, its range from the configuration
  (``CSSliderMin``, ``CSSliderMax``), whole numbers when ``NumDecimals`` is 0, on the grid
  (``(max − min) / GridLines``) when ``SnapToGrid`` is on, the slider's end labels as anchors;
- **multiple answer** (``MC`` with ``MAVR``, ``MAHR`` or ``MACOL``): a ``multiple`` item, its choices as
  options (a choice marked ``ExclusiveAnswer`` is exclusive), at least / at most the number of choices its
  validation asks (``MinChoices``, ``MaxChoices``);
- **text entry** (``TE`` with ``SL``, ``ML`` or ``ESTB``): a ``text`` item;
- **rank order** (``RO``): a ``rank`` item over its choices (all ranked).

Everything else is reported as skipped with its reason, never dropped unseen: questions with display logic
(shown only to some respondents), constant sum (a budget split: no item type holds it yet), side by side
(several questions in one table: split it into questions first), text-entry forms, other matrices, descriptive
text, and choices or statements with a text-entry field. HTML in texts is reduced to plain text.
"""

from __future__ import annotations

import copy
import html
import json
import re
from collections import Counter
from pathlib import Path

from ..errors import SpecError, TooDeep
from ..files import loads_json
from . import resources

MAX_QSF_BYTES = 64 * 1024 * 1024
"""The largest survey file read (Qualtrics exports of long surveys run to a few megabytes)."""

SINGLE_CHOICE = ("SAVR", "SAHR", "SACOL", "DL")
MULTIPLE_ANSWER = ("MAVR", "MAHR", "MACOL")
TEXT_ENTRY = ("SL", "ML", "ESTB")
NOT_IMPORTED = {"CS": "constant sum (a budget split over options: no item type holds it yet)",
                "SBS": "side by side (several questions in one table: split it into separate questions first)",
                "DB": "descriptive text", "Meta": "browser meta data", "Timing": "timing",
                "Draw": "a signature", "FileUpload": "a file upload", "HeatMap": "a heat map",
                "HotSpot": "a hot spot", "PGR": "pick, group and rank"}


def plain(text) -> str:
    """Question or choice text without HTML tags and entities, whitespace collapsed."""
    text = re.sub(r"<br\s*/?>", " ", str(text or ""), flags=re.I)
    text = re.sub(r"<[^>]+>", "", text)
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def _identifier(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", str(text)).strip("_")
    return name if re.match(r"[A-Za-z]", name) else f"q_{name}"


def _elements(survey: dict, where: str) -> list[dict]:
    elements = survey.get("SurveyElements") if isinstance(survey, dict) else None
    if isinstance(elements, dict):
        elements = list(elements.values())
    if not isinstance(elements, list):
        raise SpecError("not a Qualtrics survey: no SurveyElements", where=where,
                        fix="export the survey from Qualtrics as a .qsf file (Tools → Import/Export → Export Survey)")
    return [e for e in elements if isinstance(e, dict)]


def _question_order(elements: list[dict], questions: dict) -> list[str]:
    """Question ids in the order of the survey flow; questions in no block keep the file's order."""
    blocks = {}
    for element in elements:
        if element.get("Element") == "BL":
            payload = element.get("Payload") or []
            for block in (payload.values() if isinstance(payload, dict) else payload):
                if isinstance(block, dict) and block.get("Type") != "Trash":
                    blocks[block.get("ID")] = [e.get("QuestionID") for e in block.get("BlockElements") or []
                                               if isinstance(e, dict) and e.get("Type") == "Question"]
    flow = next((e.get("Payload") or {} for e in elements if e.get("Element") == "FL"), {})
    order: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if node.get("ID") in blocks:
                order.extend(q for q in blocks[node["ID"]] if q not in order)
            for child in node.get("Flow") or []:
                walk(child)

    walk(flow)
    for block in blocks.values():                  # blocks the flow does not name
        order.extend(q for q in block if q not in order)
    trashed = {q for e in elements if e.get("Element") == "BL"
               for b in ((e.get("Payload") or {}).values() if isinstance(e.get("Payload"), dict)
                         else e.get("Payload") or [])
               if isinstance(b, dict) and b.get("Type") == "Trash"
               for q in [x.get("QuestionID") for x in b.get("BlockElements") or [] if isinstance(x, dict)]}
    order.extend(q for q in questions if q not in order and q not in trashed)
    return [q for q in order if q in questions]


def _scale(payload: dict, ids: list[str], labels: dict, where: str, notes: list[str]) -> tuple[list[str], list[int]]:
    """(labels, codes) of a question's answer list in the order shown: the survey's recode values when they
    are distinct whole numbers ≥ 0, else 1…K (with a note when recodes were given)."""
    shown = [plain(labels[i].get("Display")) for i in ids]
    recode = payload.get("RecodeValues") or {}
    codes = [recode.get(i) for i in ids]
    if recode and all(isinstance(c, (str, int)) and str(c).isdigit() for c in codes) and \
            len({int(c) for c in codes}) == len(codes):
        return shown, [int(c) for c in codes]
    if recode:
        notes.append(f"{where}: recode values {codes} are not distinct whole numbers ≥ 0; the options are coded "
                     "1…K in the order shown")
    return shown, list(range(1, len(shown) + 1))


def _keying(items: list[dict], notes: list[str]) -> None:
    """Questions that show the same answer labels but whose recodes run the other way from most of them are
    reverse-scored by the survey: they get the majority's codes and ``reverse: true``."""
    groups: dict[tuple, list[dict]] = {}
    for item in items:
        groups.setdefault(tuple(item["_labels"]), []).append(item)
    for group in groups.values():
        rising = [i for i in group if i["_codes"] == sorted(i["_codes"])]
        falling = [i for i in group if i["_codes"] == sorted(i["_codes"], reverse=True)]
        majority, minority = (rising, falling) if len(rising) >= len(falling) else (falling, rising)
        if not majority or not minority:
            continue
        codes = majority[0]["_codes"]
        for item in minority:
            if sorted(item["_codes"]) == sorted(codes):
                item["_codes"], item["reverse"] = list(codes), True
        notes.append(f"{len(minority)} item(s) whose recodes run against the other questions with these answer "
                     f"labels are reverse-keyed: {', '.join(i['id'] for i in minority)}")


def _read_survey(path: Path) -> dict:
    """The QSF file's JSON, refused in one line when it cannot be read, is too large or is not JSON."""
    try:
        resources.check_readable(path, what="survey")
        if path.stat().st_size > MAX_QSF_BYTES:
            raise SpecError(f"the survey file has {path.stat().st_size:,} bytes, more than the {MAX_QSF_BYTES:,} a "
                            "QSF export may have here", where=str(path), fix="check that this is the right file")
        survey = loads_json(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise SpecError(f"cannot read file ({exc.strerror})", where=str(path), fix="check the path") from None
    except TooDeep as exc:
        raise SpecError(f"not a QSF file: {exc}", where=str(path),
                        fix="export the survey from Qualtrics as a .qsf file") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise SpecError(f"not a QSF file: it is not JSON ({exc})", where=str(path),
                        fix="export the survey from Qualtrics as a .qsf file") from None
    return survey


def _matrix_items(payload: dict, tag: str, where: str, choices: dict, order: list[str], skipped: list[str],
                  notes: list[str], scales: dict, stems: Counter) -> list[dict]:
    """The items of a Likert matrix (one per statement, one scale when it has two or more)."""
    answers = payload.get("Answers") or {}
    answer_ids = [str(a) for a in payload.get("AnswerOrder") or list(answers)]
    if any(answers.get(a, {}).get("TextEntry") for a in answer_ids) or len(answer_ids) < 2:
        skipped.append(f"{where}: a matrix whose answer columns have a text entry or fewer than two")
        return []
    labels, codes = _scale(payload, answer_ids, answers, where, notes)
    tags = payload.get("ChoiceDataExportTags") or {}
    stem = plain(payload.get("QuestionText"))
    scale_id = _identifier(str(tag).lower())
    made = []
    for choice in order:
        statement = choices.get(choice) or {}
        if statement.get("TextEntry") or not plain(statement.get("Display")):
            skipped.append(f"{where}, statement {choice}: a statement with a text entry field or no text")
            continue
        item_id = _identifier(tags.get(choice) if isinstance(tags, dict) and tags.get(choice)
                              else f"{tag}_{choice}")
        made.append({"id": item_id, "text": plain(statement["Display"]), "scale": scale_id,
                     "reverse": False, "_labels": labels, "_codes": codes, "_stem": stem})
    if len(made) >= 2:
        scales[scale_id] = {"name": stem[:80] or str(tag)}
    else:
        for item in made:
            item.pop("scale")
    stems.update([stem] * len(made))
    return made


def _number(value, default=None):
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return int(number) if number.is_integer() else number


def _slider_items(payload: dict, tag: str, where: str, choices: dict, order: list[str], skipped: list[str]
                  ) -> list[dict]:
    """One numeric item per statement of a slider question (module docstring)."""
    config = payload.get("Configuration") or {}
    low, high = _number(config.get("CSSliderMin"), 0), _number(config.get("CSSliderMax"), 100)
    if not low < high:
        skipped.append(f"{where}: a slider whose minimum ({low}) is not below its maximum ({high})")
        return []
    integer = str(config.get("NumDecimals", "0")).strip() in ("0", "")
    item = {"type": "numeric", "min": low, "max": high}
    if not integer:
        item["integer"] = False
    grid = _number(config.get("GridLines"))
    if config.get("SnapToGrid") and grid:
        step = (high - low) / grid
        if integer and float(step).is_integer() or not integer:
            item["step"] = _number(step)
    labels = [plain(v.get("Display")) for _, v in sorted((payload.get("Labels") or {}).items(),
                                                         key=lambda kv: _number(kv[0], 0))
              if isinstance(v, dict) and plain(v.get("Display"))]
    if len(labels) >= 2:             # the slider's end labels, at its two ends
        item["anchors"] = [{"value": low, "label": labels[0]}, {"value": high, "label": labels[-1]}]
    stem = plain(payload.get("QuestionText"))
    statements = [c for c in order if plain((choices.get(c) or {}).get("Display"))]
    tags = payload.get("ChoiceDataExportTags") or {}
    if len(statements) <= 1:
        return [{"id": _identifier(tag), "text": stem, **item}]
    return [{"id": _identifier(tags.get(c) if isinstance(tags, dict) and tags.get(c) else f"{tag}_{c}"),
             "text": f"{stem} — {plain(choices[c]['Display'])}", **copy.deepcopy(item)} for c in statements]


def _choice_options(payload: dict, choices: dict, order: list[str], where: str, notes: list[str]) -> list[dict]:
    labels, codes = _scale(payload, order, choices, where, notes)
    options = [{"value": v, "label": label} for v, label in zip(codes, labels)]
    for option, choice in zip(options, order):
        if (choices.get(choice) or {}).get("ExclusiveAnswer"):
            option["exclusive"] = True
    return options


def _selection_limits(payload: dict) -> dict:
    settings = (payload.get("Validation") or {}).get("Settings") or {}
    limits = {}
    fewest, most = _number(settings.get("MinChoices")), _number(settings.get("MaxChoices"))
    if isinstance(fewest, int) and fewest > 0:
        limits["min_selected"] = fewest
    if isinstance(most, int) and most > 1:
        limits["max_selected"] = most
    return limits


def _typed_item(payload: dict, tag: str, where: str, kind, selector, choices: dict, order: list[str],
                skipped: list[str], notes: list[str]) -> list[dict] | None:
    """The items of a slider, multiple-answer, text-entry or rank-order question (None: not one of them)."""
    text = plain(payload.get("QuestionText"))
    if kind == "Slider":
        return _slider_items(payload, tag, where, choices, order, skipped)
    if kind == "TE" and selector in TEXT_ENTRY:
        return [{"id": _identifier(tag), "text": text, "type": "text"}]
    if kind not in ("MC", "RO") or kind == "MC" and selector not in MULTIPLE_ANSWER:
        return None
    if any((choices.get(c) or {}).get("TextEntry") for c in order):
        skipped.append(f"{where}: a choice with a text entry field (\"Other: …\") is not a closed question")
        return []
    if len(order) < 2:
        skipped.append(f"{where}: fewer than two choices")
        return []
    options = _choice_options(payload, choices, order, where, notes)
    if kind == "RO":
        return [{"id": _identifier(tag), "text": text, "type": "rank", "response_scale": {"options": options}}]
    item = {"id": _identifier(tag), "text": text, "type": "multiple", "response_scale": {"options": options},
            **_selection_limits(payload)}
    if all(o.get("exclusive") for o in options) or item.get("max_selected", 2) > len(options):
        skipped.append(f"{where}: its choices or selection limits leave nothing to check")
        return []
    return [item]


def _unique_ids(items: list[dict], notes: list[str]) -> None:
    """Item ids made unique: a repeated export tag gets a suffix (said in ``notes``)."""
    seen: set[str] = set()
    for item in items:
        base, k = item["id"], 2
        while item["id"] in seen:
            item["id"], k = f"{base}_{k}", k + 1
        if item["id"] != base:
            notes.append(f"item id {base} is used twice in the survey; the second is {item['id']}")
        seen.add(item["id"])


def _shared_scale(items: list[dict], stems: Counter) -> tuple[str, str]:
    """The options most items share (JSON) and the commonest stem; an item on other options keeps its own
    ``response_scale``, an item under another stem gets its stem before its text."""
    for item in items:
        item["_options"] = [{"value": v, "label": label} for v, label in zip(item.pop("_codes"), item.pop("_labels"))]
    common = Counter(json.dumps(i["_options"]) for i in items).most_common(1)[0][0]
    stem = stems.most_common(1)[0][0] if stems else ""
    for item in items:
        options, item_stem = item.pop("_options"), item.pop("_stem")
        if json.dumps(options) != common:
            item["response_scale"] = {"options": options}
        if item_stem and item_stem != stem:
            item["text"] = f"{item_stem} — {item['text']}"
        if not item["reverse"]:
            item.pop("reverse")
    return common, stem


def import_qsf(path: str | Path, instrument_id: str | None = None) -> tuple[dict, list[str], list[str]]:
    """The instrument spec of a QSF file, the questions skipped (each with its reason) and notes."""
    path = Path(path)
    survey = _read_survey(path)
    elements = _elements(survey, str(path))
    questions = {e["Payload"].get("QuestionID") or e.get("PrimaryAttribute"): e["Payload"]
                 for e in elements if e.get("Element") == "SQ" and isinstance(e.get("Payload"), dict)}
    items, skipped, notes, scales, stems = [], [], [], {}, Counter()
    for qid in _question_order(elements, questions):
        payload = questions[qid]
        tag = payload.get("DataExportTag") or qid
        where = f"{qid} ({tag})"
        kind, selector = payload.get("QuestionType"), payload.get("Selector")
        sub = payload.get("SubSelector")
        if payload.get("DisplayLogic"):
            skipped.append(f"{where}: display logic (shown only to some respondents) is not imported")
            continue
        choices = payload.get("Choices") or {}
        order = [str(c) for c in payload.get("ChoiceOrder") or list(choices)]
        if kind == "Matrix" and selector == "Likert" and sub == "SingleAnswer":
            items.extend(_matrix_items(payload, tag, where, choices, order, skipped, notes, scales, stems))
        elif kind == "MC" and selector in SINGLE_CHOICE:
            if any((choices.get(c) or {}).get("TextEntry") for c in order):
                skipped.append(f"{where}: a choice with a text entry field (\"Other: …\") is not a closed question")
                continue
            labels, codes = _scale(payload, order, choices, where, notes)
            items.append({"id": _identifier(tag), "text": plain(payload.get("QuestionText")), "reverse": False,
                          "_labels": labels, "_codes": codes, "_stem": None})
        elif (typed := _typed_item(payload, tag, where, kind, selector, choices, order, skipped, notes)) is not None:
            items.extend(typed)
        else:
            what = NOT_IMPORTED.get(kind) or {"MC": "multiple choice", "TE": "a text entry form"}.get(
                kind, f"type {kind}/{selector}")
            if kind == "Matrix":
                what = f"a matrix of type {selector}/{sub} (only Likert matrices with one answer per row)"
            skipped.append(f"{where}: {what} is not imported")
    if not items:
        raise SpecError("no question could be imported: " + ("; ".join(skipped) or "the survey has no questions"),
                        where=str(path), fix="the importer takes Likert matrices, single- and multiple-answer "
                                             "multiple choice, sliders, text entry and rank order questions")
    _unique_ids(items, notes)
    coded = [item for item in items if "type" not in item]
    common, stem = (None, "")
    if coded:
        _keying(coded, notes)
        common, stem = _shared_scale(coded, stems)
    name = plain((survey.get("SurveyEntry") or {}).get("SurveyName")) or path.stem
    spec = {
        "id": instrument_id or _identifier(path.stem),
        "name": name,
        "citation": f"Imported from the Qualtrics survey {name!r} "
                    f"({(survey.get('SurveyEntry') or {}).get('SurveyID', 'no survey id')}); cite its authors.",
        "license": "Not stated in the QSF file: check the survey's terms before sharing.",
        "source": f"silicon-sample import-qsf {path.name}",
        "instructions": stem or "Please answer each question.",
        **({"response_scale": {"options": json.loads(common)}} if common else {}),
        "items": items,
        "scoring": {"method": "mean", "scales": scales},
    }
    return spec, skipped, notes


__all__ = ["import_qsf", "plain"]
