"""Hybrid causal discovery on random linear SCMs: data only vs data + (partly wrong) knowledge.

Run: ``python -m benchmarks.discovery [--quick]``; ``--timing`` times the jitted learner alone
(compile separate, min of 3, ``block_until_ready``) into ``benchmarks/results/discovery_timing.json``. Writes ``benchmarks/results/discovery.json``
and ``benchmarks/results/discovery.md``.

For each random SCM (``causalda_jax.scm.random_scm``, linear mechanisms, columns standardised)
two kinds of expert knowledge are given: "correct" (a share of the true edges required, tiers cut
from a true causal order) and "mixed" (the same plus deliberately wrong items: required edges
absent from the true graph, true edges marked forbidden). Compared: our DAGMA and PC without
knowledge, with each kind, and after dropping what the report flagged; causal-learn's PC (a
benchmark extra) without and with the same background knowledge (required and forbidden edges,
tiers). causal-learn returns a CPDAG;
its unoriented edges are oriented by the same consistent extension our PC uses (Dor-Tarsi, then
strongest-first fallback), so every method is scored as a DAG.

Metrics: structural Hamming distance (missing + extra + reversed, a reversal counted once),
precision and recall of directed edges; for the report: share of wrong knowledge items that it
flags (wrong required -> "not supported"/"direction disputed", wrongly forbidden -> "conflict"),
and share of correct required edges it flags (false alarms). Wall time per call (the first DAGMA
call per shape is compiled first and not timed).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import networkx as nx
import numpy as np

from causalda_jax.discovery import Knowledge, discover
from causalda_jax.discovery._pc import _extend

RESULTS = Path(__file__).parent / "results"


def shd_precision_recall(est: set, truth: set) -> tuple[int, float, float]:
    pairs_est = {frozenset(e) for e in est}
    pairs_true = {frozenset(e) for e in truth}
    missing = len(pairs_true - pairs_est)
    extra = len(pairs_est - pairs_true)
    reversed_ = sum(1 for u, v in est if (v, u) in truth and (u, v) not in truth)
    tp = len(est & truth)
    precision = tp / len(est) if est else 1.0
    recall = tp / len(truth) if truth else 1.0
    return missing + extra + reversed_, precision, recall


def make_knowledge(truth: set, nodes: list, rng: np.random.Generator, *, share_true=0.3, n_tiers=3,
                   n_wrong_required=2, n_wrong_forbidden=2):
    """Correct knowledge (``share_true`` of the true edges required, ``n_tiers`` tiers cut from a
    true causal order) and the same with wrong items added.

    Wrong items: required edges between pairs that are not adjacent in the truth (kept acyclic
    and consistent with the tiers), and true edges marked forbidden.
    """
    true_edges = sorted(truth)
    idx = rng.permutation(len(true_edges))
    n_true = max(1, int(round(share_true * len(true_edges))))
    required = [true_edges[i] for i in idx[:n_true]]
    forbidden_wrong = [true_edges[i] for i in idx[n_true:n_true + n_wrong_forbidden]]
    g = nx.DiGraph(list(truth))
    g.add_nodes_from(nodes)
    order = list(nx.topological_sort(g))
    tiers = [list(t) for t in np.array_split(np.array(order, dtype=object), n_tiers)]
    rank = {v: i for i, t in enumerate(tiers) for v in t}
    adjacent = {frozenset(e) for e in truth}
    wrong_required: list = []
    candidates = [(u, v) for u in nodes for v in nodes
                  if u != v and frozenset((u, v)) not in adjacent and rank[u] <= rank[v]]
    for k in rng.permutation(len(candidates)):
        u, v = candidates[k]
        if nx.is_directed_acyclic_graph(nx.DiGraph(required + wrong_required + [(u, v)])):
            wrong_required.append((u, v))
        if len(wrong_required) == n_wrong_required:
            break
    correct = Knowledge(required=required, tiers=tiers)
    mixed = Knowledge(required=required + wrong_required, forbidden=forbidden_wrong, tiers=tiers)
    return correct, mixed, required, wrong_required, forbidden_wrong


def drop_flagged(know: Knowledge, report) -> Knowledge:
    """The workflow step the report serves: remove the items the data contradict, keep the rest."""
    rows = report.edges
    flagged = set(zip(rows.loc[rows["verdict"] != "supported", "source"], rows.loc[rows["verdict"] != "supported", "target"]))
    flagged -= set(zip(rows.loc[rows["verdict"] == "consistent", "source"], rows.loc[rows["verdict"] == "consistent", "target"]))
    return Knowledge(required=[e for e in know.required if e not in flagged],
                     forbidden=[e for e in know.forbidden if e not in flagged], tiers=know.tiers)


def causallearn_pc(x: np.ndarray, nodes: list, know: Knowledge | None, alpha: float) -> set:
    from causallearn.graph.GraphNode import GraphNode
    from causallearn.search.ConstraintBased.PC import pc
    from causallearn.utils.PCUtils.BackgroundKnowledge import BackgroundKnowledge

    d = len(nodes)
    bk = None
    gnodes = [GraphNode(f"X{i + 1}") for i in range(d)]
    index = {v: i for i, v in enumerate(nodes)}
    if know is not None:
        bk = BackgroundKnowledge()
        for u, v in know.required:
            bk.add_required_by_node(gnodes[index[u]], gnodes[index[v]])
        for u, v in know.forbidden:
            bk.add_forbidden_by_node(gnodes[index[u]], gnodes[index[v]])
        for t, tier in enumerate(know.tiers):
            for v in tier:
                bk.add_node_to_tier(gnodes[index[v]], t)
    cg = pc(x, alpha, "fisherz", stable=True, background_knowledge=bk, show_progress=False, node_names=[f"X{i + 1}" for i in range(d)])
    g = cg.G.graph
    directed = (g == -1) & (g.T == 1)  # [i, j] = -1 and [j, i] = 1 : i -> j
    undirected = (g == -1) & (g.T == -1)
    allowed = ~np.eye(d, dtype=bool)
    if know is not None:
        allowed &= know.masks(nodes)["allowed"]
    dag = _extend(directed, undirected, allowed)
    if dag is None:
        dag = directed | np.triu(undirected)
        # Break any cycle left by conflicting orientations.
        from causalda_jax.discovery._acyclic import greedy_dag

        dag = greedy_dag(dag.astype(float), threshold=0.5)
    return {(nodes[i], nodes[j]) for i, j in zip(*np.nonzero(dag))}


def flag_rates(report, correct_required, wrong_required, wrong_forbidden) -> tuple[float, float]:
    rows = report.edges.set_index(["source", "target"])
    bad_req = {"not supported", "direction disputed"}
    flagged_wrong = sum(rows.loc[e, "verdict"] in bad_req for e in wrong_required)
    flagged_wrong += sum(rows.loc[e, "verdict"] == "conflict" for e in wrong_forbidden)
    n_wrong = len(wrong_required) + len(wrong_forbidden)
    false_alarm = sum(rows.loc[e, "verdict"] in bad_req for e in correct_required)
    return (flagged_wrong / n_wrong if n_wrong else float("nan")), false_alarm / max(1, len(correct_required))


def run(quick: bool = False, seeds: int = 3, n_bootstrap: int = 10, alpha: float = 0.05) -> dict:
    from causalda_jax.scm import random_scm

    settings = [(10, 200), (10, 1000), (20, 200), (20, 1000)]
    if quick:
        settings, seeds = [(10, 500)], 1
    records = []
    compiled: set = set()

    def record(**kw):
        records.append(kw)

    for d, n in settings:
        for seed in range(seeds):
            data, graph = random_scm(d, n, expected_degree=2.0, mechanism="linear", seed=seed)
            nodes = list(data.columns)
            truth = set(graph.edges)
            rng = np.random.default_rng(1000 + seed)
            correct, mixed, correct_req, wrong_req, wrong_forb = make_knowledge(truth, nodes, rng)
            base = dict(d=d, n=n, seed=seed, n_true=len(truth))
            for method in ("dagma", "pc"):
                name = f"ours-{method}"
                if method == "dagma" and d not in compiled:
                    for b in (n_bootstrap, 0):  # compile both batch shapes, not timed
                        discover(data, mixed, method=method, n_bootstrap=b)
                    compiled.add(d)
                for label, know in (("correct", correct), ("mixed", mixed)):
                    t0 = time.perf_counter()
                    res = discover(data, know, method=method, n_bootstrap=n_bootstrap, alpha=alpha)
                    wall = time.perf_counter() - t0
                    if label == "correct":
                        shd, prec, rec = shd_precision_recall(set(res.data_graph.edges), truth)
                        record(**base, method=name, knowledge="none", shd=shd, precision=prec, recall=rec,
                               wall_s=wall, wrong_flagged=np.nan, false_alarms=np.nan)
                        flagged, false_alarm = np.nan, flag_rates(res.report, correct_req, [], [])[1]
                    else:
                        flagged, false_alarm = flag_rates(res.report, correct_req, wrong_req, wrong_forb)
                    shd, prec, rec = shd_precision_recall(set(res.graph.edges), truth)
                    record(**base, method=name, knowledge=label, shd=shd, precision=prec, recall=rec, wall_s=wall,
                           wrong_flagged=flagged, false_alarms=false_alarm)
                    if label == "mixed":
                        t0 = time.perf_counter()
                        again = discover(data, drop_flagged(mixed, res.report), method=method,
                                         n_bootstrap=0, alpha=alpha)
                        wall = time.perf_counter() - t0
                        shd, prec, rec = shd_precision_recall(set(again.graph.edges), truth)
                        record(**base, method=name, knowledge="mixed, flagged dropped", shd=shd, precision=prec,
                               recall=rec, wall_s=wall, wrong_flagged=np.nan, false_alarms=np.nan)
            x = data.to_numpy()
            for label, k in (("none", None), ("correct", correct), ("mixed", mixed)):
                t0 = time.perf_counter()
                edges = causallearn_pc(x, nodes, k, alpha)
                wall = time.perf_counter() - t0
                shd, prec, rec = shd_precision_recall(edges, truth)
                record(**base, method="causal-learn-pc", knowledge=label, shd=shd, precision=prec, recall=rec,
                       wall_s=wall, wrong_flagged=np.nan, false_alarms=np.nan)
            print(f"d={d} n={n} seed={seed} done", flush=True)
    return {
        "settings": {"graphs": "random_scm linear, expected_degree=2, noise_scale=0.4, standardised",
                     "knowledge": "correct = 30% of true edges required + 3 tiers cut from a true causal order; "
                                  "mixed = correct + 2 required edges absent from the truth + 2 true edges forbidden",
                     "seeds": seeds, "n_bootstrap": n_bootstrap, "alpha": alpha},
        "machine": {"platform": platform.platform(), "processor": platform.processor()},
        "records": records,
    }


def to_markdown(result: dict) -> str:
    import pandas as pd

    df = pd.DataFrame(result["records"])
    agg = (
        df.groupby(["d", "n", "method", "knowledge"], sort=False)
        .agg(shd=("shd", "mean"), precision=("precision", "mean"), recall=("recall", "mean"),
             wrong_flagged=("wrong_flagged", "mean"), false_alarms=("false_alarms", "mean"), wall_s=("wall_s", "median"))
        .reset_index()
    )
    lines = [
        "| d | n | method | knowledge | SHD | precision | recall | wrong items flagged | false alarms | time (s) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in agg.itertuples():
        flag = "" if np.isnan(r.wrong_flagged) else f"{r.wrong_flagged:.0%}"
        alarm = "" if np.isnan(r.false_alarms) else f"{r.false_alarms:.0%}"
        lines.append(f"| {r.d} | {r.n} | {r.method} | {r.knowledge} | {r.shd:.1f} | {r.precision:.2f} | {r.recall:.2f} | "
                     f"{flag} | {alarm} | {r.wall_s:.2f} |")
    s = result["settings"]
    lines += ["", f"Graphs: {s['graphs']}. Knowledge: {s['knowledge']}. Mean over {s['seeds']} seeds; "
              f"bootstrap {s['n_bootstrap']}; alpha {s['alpha']}. 'wrong items flagged': share of the 4 wrong "
              "items the report marks (wrong required: not supported / direction disputed; wrongly forbidden: "
              "conflict); 'false alarms': share of correct required edges marked. 'mixed, flagged dropped': "
              "refit after removing what the report flagged. Our time is one discover() call (data-only and "
              "constrained fits, their bootstraps, the report); causal-learn's is one PC run."]
    return "\n".join(lines) + "\n"


def time_learner(repeats: int = 3) -> list[dict]:
    """Compile time and min-of-``repeats`` run time of one linear DAGMA fit and of a vmapped
    batch of 42 fits (what ``discover`` runs with 20 bootstraps and knowledge)."""
    import jax
    import jax.numpy as jnp

    from causalda_jax.discovery._dagma import DagmaConfig, linear_fitter
    from causalda_jax.scm import random_scm

    rows = []
    for d, n in [(10, 500), (20, 1000)]:
        data, _ = random_scm(d, n, expected_degree=2.0, mechanism="linear", seed=0)
        cov = jnp.asarray(np.cov(data.to_numpy(), rowvar=False, bias=True), jnp.float32)
        off = jnp.ones((d, d), jnp.float32) - jnp.eye(d, dtype=jnp.float32)
        config = DagmaConfig.make()
        for batch in (None, 42):
            args = (cov, off, off, config) if batch is None else (
                jnp.stack([cov] * batch), jnp.stack([off] * batch), jnp.stack([off] * batch), config)
            fn = linear_fitter(1500, batched=batch is not None)
            t0 = time.perf_counter()
            compiled = fn.lower(*args).compile()
            compile_s = time.perf_counter() - t0
            runs = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                jax.block_until_ready(compiled(*args))
                runs.append(time.perf_counter() - t0)
            rows.append(dict(d=d, n=n, batch=batch or 1, steps=4 * 1500, compile_s=compile_s, run_s=min(runs)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one small setting, one seed")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--bootstrap", type=int, default=10)
    parser.add_argument("--timing", action="store_true", help="only time the jitted learner")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.timing:
        rows = time_learner()
        (RESULTS / "discovery_timing.json").write_text(json.dumps(
            {"machine": {"platform": platform.platform(), "processor": platform.processor()}, "rows": rows}, indent=1) + "\n")
        for r in rows:
            print(f"d={r['d']} batch={r['batch']}: compile {r['compile_s']:.2f} s, run {r['run_s']:.3f} s ({r['steps']} Adam steps)")
        return
    result = run(quick=args.quick, seeds=args.seeds, n_bootstrap=args.bootstrap)
    suffix = "_quick" if args.quick else ""
    (RESULTS / f"discovery{suffix}.json").write_text(json.dumps(result, indent=1, default=float) + "\n")
    md = to_markdown(result)
    (RESULTS / f"discovery{suffix}.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
