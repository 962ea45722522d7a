"""Open-answer themes: counts per site, and agreement between two coders."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from analysis.errors import AnalysisError, Message
from analysis.spec import ALL_SITES, THEME_COLUMNS
from analysis.suppression import DEFAULT_K, apply_suppression

__all__ = ["cohen_kappa", "theme_agreement", "theme_counts"]


def _require(frame: pd.DataFrame, name: str, columns: tuple[str, ...]) -> None:
    for column in columns:
        if column not in frame.columns:
            raise AnalysisError(Message.MISSING_COLUMN, frame=name, column=column)


def theme_counts(
    codings: pd.DataFrame, *, k: int = DEFAULT_K, wave: str | None = None
) -> pd.DataFrame:
    """How many respondents at each site mentioned each theme.

    Parameters
    ----------
    codings : DataFrame
        One row per coded answer x theme: ``response_id``, ``site``, ``theme``
        (optionally ``site_name``). An answer coded with no theme has one row with an
        empty ``theme``; it counts as answering the open question.
    k : int
        Suppression threshold, applied to both ``n_respondents`` and ``n_answered``.
    wave : str, optional
        Written in the ``wave`` column.

    Returns
    -------
    DataFrame
        Columns :data:`analysis.spec.THEME_COLUMNS`, one row per site x theme (every
        theme seen anywhere, zeros included) and whole-wave rows (``site = "ALL"``).
        ``n_answered`` is the site's respondents who answered the open question,
        ``n_respondents`` those whose answer was coded with the theme (each counted
        once), ``pct = 100 · n_respondents / n_answered``. Suppressed as everything
        else, so a theme only shows where at least k respondents mention it.

    Examples
    --------
    >>> codings = pd.DataFrame({
    ...     "response_id": [f"r{i}" for i in range(30)] + [f"r{i}" for i in range(12)],
    ...     "site": ["a"] * 30 + ["a"] * 12,
    ...     "theme": ["parks"] * 30 + ["safety"] * 12})
    >>> theme_counts(codings, wave="2027")[["site", "theme", "n_respondents", "pct"]]
      site   theme  n_respondents    pct
    0    a   parks             30  100.0
    1    a  safety             12   40.0
    2  ALL   parks             30  100.0
    3  ALL  safety             12   40.0
    """
    _require(codings, "codings", ("response_id", "site", "theme"))
    frame = pd.DataFrame(
        {
            "response_id": codings["response_id"].astype(str),
            "site": codings["site"].astype(str),
            "theme": codings["theme"].astype(object).where(codings["theme"].notna(), None),
        }
    )
    names = (
        codings["site_name"].astype(object)
        if "site_name" in codings.columns
        else codings["site"].astype(object)
    )
    site_names = (
        pd.Series(names.to_numpy(), index=frame["site"].to_numpy()).groupby(level=0).first()
    )
    sites = sorted(frame["site"].unique())
    themes = sorted({str(t) for t in frame["theme"].dropna().unique()})
    answered = frame.drop_duplicates(["site", "response_id"]).groupby("site").size()
    coded = frame.dropna(subset=["theme"]).drop_duplicates(["site", "response_id", "theme"])
    mentions = coded.groupby(["site", "theme"]).size()
    grid = pd.MultiIndex.from_product([sites, themes], names=["site", "theme"])
    per_site = mentions.reindex(grid, fill_value=0).rename("n_respondents").reset_index()
    per_site["n_answered"] = per_site["site"].map(answered).astype("int64")
    per_site["site_name"] = per_site["site"].map(site_names).astype(object)
    whole = per_site.groupby("theme", sort=True)["n_respondents"].sum().reset_index()
    # A respondent is counted once even if coded at two sites' rows (should not happen).
    whole["n_respondents"] = (
        coded.drop_duplicates(["response_id", "theme"])
        .groupby("theme")
        .size()
        .reindex(whole["theme"], fill_value=0)
        .to_numpy()
    )
    whole["n_answered"] = frame["response_id"].nunique()
    whole["site"] = ALL_SITES
    whole["site_name"] = "All sites"
    table = pd.concat([per_site, whole], ignore_index=True)
    table["wave"] = wave if wave is not None else pd.NA
    with np.errstate(divide="ignore", invalid="ignore"):
        table["pct"] = 100 * table["n_respondents"] / table["n_answered"]
    for column in ("n_answered", "n_respondents"):
        table[column] = table[column].astype("Int64")
    for column in ("wave", "site", "site_name", "theme"):
        table[column] = table[column].astype("str")
    table["suppressed"] = False
    return apply_suppression(
        table.loc[:, list(THEME_COLUMNS)], k=k, count_cols=("n_respondents", "n_answered")
    )


def cohen_kappa(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """Cohen's kappa: agreement between two coders beyond chance.

    Parameters
    ----------
    a, b : array_like
        The two coders' labels for the same answers (e.g. theme present True/False).

    Returns
    -------
    float
        ``(p_o - p_e) / (1 - p_e)`` with ``p_o`` the observed agreement and ``p_e``
        the agreement expected from each coder's label shares. NaN when ``p_e = 1``
        (both coders gave every answer the same single label).

    Examples
    --------
    >>> round(cohen_kappa([1, 1, 0, 0, 1, 0], [1, 0, 0, 0, 1, 0]), 4)
    0.6667
    """
    left = np.asarray(a, dtype=object).ravel()
    right = np.asarray(b, dtype=object).ravel()
    if left.size != right.size:
        raise AnalysisError(Message.BAD_KAPPA_INPUT, why="the two coders have different lengths")
    if left.size == 0:
        raise AnalysisError(Message.BAD_KAPPA_INPUT, why="there are no answers")
    if pd.isna(left).any() or pd.isna(right).any():
        raise AnalysisError(Message.BAD_KAPPA_INPUT, why="a label is missing")
    codes, _ = pd.factorize(np.concatenate([left, right]))
    size = int(codes.max()) + 1
    ca, cb = codes[: left.size], codes[left.size :]
    table = np.bincount(ca * size + cb, minlength=size * size).reshape(size, size)
    total = table.sum()
    observed = np.trace(table) / total
    expected = float(np.sum(table.sum(axis=1) * table.sum(axis=0))) / total**2
    if np.isclose(expected, 1.0):
        return float("nan")
    return float((observed - expected) / (1 - expected))


def theme_agreement(coder_a: pd.DataFrame, coder_b: pd.DataFrame) -> pd.DataFrame:
    """Per theme, how well two coders agree on the answers both coded.

    Parameters
    ----------
    coder_a, coder_b : DataFrame
        Each coder's codings: ``response_id`` and ``theme`` (an empty theme marks an
        answer the coder read and gave no theme).

    Returns
    -------
    DataFrame
        ``theme, n_answers, n_a, n_b, agreement, kappa``: answers both coded, answers
        each coder gave the theme, the share of answers on which they agree
        (present/absent), and Cohen's kappa of present/absent.

    Examples
    --------
    >>> a = pd.DataFrame({"response_id": ["1", "2", "3", "4"],
    ...                   "theme": ["parks", "parks", None, "safety"]})
    >>> b = pd.DataFrame({"response_id": ["1", "2", "3", "4"],
    ...                   "theme": ["parks", None, None, "safety"]})
    >>> theme_agreement(a, b)
        theme  n_answers  n_a  n_b  agreement  kappa
    0   parks          4    2    1       0.75    0.5
    1  safety          4    1    1       1.00    1.0
    """
    _require(coder_a, "the first coder's codings", ("response_id", "theme"))
    _require(coder_b, "the second coder's codings", ("response_id", "theme"))
    ids_a = set(coder_a["response_id"].astype(str))
    ids_b = set(coder_b["response_id"].astype(str))
    answers = sorted(ids_a & ids_b)
    themes = sorted(
        {str(t) for t in pd.concat([coder_a["theme"], coder_b["theme"]]).dropna().unique()}
    )

    def presence(codings: pd.DataFrame) -> pd.DataFrame:
        coded = codings.dropna(subset=["theme"])
        marks = pd.crosstab(coded["response_id"].astype(str), coded["theme"].astype(str)) > 0
        return marks.reindex(index=answers, columns=themes, fill_value=False)

    pa, pb = presence(coder_a), presence(coder_b)
    rows = []
    for theme in themes:
        xa = pa[theme].to_numpy(dtype=bool)
        xb = pb[theme].to_numpy(dtype=bool)
        rows.append(
            {
                "theme": theme,
                "n_answers": len(answers),
                "n_a": int(xa.sum()),
                "n_b": int(xb.sum()),
                "agreement": float(np.mean(xa == xb)) if answers else float("nan"),
                "kappa": cohen_kappa(xa, xb) if answers else float("nan"),
            }
        )
    return pd.DataFrame(rows, columns=["theme", "n_answers", "n_a", "n_b", "agreement", "kappa"])
