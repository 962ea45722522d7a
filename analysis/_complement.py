"""Complementary (secondary) suppression: choosing extra cells to hide.

Two cases:

* One-way partitions (the sites of one item add up to the whole-wave row): a hidden
  cell can be worked out exactly when it is the only hidden cell of its partition, so
  every partition with exactly one hidden cell gets its smallest shown cell hidden too.
* Two-way tables with margins (breakdowns: sites x group values, where each site's
  cells add up to its total and each group's cells across sites add up to the
  whole-wave row, which is itself a row of the table): write each hidden cell as an
  edge between its row and its column. The hidden cells can be solved for exactly
  where, and only where, an edge is a bridge of that graph (it lies on no cycle; a
  cycle of hidden cells can move values around it without changing any margin). So
  for every bridge the cheapest path of shown cells that closes a cycle through it is
  hidden, until no bridge is left.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

__all__ = ["complete_partitions", "protect_grid"]

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

#: Cost of hiding a cell with a count of 0 (it hides nothing real, but readers lose a
#: shown zero): cheaper than any real count.
_ZERO_COST = 0.5
#: Tables up to this many cells (a community of 5-30 schools) go straight to the
#: cheapest-cycle search, which loses least; larger ones are first peeled greedily
#: (vectorised), which is quicker but can hide more.
_EXACT_CELLS = 160
#: Added to the cost of a cell that is the last real group its row shows.
_LAST_COST = 1e6


def complete_partitions(
    gid: IntArray, include: BoolArray, supp: BoolArray, count: FloatArray
) -> BoolArray:
    """Hide the smallest shown non-zero row of every partition with one hidden row.

    ``gid`` numbers the partitions, ``include`` marks the rows that take part. Hidden
    rows whose count is unknown (already emptied) are treated as non-zero.
    """
    supp = supp.copy()
    rows = np.flatnonzero(include)
    if rows.size == 0:
        return supp
    g = gid[rows]
    n_groups = int(g.max()) + 1
    while True:
        hidden = supp[rows] & ~(count[rows] == 0)
        n_hidden = np.bincount(g, weights=hidden, minlength=n_groups)
        cand = ~supp[rows] & (count[rows] > 0) & (n_hidden[g] == 1)
        if not cand.any():
            return supp
        idx = rows[cand]
        order = np.lexsort((idx, count[idx], gid[idx]))
        sorted_g = gid[idx][order]
        first = np.ones(sorted_g.size, dtype=bool)
        first[1:] = sorted_g[1:] != sorted_g[:-1]
        supp[idx[order][first]] = True


def _adjacency(n_nodes: int, ends: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    adj: list[list[tuple[int, int]]] = [[] for _ in range(n_nodes)]
    for e, (a, b) in enumerate(ends):
        adj[a].append((b, e))
        adj[b].append((a, e))
    return adj


def _bridges(n_nodes: int, ends: list[tuple[int, int]], edges: list[int]) -> Iterator[int]:
    """Bridges among ``edges`` (indices into ``ends``): iterative Tarjan."""
    adj = _adjacency(n_nodes, [ends[e] for e in edges])
    disc = [-1] * n_nodes
    low = [0] * n_nodes
    clock = 0
    for root in range(n_nodes):
        if disc[root] != -1 or not adj[root]:
            continue
        disc[root] = low[root] = clock
        clock += 1
        stack = [(root, -1, iter(adj[root]))]
        while stack:
            node, via, neighbours = stack[-1]
            for nxt, local in neighbours:
                if local == via:
                    continue
                if disc[nxt] == -1:
                    disc[nxt] = low[nxt] = clock
                    clock += 1
                    stack.append((nxt, local, iter(adj[nxt])))
                    break
                low[node] = min(low[node], disc[nxt])
            else:
                stack.pop()
                if stack:
                    parent = stack[-1][0]
                    low[parent] = min(low[parent], low[node])
                    if low[node] > disc[parent]:
                        yield edges[via]


def _reach(start: int, adj: list[list[tuple[int, int]]], skip: int) -> set[int]:
    seen = {start}
    todo = [start]
    while todo:
        node = todo.pop()
        for nxt, e in adj[node]:
            if e != skip and nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _cheapest_path(
    sources: set[int],
    targets: set[int],
    adj: list[list[tuple[int, int]]],
    cost: list[float],
    skip: int,
) -> list[int] | None:
    """Edges of the cheapest path from ``sources`` to ``targets`` (Dijkstra)."""
    best = dict.fromkeys(sources, 0.0)
    back: dict[int, tuple[int, int]] = {}
    heap = [(0.0, node) for node in sorted(sources)]
    heapq.heapify(heap)
    while heap:
        dist, node = heapq.heappop(heap)
        if dist > best.get(node, np.inf):
            continue
        if node in targets:
            path = []
            while node in back:
                node, e = back[node]
                path.append(e)
            return path
        for nxt, e in adj[node]:
            if e == skip or cost[e] == np.inf:
                continue
            step = dist + cost[e]
            if step < best.get(nxt, np.inf):
                best[nxt] = step
                back[nxt] = (node, e)
                heapq.heappush(heap, (step, nxt))
    return None


def _peel(
    ends: npt.NDArray[np.intp],
    hidden: BoolArray,
    counts: FloatArray,
    real: BoolArray,
    n_nodes: int,
    costs: FloatArray,
) -> BoolArray:
    """Vectorised first pass: no row or column may have exactly one non-zero hidden cell.

    A node (row or column equation) with a single unknown gives it away; hide the
    cheapest shown non-zero cell of that row or column, and repeat. What is left for
    the exact bridge search afterwards is rare.
    """
    hidden = hidden.copy()
    usable = real & (counts > 0) & ~np.isnan(counts)
    while True:
        h = np.flatnonzero(hidden)
        degree = np.bincount(ends[h].ravel(), minlength=n_nodes)
        alone = (degree[ends[:, 0]] == 1) | (degree[ends[:, 1]] == 1)
        lone = hidden & real & ~(counts == 0) & alone
        if not lone.any():
            return hidden
        needy = np.zeros(n_nodes, dtype=bool)
        for side in (0, 1):
            needy[ends[lone, side][degree[ends[lone, side]] == 1]] = True
        cand = np.flatnonzero(~hidden & usable)
        node = np.concatenate([ends[cand, 0], ends[cand, 1]])
        edge = np.concatenate([cand, cand])
        keep = needy[node]
        node, edge = node[keep], edge[keep]
        if node.size == 0:
            return hidden
        order = np.lexsort((edge, costs[edge], node))
        first = np.ones(order.size, dtype=bool)
        first[1:] = node[order][1:] != node[order][:-1]
        hidden[edge[order][first]] = True


def _last_real_cells(
    ends: list[tuple[int, int]],
    hidden_mask: list[bool],
    counts: list[float],
    real: list[bool],
    residual: BoolArray | None,
    n_rows: int,
) -> list[bool]:
    """Cells that are the only real group their row still shows (hiding one withholds it)."""
    if residual is None:
        return [False] * len(ends)
    n_real = len(residual)
    shown = [
        e < n_real and real[e] and not hidden_mask[e] and not residual[e] and counts[e] > 0
        for e in range(len(ends))
    ]
    per_row = [0] * n_rows
    for e, ok in enumerate(shown):
        if ok:
            per_row[ends[e][0]] += 1
    return [ok and per_row[ends[e][0]] == 1 for e, ok in enumerate(shown)]


def _exposed(
    ends: list[tuple[int, int]],
    hidden_mask: list[bool],
    counts: list[float],
    real: list[bool],
    n_nodes: int,
    hopeless: set[int],
) -> bool:
    """Whether some hidden non-zero cell could be solved for (is a bridge)."""
    hidden = [e for e, h in enumerate(hidden_mask) if h]
    return any(
        real[e] and counts[e] != 0 and e not in hopeless for e in _bridges(n_nodes, ends, hidden)
    )


def _prune(
    ends: list[tuple[int, int]],
    hidden_mask: list[bool],
    counts: list[float],
    costs: list[float],
    real: list[bool],
    n_nodes: int,
    primary: BoolArray,
    hopeless: set[int],
) -> list[bool]:
    """Show again every complementary cell the others protect without, dearest first.

    The greedy passes above can hide more than needed (a cell chosen early may be
    protected by cells chosen later); each is tried and kept shown if no hidden cell
    becomes solvable.
    """
    extra = [e for e in range(len(primary)) if hidden_mask[e] and not primary[e]]
    mask = list(hidden_mask)
    for e in sorted(extra, key=lambda e: (-costs[e], e)):
        mask[e] = False
        if _exposed(ends, mask, counts, real, n_nodes, hopeless):
            mask[e] = True
    return mask


def protect_grid(
    row: IntArray,
    col: IntArray,
    supp: BoolArray,
    count: FloatArray,
    *,
    row_totals_known: BoolArray | None = None,
    column_totals_known: bool = True,
    cost: FloatArray | None = None,
    residual: BoolArray | None = None,
) -> BoolArray:
    """Hide cells of one two-way table until no hidden cell can be solved for.

    Parameters
    ----------
    row, col : ndarray of int
        Each cell's row node (0..R-1: its site, with the whole-wave row as one more
        row) and column node (its group value). Row totals (site totals) are taken as
        published.
    supp : ndarray of bool
        Cells already hidden.
    count : ndarray of float
        Each cell's count (NaN if already emptied, treated as non-zero).
    row_totals_known : ndarray of bool, optional
        Per row node, whether its total is published (default: all are). A site
        total below k is hidden in the summary, so its row has an unknown total.
    column_totals_known : bool
        Whether each column's total is published (as the whole-wave row or through
        benchmarks). If not, each column gets an unknown total.
    cost : ndarray of float, optional
        What hiding each cell loses (default: its count). Complementary cells are the
        cheapest set that protects; callers weight cells readers need less (such as
        "prefer not to say") below their counts.
    residual : ndarray of bool, optional
        Cells of residual groups ("prefer not to say", "not stated"). A real group's
        cell that is the last one its row still shows is used only when no other
        choice protects: hiding it would withhold the row's whole breakdown.

    Notes
    -----
    Complementary cells are chosen among non-zero cells, cheapest first (hiding a
    zero protects little: a reader who knows how many people are in the cell can
    bound it tightly); zero cells are used only when nothing else can close the cycle.
    """
    n_cells = len(row)
    n_rows = int(row.max()) + 1 if n_cells else 0
    n_cols = int(col.max()) + 1 if n_cells else 0
    ends = [(int(r), n_rows + int(c)) for r, c in zip(row, col, strict=True)]
    hidden_mask = list(supp)
    counts = [float(c) for c in count]
    costs = [float(c) for c in (count if cost is None else cost)]
    n_nodes = n_rows + n_cols
    # An unknown total is an always-hidden edge from its row or column to one extra
    # node (every unknown total appears in no other published equation).
    free = n_nodes
    virtual = []
    if row_totals_known is not None:
        virtual += [(free, r) for r in range(n_rows) if not row_totals_known[r]]
    if not column_totals_known:
        virtual += [(free, n_rows + c) for c in range(n_cols)]
    if virtual:
        ends += virtual
        hidden_mask += [True] * len(virtual)
        counts += [np.nan] * len(virtual)
        costs += [np.nan] * len(virtual)
        n_nodes += 1
    real = [e < n_cells for e in range(len(ends))]
    if n_cells > _EXACT_CELLS:
        peeled = _peel(
            np.array(ends, dtype=np.intp).reshape(-1, 2),
            np.array(hidden_mask, dtype=bool),
            np.array(counts),
            np.array(real, dtype=bool),
            n_nodes,
            np.array(costs),
        )
        hidden_mask = peeled.tolist()
    adj = _adjacency(n_nodes, ends)
    hopeless: set[int] = set()
    while True:
        # Every hidden cell is an unknown to a reader, zeros included; but a hidden
        # zero that can be solved for discloses nobody, so only non-zero bridges count.
        hidden = [e for e, h in enumerate(hidden_mask) if h]
        bridge = next(
            (
                e
                for e in _bridges(n_nodes, ends, hidden)
                if real[e] and counts[e] != 0 and e not in hopeless
            ),
            None,
        )
        if bridge is None:
            if n_cells <= _EXACT_CELLS:
                hidden_mask = _prune(
                    ends, hidden_mask, counts, costs, real, n_nodes, supp, hopeless
                )
            return np.array(hidden_mask[:n_cells], dtype=bool)
        hidden_set = set(hidden)
        hidden_adj = [[(n, e) for n, e in nbrs if e in hidden_set] for nbrs in adj]
        u, v = ends[bridge]
        side_u = _reach(u, hidden_adj, bridge)
        side_v = _reach(v, hidden_adj, bridge)
        path = None
        last = _last_real_cells(ends, hidden_mask, counts, real, residual, n_rows)
        for zero_cost in (np.inf, _ZERO_COST):
            step = [
                0.0
                if hidden_mask[e]
                else (zero_cost if counts[e] == 0 else costs[e] + (_LAST_COST if last[e] else 0))
                for e in range(len(ends))
            ]
            path = _cheapest_path(side_u, side_v, adj, step, bridge)
            if path is not None:
                break
        fresh = [e for e in path or [] if not hidden_mask[e]]
        if fresh:
            for e in fresh:
                hidden_mask[e] = True
        else:
            # No cell of this table can protect it: its margins must be hidden
            # elsewhere (a site total below k is hidden in the summary).
            hopeless.add(bridge)
