"""Partnership network measures, checked against networkx and against hand computation."""

from __future__ import annotations

import math

import networkx as nx
import pandas as pd
import pytest

from analysis.network import (
    build_graph,
    network_layout,
    network_summary,
    organisation_metrics,
    tie_changes,
)


def _orgs(codes: list[str], responded: set[str] | None = None) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "code": codes,
            "name": [f"Organisation {c}" for c in codes],
            "kind": ["school"] * len(codes),
            "responded": [responded is None or c in responded for c in codes],
        }
    )


def _ties(pairs: list[tuple[str, str]], **ratings: list[float]) -> pd.DataFrame:
    frame = pd.DataFrame(pairs, columns=["source", "target"])
    for name in ("frequency", "trust", "value"):
        frame[name] = ratings.get(name, [float("nan")] * len(pairs))
    return frame


@pytest.fixture(scope="module")
def known() -> nx.DiGraph:
    """A directed random graph networkx makes the same way every time."""
    graph = nx.gnp_random_graph(40, 0.12, seed=11, directed=True)
    return nx.relabel_nodes(graph, {n: f"O{n:02d}" for n in graph})


def _from(graph: nx.DiGraph) -> tuple[pd.DataFrame, pd.DataFrame]:
    return _orgs(sorted(graph.nodes)), _ties(sorted(graph.edges))


def test_measures_match_networkx_on_a_known_graph(known: nx.DiGraph) -> None:
    orgs, ties = _from(known)
    summary = network_summary(ties=ties, organisations=orgs).set_index("measure")["value"]
    assert summary["density"] == pytest.approx(nx.density(known))
    assert summary["reciprocity"] == pytest.approx(nx.reciprocity(known))
    assert summary["ties"] == known.number_of_edges()
    metrics = organisation_metrics(ties=ties, organisations=orgs).set_index("code")
    between = nx.betweenness_centrality(known)
    for node in known:
        assert metrics.loc[node, "in_degree"] == known.in_degree(node)
        assert metrics.loc[node, "out_degree"] == known.out_degree(node)
        assert metrics.loc[node, "betweenness"] == pytest.approx(between[node])


def test_communities_are_networkx_louvain_with_the_fixed_seed(known: nx.DiGraph) -> None:
    orgs, ties = _from(known)
    metrics = organisation_metrics(ties=ties, organisations=orgs, seed=5)
    ours = {frozenset(g["code"]) for _, g in metrics.groupby("community")}
    theirs = {frozenset(g) for g in nx.community.louvain_communities(known.to_undirected(), seed=5)}
    assert ours == theirs
    again = organisation_metrics(ties=ties, organisations=orgs, seed=5)
    assert again["community"].tolist() == metrics["community"].tolist()
    sizes = metrics["community"].value_counts().sort_index().tolist()
    assert sizes == sorted(sizes, reverse=True)  # group 1 is the largest


def test_a_tiny_network_by_hand() -> None:
    # A <-> B, B -> C, C -> B; D named by nobody and naming nobody.
    orgs = _orgs(list("ABCD"))
    ties = _ties(
        [("A", "B"), ("B", "A"), ("B", "C"), ("C", "B")],
        trust=[4, 2, 3, 1],
        value=[3, 3, 1, float("nan")],
        frequency=[4, 4, 2, 2],
    )
    summary = network_summary(ties=ties, organisations=orgs).set_index("measure")["value"]
    assert summary["density"] == pytest.approx(4 / 12)
    assert summary["reciprocity"] == pytest.approx(1.0)
    m = organisation_metrics(ties=ties, organisations=orgs, min_raters=1).set_index("code")
    # B lies on the only paths A->C and C->A: 2 of (n-1)(n-2) = 6 ordered pairs.
    assert m.loc["B", "betweenness"] == pytest.approx(2 / 6)
    assert m.loc["A", "betweenness"] == 0
    # B is rated by A (trust 4) and C (trust 1); only A rated its value.
    assert m.loc["B", "trust"] == pytest.approx(2.5)
    assert m.loc["B", "value"] == pytest.approx(3.0)
    assert m.loc["B", "raters"] == 2
    assert not m.loc["D", "scored"] and math.isnan(m.loc["D", "trust"])


def test_non_respondents_and_thinly_rated_organisations_are_shown_but_not_scored() -> None:
    orgs = _orgs(list("ABC"), responded={"A", "B"})
    ties = _ties([("A", "C"), ("B", "C"), ("A", "B")], trust=[4, 4, 2])
    m = organisation_metrics(ties=ties, organisations=orgs, min_raters=2).set_index("code")
    assert m.loc["C", "in_degree"] == 2  # on the map, with its ties
    assert not m.loc["C", "scored"] and math.isnan(m.loc["C", "trust"])  # did not respond
    assert not m.loc["B", "scored"]  # one rater, fewer than 2
    assert math.isnan(m.loc["B", "trust"])
    loose = organisation_metrics(ties=ties, organisations=orgs, min_raters=1).set_index("code")
    assert loose.loc["B", "trust"] == 2


def test_summary_of_an_empty_network() -> None:
    summary = network_summary(ties=_ties([]), organisations=_orgs(["A"]))
    values = summary.set_index("measure")["value"]
    assert values["ties"] == 0 and math.isnan(values["reciprocity"])


def test_ties_to_unknown_organisations_and_missing_columns_are_refused() -> None:
    with pytest.raises(ValueError, match="not in the list: Z"):
        build_graph(ties=_ties([("A", "Z")]), organisations=_orgs(["A"]))
    with pytest.raises(ValueError, match="lacks the column"):
        build_graph(ties=pd.DataFrame({"source": ["A"]}), organisations=_orgs(["A"]))


def test_tie_changes_between_waves() -> None:
    before = _ties([("A", "B"), ("A", "C"), ("D", "A")])
    after = _ties([("A", "B"), ("B", "C"), ("C", "A")])
    changes = tie_changes(before=before, after=after).set_index(["source", "target"])["change"]
    assert changes.to_dict() == {
        ("A", "B"): "kept",
        ("A", "C"): "lost",
        ("B", "C"): "new",
        ("C", "A"): "new",
        ("D", "A"): "lost",
    }
    # D did not answer both times: its tie's absence says nothing.
    compared = tie_changes(before=before, after=after, respondents={"A", "B", "C"})
    assert compared.set_index(["source", "target"]).loc[("D", "A"), "change"] == ("not_comparable")


def test_layout_is_repeatable_and_keeps_previous_positions() -> None:
    nodes, edges = list("ABCDE"), [("A", "B"), ("B", "C"), ("C", "D")]
    first = network_layout(nodes=nodes, edges=edges)
    assert first == network_layout(nodes=nodes, edges=edges)
    assert all(0 <= x <= 1 and 0 <= y <= 1 for x, y in first.values())
    later = network_layout(nodes=[*nodes, "F"], edges=[*edges, ("E", "F")], previous=first)
    for node in nodes:
        assert later[node] == pytest.approx(first[node])
    assert 0 <= later["F"][0] <= 1
