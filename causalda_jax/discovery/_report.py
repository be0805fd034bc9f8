"""Where data and expert knowledge agree and disagree, with bootstrap stability and a consensus graph."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import networkx as nx
import numpy as np
import pandas as pd

from ._acyclic import greedy_dag
from ._ci_tests import CITest
from ._cpdag import compelled_edges
from ._edge_stats import parent_pvalue
from ._knowledge import Knowledge

__all__ = ["DisagreementReport", "build_report"]

_EXPERT_COLUMNS = [
    "source", "target", "kind", "confidence", "verdict", "p_value", "data_strength",
    "data_frequency", "reverse_frequency", "compelled_frequency", "reverse_compelled_frequency",
    "in_data_graph", "in_graph", "sentence",
]
_DISAGREEMENTS = ("conflict", "not supported", "direction disputed")
_KIND_WORDS = {
    "forbidden": "which the knowledge forbids",
    "tiers": "which points from a later tier back to an earlier one",
    "reverses required": "which would reverse a path of required edges",
}


def _rules_out(knowledge: Knowledge, u, v) -> bool:
    """True when the tiers or a hard forbidden edge rule out ``u -> v``. (Required edges are left
    aside: every required edge rules out its own reverse, which is what a dispute questions.)"""
    tu, tv = knowledge.tier(u), knowledge.tier(v)
    if tu is not None and tv is not None and tu > tv:
        return True
    return (u, v) in set(knowledge.forbidden) and knowledge.is_hard(u, v)


def _share(x: float) -> str:
    return f"{100 * x:.0f}%"


def _evidence(r: dict, n_boot: int) -> str:
    """The numbers behind a verdict, in words."""
    p = r["p_value"]
    parts = [f"CI test p = {p:.2g}" if np.isfinite(p) else "no CI test"]
    if n_boot:
        parts.append(f"{r['source']} -> {r['target']} in {_share(r['data_frequency'])} of {n_boot} data-only fits, "
                     f"the reverse in {_share(r['reverse_frequency'])}")
    else:
        parts.append("in the data-only fit" if r["in_data_graph"] else "not in the data-only fit")
    return "; ".join(parts)


def _sentence(r: dict, n_boot: int, reverse_allowed: bool) -> str:
    """One plain sentence for a row of the report, with its evidence."""
    u, v, verdict = r["source"], r["target"], r["verdict"]
    ev = _evidence(r, n_boot)
    if verdict == "conflict":
        return f"The data support {u} -> {v}, {_KIND_WORDS[r['kind']]} ({ev})."
    if verdict == "not supported":
        return (f"The required edge {u} -> {v} is not supported: {u} and {v} look independent given the other "
                f"parents of {v} and are rarely adjacent ({ev}).")
    if verdict == "direction disputed":
        return (f"The data orient {v} -> {u}, against the required {u} -> {v}, and the knowledge would allow "
                f"that direction ({ev}).")
    if verdict == "dependent":
        return (f"{u} and {v} are dependent although the knowledge rules out an edge either way ({ev}): "
                "a common cause outside the data, or knowledge that is wrong.")
    if verdict == "supported":
        tail = (f"; the data alone would orient it {v} -> {u}, which the knowledge rules out"
                if r["reverse_compelled"] and not reverse_allowed else "")
        return f"The required edge {u} -> {v} is supported ({ev}{tail})."
    return f"{u} -> {v} is {r['kind']} and the data agree ({ev})."


@dataclass(frozen=True)
class DisagreementReport:
    """Comparison of expert knowledge with what the data say.

    Attributes:
        edges: one row per required edge, per forbidden edge, and per data-supported edge that
            points against the tiers or reverses a required path. Columns: ``source``,
            ``target``, ``kind`` (``required`` / ``forbidden`` / ``tiers`` / ``reverses
            required``), ``confidence``, ``verdict``, ``p_value`` (CI test of source and target
            given the target's other parents in the data-only graph), ``data_strength`` (edge
            weight learned from data alone), ``data_frequency`` and ``reverse_frequency`` (share
            of data-only bootstrap fits with ``source -> target`` and with ``target -> source``),
            ``compelled_frequency`` and ``reverse_compelled_frequency`` (the same, counting only
            orientations compelled in the fit's equivalence class, i.e. fixed by conditional
            independences), ``in_data_graph``, ``in_graph``. Without bootstrap the frequencies
            are NaN and the data-only fit decides.
            ``sentence`` states the verdict and its evidence in plain words.
            Verdicts for required edges: ``not supported`` (CI test not significant and the
            pair adjacent in under half the data-only fits), ``direction disputed`` (the reverse
            is compelled in at least half the fits and neither the tiers nor a hard forbidden
            edge rule the reverse out; a reverse the knowledge rules out is no dispute), else
            ``supported``. For forbidden and
            tier-violating edges: ``conflict`` when ``p_value < alpha`` and the edge is
            compelled in at least ``conflict_frequency`` of the fits; ``dependent`` when
            ``p_value < alpha``, the pair is adjacent that often but in no compelled direction,
            and the knowledge rules out the reverse too (a common cause outside the data
            explains it); else ``consistent``.
            A data-driven orientation the equivalence class leaves open is no evidence against
            the expert, so it raises no flag.
        stability: one row per edge seen in any fit: ``frequency`` (knowledge-constrained
            bootstrap), ``data_frequency`` (data-only bootstrap), ``in_graph``, ``in_data_graph``.
        consensus: DAG of the edges with knowledge-constrained bootstrap frequency at least
            ``consensus_frequency``, added most frequent first without closing a cycle.
        alpha: significance level used in the verdicts.
        n_bootstrap: number of bootstrap resamples (0: frequencies are NaN).
    """

    edges: pd.DataFrame
    stability: pd.DataFrame
    consensus: nx.DiGraph
    alpha: float
    n_bootstrap: int

    @property
    def conflicts(self) -> pd.DataFrame:
        """Rows of :attr:`edges` where the data contradict the expert: conflicts, required edges
        the data do not support, and disputed directions whose reverse the knowledge allows."""
        bad = self.edges["verdict"].isin(_DISAGREEMENTS)
        return self.edges[bad].reset_index(drop=True)

    def disagreements(self) -> list[str]:
        """One plain sentence with its evidence per real disagreement: required edges first, then by
        confidence of the knowledge and strength of the evidence (smallest p-value first)."""
        rows = self.conflicts
        # Verdicts on what the expert asserted (required edges) first, then the strongest evidence.
        rank = rows["kind"].map(lambda k: 0 if k == "required" else 1)
        order = pd.DataFrame({"rank": rank, "confidence": -rows["confidence"], "p": rows["p_value"].fillna(1.0)})
        return rows["sentence"].iloc[order.sort_values(["rank", "confidence", "p"], kind="stable").index].tolist()

    def dependent_pairs(self) -> list[tuple]:
        """Pairs the data find dependent although the knowledge rules out an edge either way (verdict
        ``dependent``), once per pair: a common cause outside the data, not a disagreement."""
        rows = self.edges[self.edges["verdict"] == "dependent"]
        return list(dict.fromkeys(tuple(sorted((r.source, r.target), key=str)) for r in rows.itertuples()))

    def to_csv(self, path) -> str:
        """Write :attr:`edges` (every verdict, with its sentence) as CSV; returns the path."""
        self.edges.to_csv(path, index=False)
        return str(path)

    def agreement(self, graph: nx.DiGraph) -> dict[tuple, str]:
        """Category of each edge for drawing: ``both`` (required and found from data alone),
        ``expert only`` (required, not found from data alone), ``data only`` (in ``graph`` but not
        required), ``conflict`` (found from data alone but against the knowledge; not in ``graph``)."""
        out: dict[tuple, str] = {}
        req = self.edges[self.edges["kind"] == "required"]
        for row in req.itertuples():
            out[(row.source, row.target)] = "both" if row.in_data_graph else "expert only"
        for u, v in graph.edges:
            out.setdefault((u, v), "data only")
        for row in self.edges[self.edges["verdict"] == "conflict"].itertuples():
            out.setdefault((row.source, row.target), "conflict")
        return out

    def to_markdown(self, csv_link: str | None = None) -> str:
        """A human-readable report; ``csv_link`` names the CSV of :meth:`to_csv` to link to."""
        lines = ["# Causal discovery: data vs expert knowledge", ""]
        e = self.edges
        req = e[e["kind"] == "required"]
        other = e[e["kind"] != "required"]
        lines.append(
            f"- required edges: {len(req)}; supported by the data: {int((req['verdict'] == 'supported').sum())}, "
            f"direction disputed: {int((req['verdict'] == 'direction disputed').sum())}, "
            f"not supported: {int((req['verdict'] == 'not supported').sum())}"
        )
        lines.append(f"- edges the data support against the knowledge: {int((other['verdict'] == 'conflict').sum())}")
        lines.append(f"- bootstrap resamples: {self.n_bootstrap}; significance level: {self.alpha}")
        lines.append("")
        lines += ["## Disagreements", ""] + ([f"- {t}" for t in self.disagreements()] or ["(none)"]) + [""]
        if csv_link:
            lines += [f"Every verdict with its evidence: [{csv_link}]({csv_link}).", ""]
        pairs = self.dependent_pairs()
        if pairs:
            lines += [f"Dependent although the knowledge rules out an edge either way (a common cause outside the "
                      f"data, not a disagreement): {', '.join(f'{a} - {b}' for a, b in pairs)}.", ""]

        def table(df: pd.DataFrame) -> list[str]:
            if df.empty:
                return ["(none)", ""]
            df = df.copy()
            for c in df.columns:
                if df[c].dtype.kind == "f":
                    df[c] = df[c].map(lambda x: "" if pd.isna(x) else f"{x:.3g}")
            header = "| " + " | ".join(map(str, df.columns)) + " |"
            sep = "|" + "|".join("---" for _ in df.columns) + "|"
            rows = ["| " + " | ".join(map(str, r)) + " |" for r in df.itertuples(index=False)]
            return [header, sep, *rows, ""]

        lines += ["## Expert edges", ""] + table(req.drop(columns=["kind", "sentence"]))
        lines += ["## Knowledge the data contradict", ""] + table(
            other[other["verdict"] == "conflict"].drop(columns=["sentence"]))
        lines += ["## Edge stability (bootstrap)", ""] + table(self.stability)
        cons = sorted(self.consensus.edges, key=lambda t: (str(t[0]), str(t[1])))
        lines += ["## Consensus graph", ""] + ([f"- {u} -> {v}" for u, v in cons] or ["(empty)"]) + [""]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"DisagreementReport(edges={len(self.edges)}, conflicts={len(self.conflicts)}, n_bootstrap={self.n_bootstrap})"


def build_report(
    *,
    nodes: list,
    knowledge: Knowledge,
    test: CITest,
    graph: np.ndarray,
    data_graph: np.ndarray,
    data_strength: np.ndarray,
    boot_graphs: np.ndarray,
    boot_data_graphs: np.ndarray,
    allowed: np.ndarray,
    required: np.ndarray,
    alpha: float = 0.05,
    conflict_frequency: float = 0.5,
    consensus_frequency: float = 0.5,
) -> DisagreementReport:
    """Assemble a :class:`DisagreementReport` from host arrays over ``nodes`` (index order).

    ``graph``/``data_graph`` are the knowledge-constrained and data-only DAGs (``(d, d)`` bool),
    ``boot_graphs``/``boot_data_graphs`` their bootstrap replicates (``(B, d, d)``, ``B`` may be 0).
    """
    freqs = _frequencies(graph, data_graph, boot_graphs, boot_data_graphs, conflict_frequency)
    ev = _Evidence(list(nodes), {v: i for i, v in enumerate(nodes)}, knowledge, test, graph, data_graph,
                   data_strength, freqs, alpha)
    rows = _required_rows(ev) + _forbidden_rows(ev) + _violation_rows(ev, conflict_frequency)
    edges = pd.DataFrame([_with_sentence(ev, r) for r in rows], columns=_EXPERT_COLUMNS)
    edges["source"] = edges["source"].astype(object)
    edges["target"] = edges["target"].astype(object)
    stability = _stability(ev)
    consensus = _consensus(ev, allowed, required, consensus_frequency)
    return DisagreementReport(edges, stability, consensus, float(alpha), int(freqs.n_boot))


class _Frequencies(NamedTuple):
    """Bootstrap shares of each ``(d, d)`` edge (NaN without bootstrap) and what the verdicts read."""

    n_boot: int
    freq: np.ndarray  # knowledge-constrained fits with the edge
    data_freq: np.ndarray  # data-only fits with the edge
    comp_freq: np.ndarray  # data-only fits with the edge compelled
    adjacent: np.ndarray  # bool: the pair adjacent in at least half the data-only fits
    compelled: np.ndarray  # bool: the orientation compelled often enough to count against the knowledge


def _frequencies(graph, data_graph, boot_graphs, boot_data_graphs, conflict_frequency: float) -> _Frequencies:
    n_boot = boot_graphs.shape[0]
    if not n_boot:
        # Without bootstrap the single data-only fit stands in for the frequencies.
        nan = np.full(graph.shape, np.nan)
        return _Frequencies(0, nan, nan, nan, data_graph | data_graph.T, compelled_edges(data_graph))
    data_freq = boot_data_graphs.mean(axis=0)
    comp_freq = np.mean([compelled_edges(g) for g in boot_data_graphs], axis=0)
    return _Frequencies(n_boot, boot_graphs.mean(axis=0), data_freq, comp_freq, data_freq + data_freq.T >= 0.5,
                        comp_freq >= conflict_frequency)


class _Evidence(NamedTuple):
    """Everything a verdict reads, over ``nodes`` in index order."""

    nodes: list
    index: dict
    knowledge: Knowledge
    test: CITest
    graph: np.ndarray
    data_graph: np.ndarray
    data_strength: np.ndarray
    freqs: _Frequencies
    alpha: float


def _edge_row(ev: _Evidence, u, v, kind: str, verdict_of) -> dict:
    """One row of the report for ``u -> v``; ``verdict_of(ev, p_value, i, j)`` names the verdict."""
    i, j = ev.index[u], ev.index[v]
    p = parent_pvalue(ev.test, ev.data_graph, i, j)
    f = ev.freqs
    return {
        "source": u, "target": v, "kind": kind, "confidence": ev.knowledge.confidence(u, v),
        "verdict": verdict_of(ev, p, i, j), "p_value": p, "data_strength": float(ev.data_strength[i, j]),
        "data_frequency": float(f.data_freq[i, j]), "reverse_frequency": float(f.data_freq[j, i]),
        "compelled_frequency": float(f.comp_freq[i, j]), "reverse_compelled_frequency": float(f.comp_freq[j, i]),
        "in_data_graph": bool(ev.data_graph[i, j]), "in_graph": bool(ev.graph[i, j]),
    }


def _required_verdict(ev: _Evidence, p: float, i: int, j: int) -> str:
    """Verdict on an edge the knowledge requires."""
    if p >= ev.alpha and not ev.freqs.adjacent[i, j]:
        return "not supported"
    if ev.freqs.compelled[j, i] and not _rules_out(ev.knowledge, ev.nodes[j], ev.nodes[i]):
        return "direction disputed"
    # A reverse orientation the knowledge rules out is no dispute: the pair is adjacent
    # (or dependent) and the knowledge fixes the direction the data leave to chance.
    return "supported"


def _ruled_out_verdict(ev: _Evidence, p: float, i: int, j: int) -> str:
    """Verdict on an edge the knowledge rules out."""
    if p >= ev.alpha:
        return "consistent"
    if ev.freqs.compelled[i, j]:
        return "conflict"
    if ev.freqs.adjacent[i, j] and not ev.knowledge.allows(ev.nodes[j], ev.nodes[i]):
        # Dependent, with an edge ruled out either way and no orientation the data fix:
        # a common cause outside the data fits both, so this is not evidence against the expert.
        return "dependent"
    return "consistent"


def _required_rows(ev: _Evidence) -> list[dict]:
    return [_edge_row(ev, u, v, "required", _required_verdict) for u, v in ev.knowledge.required]


def _forbidden_rows(ev: _Evidence) -> list[dict]:
    return [_edge_row(ev, u, v, "forbidden", _ruled_out_verdict) for u, v in ev.knowledge.forbidden]


def _violation_rows(ev: _Evidence, conflict_frequency: float) -> list[dict]:
    """Data-driven edges that break the tiers or reverse a required path, where the data hold against it."""
    know, f = ev.knowledge, ev.freqs
    listed = set(know.required) | set(know.forbidden)
    required_set = set(know.required)
    candidate = ev.data_graph | (f.data_freq >= conflict_frequency if f.n_boot else False)
    rows = []
    for i, j in zip(*np.nonzero(candidate)):
        u, v = ev.nodes[i], ev.nodes[j]
        why = know.violation(u, v)
        if (u, v) in listed or why is None or (v, u) in required_set:
            continue  # reversed required edges already appear as "direction disputed"
        r = _edge_row(ev, u, v, why, _ruled_out_verdict)
        if r["verdict"] != "consistent":
            rows.append(r)
    return rows


def _with_sentence(ev: _Evidence, r: dict) -> dict:
    i, j = ev.index[r["source"]], ev.index[r["target"]]
    r = {**r, "reverse_compelled": bool(ev.freqs.compelled[j, i])}
    return {**r, "sentence": _sentence(r, ev.freqs.n_boot, not _rules_out(ev.knowledge, r["target"], r["source"]))}


def _stability(ev: _Evidence) -> pd.DataFrame:
    f = ev.freqs
    seen_any = ev.graph | ev.data_graph
    if f.n_boot:
        seen_any = seen_any | (f.freq > 0) | (f.data_freq > 0)
    stab = [
        {
            "source": ev.nodes[i], "target": ev.nodes[j], "frequency": float(f.freq[i, j]),
            "data_frequency": float(f.data_freq[i, j]), "in_graph": bool(ev.graph[i, j]),
            "in_data_graph": bool(ev.data_graph[i, j]),
        }
        for i, j in zip(*np.nonzero(seen_any))
    ]
    stability = pd.DataFrame(stab, columns=["source", "target", "frequency", "data_frequency", "in_graph", "in_data_graph"])
    if f.n_boot:
        stability = stability.sort_values(["frequency", "data_frequency"], ascending=False, kind="stable")
    return stability.reset_index(drop=True)


def _consensus(ev: _Evidence, allowed: np.ndarray, required: np.ndarray, consensus_frequency: float) -> nx.DiGraph:
    f = ev.freqs
    if f.n_boot:
        cons = greedy_dag(np.where(f.freq >= consensus_frequency, f.freq, 0.0), threshold=0.0, allowed=allowed,
                          required=required)
    else:
        cons = ev.graph
    consensus = nx.DiGraph()
    consensus.add_nodes_from(ev.nodes)
    consensus.add_edges_from((ev.nodes[i], ev.nodes[j]) for i, j in zip(*np.nonzero(cons)))
    return consensus
