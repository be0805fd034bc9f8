"""Where data and expert knowledge agree and disagree, with bootstrap stability and a consensus graph."""

from __future__ import annotations

from dataclasses import dataclass

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
    index = {v: i for i, v in enumerate(nodes)}
    n_boot = boot_graphs.shape[0]
    if n_boot:
        freq = boot_graphs.mean(axis=0)
        data_freq = boot_data_graphs.mean(axis=0)
        comp_freq = np.mean([compelled_edges(g) for g in boot_data_graphs], axis=0)
        adjacent = data_freq + data_freq.T >= 0.5
    else:
        freq = np.full(graph.shape, np.nan)
        data_freq = np.full(graph.shape, np.nan)
        comp_freq = np.full(graph.shape, np.nan)
        adjacent = data_graph | data_graph.T
    # Without bootstrap the single data-only fit stands in for the frequencies.
    compelled = comp_freq >= conflict_frequency if n_boot else compelled_edges(data_graph)

    def row(u, v, kind):
        i, j = index[u], index[v]
        p = parent_pvalue(test, data_graph, i, j)
        return {
            "source": u, "target": v, "kind": kind, "confidence": knowledge.confidence(u, v),
            "verdict": "", "p_value": p, "data_strength": float(data_strength[i, j]),
            "data_frequency": float(data_freq[i, j]), "reverse_frequency": float(data_freq[j, i]),
            "compelled_frequency": float(comp_freq[i, j]), "reverse_compelled_frequency": float(comp_freq[j, i]),
            "in_data_graph": bool(data_graph[i, j]), "in_graph": bool(graph[i, j]),
        }

    def judge(r, i, j) -> str:
        """Verdict on an edge the knowledge rules out."""
        if r["p_value"] >= alpha:
            return "consistent"
        if compelled[i, j]:
            return "conflict"
        if adjacent[i, j] and not knowledge.allows(nodes[j], nodes[i]):
            # Dependent, with an edge ruled out either way and no orientation the data fix:
            # a common cause outside the data fits both, so this is not evidence against the expert.
            return "dependent"
        return "consistent"

    rows = []
    for u, v in knowledge.required:
        r = row(u, v, "required")
        i, j = index[u], index[v]
        if r["p_value"] >= alpha and not adjacent[i, j]:
            r["verdict"] = "not supported"
        elif compelled[j, i] and not _rules_out(knowledge, v, u):
            r["verdict"] = "direction disputed"
        else:
            # A reverse orientation the knowledge rules out is no dispute: the pair is adjacent
            # (or dependent) and the knowledge fixes the direction the data leave to chance.
            r["verdict"] = "supported"
        rows.append(r)
    seen = set(knowledge.required)
    for u, v in knowledge.forbidden:
        r = row(u, v, "forbidden")
        r["verdict"] = judge(r, index[u], index[v])
        rows.append(r)
        seen.add((u, v))
    # Data-driven edges that break the tiers or reverse a required path.
    candidate = data_graph | (data_freq >= conflict_frequency if n_boot else False)
    required_set = set(knowledge.required)
    for i, j in zip(*np.nonzero(candidate)):
        u, v = nodes[i], nodes[j]
        why = knowledge.violation(u, v)
        if (u, v) in seen or why is None or (v, u) in required_set:
            continue  # reversed required edges already appear as "direction disputed"
        r = row(u, v, why)
        r["verdict"] = judge(r, i, j)
        if r["verdict"] != "consistent":
            rows.append(r)
    for r in rows:
        i, j = index[r["source"]], index[r["target"]]
        r["reverse_compelled"] = bool(compelled[j, i])
        r["sentence"] = _sentence(r, n_boot, not _rules_out(knowledge, r["target"], r["source"]))
    edges = pd.DataFrame(rows, columns=_EXPERT_COLUMNS)
    edges["source"] = edges["source"].astype(object)
    edges["target"] = edges["target"].astype(object)

    seen_any = graph | data_graph
    if n_boot:
        seen_any = seen_any | (freq > 0) | (data_freq > 0)
    stab = []
    for i, j in zip(*np.nonzero(seen_any)):
        stab.append({
            "source": nodes[i], "target": nodes[j], "frequency": float(freq[i, j]),
            "data_frequency": float(data_freq[i, j]), "in_graph": bool(graph[i, j]),
            "in_data_graph": bool(data_graph[i, j]),
        })
    stability = pd.DataFrame(stab, columns=["source", "target", "frequency", "data_frequency", "in_graph", "in_data_graph"])
    if n_boot:
        stability = stability.sort_values(["frequency", "data_frequency"], ascending=False, kind="stable")
    stability = stability.reset_index(drop=True)

    if n_boot:
        cons = greedy_dag(np.where(freq >= consensus_frequency, freq, 0.0), threshold=0.0, allowed=allowed, required=required)
    else:
        cons = graph
    consensus = nx.DiGraph()
    consensus.add_nodes_from(nodes)
    consensus.add_edges_from((nodes[i], nodes[j]) for i, j in zip(*np.nonzero(cons)))
    return DisagreementReport(edges, stability, consensus, float(alpha), int(n_boot))
