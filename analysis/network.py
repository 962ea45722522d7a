"""Partnership network analysis: who works with whom, how closely, and what changed.

Every function takes a tidy DataFrame of *ties* (one row per named partnership: the
organisation that answered, ``source``, the one it named, ``target``, and its ratings
``frequency``, ``trust`` and ``value``, each 1-4 or missing) and a DataFrame of
*organisations* (``code``, ``name``, ``kind``, ``responded``), and returns tidy frames.
Structure measures come from networkx; nothing is rounded here.

Organisations that did not respond are nodes like any other (others name them), but their
own out-ties are unknown, so they are *shown but not scored*: their trust and value
scores are left missing, as are the scores of any organisation rated by fewer than
``min_raters`` respondents.
"""

from __future__ import annotations

from collections.abc import Mapping

import networkx as nx
import numpy as np
import pandas as pd

__all__ = [
    "RATINGS",
    "build_graph",
    "network_layout",
    "network_summary",
    "organisation_metrics",
    "tie_changes",
]

#: The ratings each tie carries (1 = lowest, 4 = highest).
RATINGS = ("frequency", "trust", "value")

_TIE_COLUMNS = ("source", "target", *RATINGS)
_ORG_COLUMNS = ("code", "name", "kind", "responded")


def _check(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} frame lacks the column(s): {', '.join(missing)}")


def build_graph(*, ties: pd.DataFrame, organisations: pd.DataFrame) -> nx.DiGraph:
    """The directed partnership graph: every organisation a node, every tie an edge.

    Parameters
    ----------
    ties : DataFrame
        Columns ``source``, ``target``, ``frequency``, ``trust``, ``value``. A tie named
        twice by the same organisation keeps its last ratings; self-ties are dropped.
    organisations : DataFrame
        Columns ``code``, ``name``, ``kind``, ``responded`` (bool).

    Returns
    -------
    networkx.DiGraph
        Node attributes ``name``, ``kind``, ``responded``; edge attributes the ratings
        (missing ratings are left out, so GraphML stays valid).

    Raises
    ------
    ValueError
        When a frame lacks a column, or a tie names an organisation not in the list.

    Examples
    --------
    >>> orgs = pd.DataFrame({"code": ["A", "B"], "name": ["A", "B"],
    ...                      "kind": ["school", "service"], "responded": [True, False]})
    >>> ties = pd.DataFrame({"source": ["A"], "target": ["B"], "frequency": [3],
    ...                      "trust": [4], "value": [None]})
    >>> g = build_graph(ties=ties, organisations=orgs)
    >>> sorted(g.edges(data=True))
    [('A', 'B', {'frequency': 3.0, 'trust': 4.0})]
    """
    _check(ties, _TIE_COLUMNS, "ties")
    _check(organisations, _ORG_COLUMNS, "organisations")
    graph = nx.DiGraph()
    for row in organisations.itertuples(index=False):
        graph.add_node(
            str(row.code), name=str(row.name), kind=str(row.kind), responded=bool(row.responded)
        )
    unknown = sorted(
        (set(ties["source"].astype(str)) | set(ties["target"].astype(str))) - set(graph.nodes)
    )
    if unknown:
        raise ValueError(f"ties name organisation(s) not in the list: {', '.join(unknown)}")
    for source, target, *ratings in ties.loc[:, list(_TIE_COLUMNS)].itertuples(index=False):
        if source == target:
            continue
        attrs = {
            name: float(value)
            for name, value in zip(RATINGS, ratings, strict=True)
            if not pd.isna(value)
        }
        graph.add_edge(str(source), str(target), **attrs)
    return graph


def network_summary(*, ties: pd.DataFrame, organisations: pd.DataFrame) -> pd.DataFrame:
    """Whole-network measures, one row per measure.

    Measures: ``organisations``, ``responded``, ``ties``, ``density`` (directed),
    ``reciprocity`` (share of ties returned; missing with no ties) and ``communities``
    (Louvain groups, see :func:`organisation_metrics`).

    Examples
    --------
    >>> orgs = pd.DataFrame({"code": list("ABC"), "name": list("ABC"),
    ...                      "kind": ["school"] * 3, "responded": [True] * 3})
    >>> ties = pd.DataFrame({"source": ["A", "B"], "target": ["B", "A"],
    ...                      "frequency": [1, 2], "trust": [1, 2], "value": [1, 2]})
    >>> s = network_summary(ties=ties, organisations=orgs).set_index("measure")["value"]
    >>> float(s["density"]), float(s["reciprocity"])
    (0.3333333333333333, 1.0)
    """
    graph = build_graph(ties=ties, organisations=organisations)
    edges = graph.number_of_edges()
    groups = _communities(graph, seed=1)
    rows = [
        ("organisations", float(graph.number_of_nodes())),
        ("responded", float(sum(1 for _, r in graph.nodes(data="responded") if r))),
        ("ties", float(edges)),
        ("density", float(nx.density(graph)) if graph.number_of_nodes() > 1 else np.nan),
        ("reciprocity", float(nx.reciprocity(graph)) if edges else np.nan),
        ("communities", float(len(set(groups.values())))),
    ]
    return pd.DataFrame(rows, columns=["measure", "value"])


def _communities(graph: nx.DiGraph, *, seed: int) -> dict[str, int]:
    """Louvain communities of the undirected graph, numbered 1.. by size then first code."""
    if graph.number_of_nodes() == 0:
        return {}
    found = nx.community.louvain_communities(graph.to_undirected(), seed=seed)
    ordered = sorted((sorted(str(n) for n in group) for group in found), key=lambda g: (-len(g), g))
    return {node: number for number, group in enumerate(ordered, 1) for node in group}


def organisation_metrics(
    *, ties: pd.DataFrame, organisations: pd.DataFrame, min_raters: int = 1, seed: int = 1
) -> pd.DataFrame:
    """One row per organisation: its place in the network and how partners rate it.

    Parameters
    ----------
    ties, organisations : DataFrame
        As for :func:`build_graph`.
    min_raters : int
        Fewest responding organisations that must rate an organisation before its
        ``trust``/``value``/``frequency`` scores are shown.
    seed : int
        Seed of the Louvain community detection (fixed, so results repeat).

    Returns
    -------
    DataFrame
        ``code``, ``name``, ``kind``, ``responded``, ``in_degree``, ``out_degree``,
        ``betweenness`` (normalised, directed), ``community`` (1 = largest), ``raters``
        (organisations rating it), ``scored`` (responded and rated by at least
        ``min_raters``) and the mean ratings received ``frequency``, ``trust``,
        ``value`` (missing when not scored).

    Examples
    --------
    >>> orgs = pd.DataFrame({"code": list("AB"), "name": list("AB"),
    ...                      "kind": ["school"] * 2, "responded": [True, False]})
    >>> ties = pd.DataFrame({"source": ["A"], "target": ["B"], "frequency": [2],
    ...                      "trust": [3], "value": [4]})
    >>> m = organisation_metrics(ties=ties, organisations=orgs)
    >>> m[["code", "in_degree", "out_degree", "scored"]].to_dict("records")
    [{'code': 'A', 'in_degree': 0, 'out_degree': 1, 'scored': False}, \
{'code': 'B', 'in_degree': 1, 'out_degree': 0, 'scored': False}]
    """
    graph = build_graph(ties=ties, organisations=organisations)
    between = nx.betweenness_centrality(graph) if graph.number_of_nodes() else {}
    groups = _communities(graph, seed=seed)
    rows = []
    for node, attrs in graph.nodes(data=True):
        received = [data for _, _, data in graph.in_edges(node, data=True)]
        raters = len(received)
        scored = bool(attrs["responded"]) and raters >= min_raters
        row = {
            "code": node,
            "name": attrs["name"],
            "kind": attrs["kind"],
            "responded": bool(attrs["responded"]),
            "in_degree": int(graph.in_degree(node)),
            "out_degree": int(graph.out_degree(node)),
            "betweenness": float(between.get(node, 0.0)),
            "community": groups.get(node, 0),
            "raters": raters,
            "scored": scored,
        }
        for rating in RATINGS:
            values = [d[rating] for d in received if rating in d]
            row[rating] = float(np.mean(values)) if scored and values else np.nan
        rows.append(row)
    columns = [
        "code", "name", "kind", "responded", "in_degree", "out_degree", "betweenness",
        "community", "raters", "scored", *RATINGS,
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def tie_changes(
    *, before: pd.DataFrame, after: pd.DataFrame, respondents: set[str] | None = None
) -> pd.DataFrame:
    """Ties new, lost and kept between two waves.

    Parameters
    ----------
    before, after : DataFrame
        Ties of the earlier and the later wave (``source``, ``target``).
    respondents : set of str, optional
        Organisations that responded in *both* waves. A tie whose naming organisation
        is not among them is ``not_comparable`` (its absence says nothing); ``None``
        compares every tie.

    Returns
    -------
    DataFrame
        ``source``, ``target``, ``change`` (``new``, ``lost``, ``kept`` or
        ``not_comparable``), sorted by source then target.

    Examples
    --------
    >>> b = pd.DataFrame({"source": ["A", "A"], "target": ["B", "C"]})
    >>> a = pd.DataFrame({"source": ["A", "B"], "target": ["B", "C"]})
    >>> tie_changes(before=b, after=a).to_dict("records")
    [{'source': 'A', 'target': 'B', 'change': 'kept'}, \
{'source': 'A', 'target': 'C', 'change': 'lost'}, \
{'source': 'B', 'target': 'C', 'change': 'new'}]
    """
    _check(before, ("source", "target"), "before")
    _check(after, ("source", "target"), "after")
    old = set(zip(before["source"].astype(str), before["target"].astype(str), strict=True))
    new = set(zip(after["source"].astype(str), after["target"].astype(str), strict=True))
    rows = []
    for tie in sorted(old | new):
        if tie[0] == tie[1]:
            continue
        if respondents is not None and tie[0] not in respondents:
            change = "not_comparable"
        elif tie in old and tie in new:
            change = "kept"
        else:
            change = "new" if tie in new else "lost"
        rows.append((tie[0], tie[1], change))
    return pd.DataFrame(rows, columns=["source", "target", "change"])


def network_layout(
    *,
    nodes: list[str],
    edges: list[tuple[str, str]],
    previous: Mapping[str, tuple[float, float]] | None = None,
    seed: int = 7,
) -> dict[str, tuple[float, float]]:
    """Stable positions in [0, 1] x [0, 1] for drawing a network.

    Lay out the *union* of the waves to be compared (pass every node and edge of
    both), so each organisation sits in the same place on both maps; ``previous``
    positions (for example last year's) seed the spring layout and are kept fixed,
    so a new wave only places what is new.

    Examples
    --------
    >>> pos = network_layout(nodes=["A", "B", "C"], edges=[("A", "B")])
    >>> sorted(pos) == ["A", "B", "C"] and all(0 <= x <= 1 for x, _ in pos.values())
    True
    >>> network_layout(nodes=["A", "B"], edges=[]) == network_layout(nodes=["A", "B"], edges=[])
    True
    """
    graph = nx.Graph()
    graph.add_nodes_from(sorted(nodes))
    graph.add_edges_from(sorted(edges))
    if graph.number_of_nodes() == 0:
        return {}
    if graph.number_of_nodes() == 1:
        return {next(iter(graph.nodes)): (0.5, 0.5)}
    kept = {n: tuple(map(float, previous[n])) for n in graph if previous and n in previous}
    raw = nx.spring_layout(
        graph,
        pos=kept or None,
        fixed=sorted(kept) if len(kept) > 1 else None,
        seed=seed,
        k=1.5 / np.sqrt(graph.number_of_nodes()),
    )
    if len(kept) > 1:
        return {n: (float(np.clip(x, 0, 1)), float(np.clip(y, 0, 1))) for n, (x, y) in raw.items()}
    xs = np.array([p[0] for p in raw.values()])
    ys = np.array([p[1] for p in raw.values()])
    span = max(float(np.ptp(xs)), float(np.ptp(ys)), 1e-9)
    return {
        n: (float((x - xs.min()) / span), float((y - ys.min()) / span)) for n, (x, y) in raw.items()
    }
