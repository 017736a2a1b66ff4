"""Classical item analysis, for LMS quiz answers (`course report quiz`) and for the nbgrader
assignments (`course report psN`) alike: difficulty, corrected point-biserial
discrimination, distractor shares in the top and bottom thirds, flags, and the test's
reliability. The rules and thresholds are in docs/item-analysis.md.

Scores are given per student and item as the share of the item's points (0 to 1), so
partial credit counts as such; an item is "dichotomous" when every score is 0 or 1."""

from __future__ import annotations

import csv
import html
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

# Usual thresholds of classical test theory (e.g. Ebel and Frisbie; docs/item-analysis.md).
TOO_HARD, TOO_EASY, LOW_DISCRIMINATION = 0.2, 0.9, 0.2


@dataclass(frozen=True)
class ItemStats:
    item: str
    label: str
    answered: int
    difficulty: float  # mean share of the points: proportion correct for 0/1 items
    discrimination: float  # corrected point-biserial; NaN when undefined (no variance)
    flags: tuple[str, ...]
    # option -> (share in the top third, share in the bottom third)
    options: dict[str, tuple[float, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class Analysis:
    title: str
    students: int
    reliability: float
    reliability_name: str  # "KR-20" for 0/1 items, else "Cronbach's alpha"
    items: list[ItemStats]
    notes: tuple[str, ...] = ()  # what the reader must know: a question reworded since, ...


def flags_for(difficulty: float, discrimination: float) -> tuple[str, ...]:
    out = []
    if difficulty < TOO_HARD:
        out.append("hard (difficulty below 0.2)")
    if difficulty > TOO_EASY:
        out.append("easy (difficulty above 0.9)")
    if math.isnan(discrimination):
        out.append("discrimination undefined (everyone scored the same)")
    elif discrimination < 0:
        out.append("negative discrimination: revise")
    elif discrimination < LOW_DISCRIMINATION:
        out.append("low discrimination (below 0.2)")
    return tuple(out)


def cronbach_alpha(scores: np.ndarray) -> float:
    """Cronbach's alpha of a students x items matrix; KR-20 when the items are 0/1 (the item
    variances are then p*q). NaN with fewer than two items or no spread in totals."""
    k = scores.shape[1]
    total_var = np.var(scores.sum(axis=1))
    if k < 2 or total_var == 0:
        return float("nan")
    return float(k / (k - 1) * (1 - np.var(scores, axis=0).sum() / total_var))


def corrected_point_biserial(scores: np.ndarray) -> np.ndarray:
    """Per item, the correlation of its score with the total of the other items."""
    # imported here: scipy.stats takes 1.4 s to import, which every process that imports this
    # module (the test suite's collection, each worker) paid though few call this
    from scipy import stats

    totals = scores.sum(axis=1)
    out = np.full(scores.shape[1], np.nan)
    for j in range(scores.shape[1]):
        item, rest = scores[:, j], totals - scores[:, j]
        if np.ptp(item) > 0 and np.ptp(rest) > 0:
            out[j] = stats.pearsonr(item, rest).statistic
        # else: undefined, kept as NaN and flagged
    return out


def thirds(totals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the top and bottom thirds by total score (ties keep file order)."""
    n = len(totals)
    size = max(1, round(n / 3))
    order = np.argsort(-totals, kind="stable")
    return order[:size], order[::-1][:size]


def analyse(title: str, items: Sequence[str], scores: ArrayLike,
            labels: Sequence[str] | None = None,
            choices: Sequence[Sequence[Collection[str] | None]] | None = None,
            options: Sequence[Sequence[str]] | None = None) -> Analysis:
    """``scores``: students x items, each the share of the item's points. ``choices``: per
    item, the options each student chose (None when not answered or not a choice item);
    ``options``: per item, the options to report (in order)."""
    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 2 or scores.shape[1] != len(items):
        raise ValueError(f"scores must be students x {len(items)} items, got {scores.shape}")
    if scores.shape[0] == 0:
        raise ValueError("no students: nothing to analyse")
    if np.isnan(scores).any() or (scores < 0).any() or (scores > 1).any():
        raise ValueError("every score must be a share of the points between 0 and 1")
    totals = scores.sum(axis=1)
    top, bottom = thirds(totals)
    difficulty = scores.mean(axis=0)
    discrimination = corrected_point_biserial(scores)
    out = []
    for j, item in enumerate(items):
        shares: dict[str, tuple[float, float]] = {}
        if choices is not None and options is not None and options[j]:
            picked = [c or () for c in choices[j]]
            for opt in options[j]:
                chose = np.array([opt in c for c in picked])
                shares[opt] = (float(chose[top].mean()), float(chose[bottom].mean()))
        out.append(ItemStats(item, (labels or items)[j], scores.shape[0],
                             float(difficulty[j]), float(discrimination[j]),
                             flags_for(float(difficulty[j]), float(discrimination[j])), shares))
    dichotomous = bool(np.isin(scores, (0.0, 1.0)).all())
    return Analysis(title, scores.shape[0], cronbach_alpha(scores),
                    "KR-20" if dichotomous else "Cronbach's alpha", out)


def _fmt(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:.2f}"


def text_table(analysis: Analysis) -> str:
    lines = [f"{analysis.title}: {analysis.students} students, {len(analysis.items)} items, "
             f"{analysis.reliability_name} {_fmt(analysis.reliability)}",
             *(f"note: {note}" for note in analysis.notes)]
    width = max([len("item"), *(len(s.item) for s in analysis.items)])  # long ids stay aligned
    lines.append(f"{'item':<{width}} {'difficulty':>10} {'discrim.':>9}  flags")
    for s in analysis.items:
        lines.append(f"{s.item:<{width}} {_fmt(s.difficulty):>10} {_fmt(s.discrimination):>9}  "
                     + "; ".join(s.flags))
    return "\n".join(lines)


def write_csv(analysis: Analysis, dest: Path) -> Path:
    with open(dest, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["item", "label", "students", "difficulty", "discrimination", "flags",
                         "option", "share in top third", "share in bottom third"])
        for s in analysis.items:
            row = [s.item, s.label, s.answered, f"{s.difficulty:.4f}",
                   "" if math.isnan(s.discrimination) else f"{s.discrimination:.4f}",
                   "; ".join(s.flags)]
            if not s.options:
                writer.writerow([*row, "", "", ""])
            for opt, (hi, lo) in s.options.items():
                writer.writerow([*row, opt, f"{hi:.4f}", f"{lo:.4f}"])
        writer.writerow([])
        writer.writerow([analysis.reliability_name, "", analysis.students,
                         "" if math.isnan(analysis.reliability) else f"{analysis.reliability:.4f}"])
    return dest


def write_figure(analysis: Analysis, dest: Path) -> Path:
    """Difficulty against discrimination, one point per item, the flag zones shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5))
    ax.axvspan(0, TOO_HARD, color="#f4cccc")
    ax.axvspan(TOO_EASY, 1, color="#f4cccc")
    ax.axhspan(-1, LOW_DISCRIMINATION, color="#fce5cd")
    ax.axhline(0, color="#999999", linewidth=0.8)
    xs = [s.difficulty for s in analysis.items]
    ys = [0 if math.isnan(s.discrimination) else s.discrimination for s in analysis.items]
    ax.scatter(xs, ys, color="#1f4e79")
    for s, x, y in zip(analysis.items, xs, ys, strict=True):
        if s.flags:
            ax.annotate(s.item, (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set(xlim=(0, 1), ylim=(-1, 1), xlabel="difficulty (share of points)",
           ylabel="discrimination (corrected point-biserial)",
           title=f"{analysis.title}: {analysis.students} students, "
                 f"{analysis.reliability_name} {_fmt(analysis.reliability)}")
    fig.tight_layout()
    fig.savefig(dest, dpi=100)
    plt.close(fig)
    return dest


def write_html(analysis: Analysis, dest: Path, figure: Path) -> Path:
    e = html.escape
    rows = []
    for s in analysis.items:
        dist = "; ".join(f"{e(o)}: {hi:.0%} top / {lo:.0%} bottom"
                         for o, (hi, lo) in s.options.items())
        rows.append(f"<tr><td>{e(s.item)}</td><td>{e(s.label)}</td>"
                    f"<td>{_fmt(s.difficulty)}</td><td>{_fmt(s.discrimination)}</td>"
                    f"<td>{e('; '.join(s.flags))}</td><td>{dist}</td></tr>")
    notes = (f"<ul>{''.join(f'<li>{e(n)}</li>' for n in analysis.notes)}</ul>\n"
             if analysis.notes else "")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{e(analysis.title)}: item analysis</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #999;padding:.3em;vertical-align:top}}</style></head>
<body><main><h1>{e(analysis.title)}: item analysis</h1>
<p>{analysis.students} students, {len(analysis.items)} items.
{e(analysis.reliability_name)}: {_fmt(analysis.reliability)}.</p>
{notes}<p>Difficulty is the share of the points students got; discrimination is the correlation of
an item's score with the rest of the test. Flags: difficulty below {TOO_HARD} or above
{TOO_EASY}; discrimination below {LOW_DISCRIMINATION}; negative discrimination means revise.</p>
<img src="{e(figure.name)}" alt="Difficulty against discrimination for each item">
<table><thead><tr><th scope="col">item</th><th scope="col">question</th>
<th scope="col">difficulty</th><th scope="col">discrimination</th><th scope="col">flags</th>
<th scope="col">options chosen (top third / bottom third)</th></tr></thead>
<tbody>{''.join(rows)}</tbody></table></main></body></html>
"""
    dest.write_text(page, encoding="utf-8")
    return dest


def write_report(analysis: Analysis, out_dir: Path, stem: str) -> tuple[Path, Path, Path]:
    """HTML, CSV and PNG of the analysis in ``out_dir``, named ``<stem>-items.*``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    png = write_figure(analysis, out_dir / f"{stem}-items.png")
    return (write_html(analysis, out_dir / f"{stem}-items.html", png),
            write_csv(analysis, out_dir / f"{stem}-items.csv"), png)
