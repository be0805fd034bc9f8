"""Drawing of a learned graph, edges coloured by agreement between data and expert."""

from __future__ import annotations

import os
from typing import Union

import networkx as nx

from ._result import DiscoveryResult

__all__ = ["AGREEMENT_STYLE", "plot_agreement"]

AGREEMENT_STYLE = {
    "both": {"color": "#1b9e77", "style": "solid", "label": "data and expert"},
    "data only": {"color": "#386cb0", "style": "solid", "label": "data only"},
    "expert only": {"color": "#e6ab02", "style": "solid", "label": "expert only (not found from data)"},
    "conflict": {"color": "#d95f02", "style": "dashed", "label": "data, against the knowledge (not in graph)"},
}


def plot_agreement(result: DiscoveryResult, path: Union[str, os.PathLike, None] = None, *, ax=None):
    """Draw ``result.graph`` with edges coloured by :meth:`DisagreementReport.agreement`.

    Args:
        result: output of :func:`discover`.
        path: image file to write (format from the extension), or None.
        ax: matplotlib axes to draw on (a new figure when None).

    Returns:
        The matplotlib Figure.

    Example:
        >>> import numpy as np, pandas as pd
        >>> from causalda_jax.discovery import discover
        >>> rng = np.random.default_rng(0); a = rng.normal(size=200)
        >>> res = discover(pd.DataFrame({"a": a, "b": a + rng.normal(size=200)}), n_bootstrap=0)
        >>> fig = plot_agreement(res)
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    categories = result.report.agreement(result.graph)
    drawn = nx.DiGraph()
    drawn.add_nodes_from(result.graph.nodes)
    drawn.add_edges_from(categories)
    if ax is None:
        size = max(5.0, 0.6 * drawn.number_of_nodes())
        fig, ax = plt.subplots(figsize=(size, size))
    else:
        fig = ax.figure
    # Layered layout: causes on the left, each column one topological generation of the DAG.
    layered = nx.DiGraph()
    for depth, generation in enumerate(nx.topological_generations(result.graph)):
        layered.add_nodes_from(generation, layer=depth)
    pos = nx.multipartite_layout(layered, subset_key="layer")
    nx.draw_networkx_nodes(drawn, pos, ax=ax, node_color="#f0f0f0", edgecolors="#333333", node_size=900)
    nx.draw_networkx_labels(drawn, pos, ax=ax, font_size=9)
    for cat, style in AGREEMENT_STYLE.items():
        edges = [e for e, c in categories.items() if c == cat]
        if edges:
            nx.draw_networkx_edges(drawn, pos, edgelist=edges, ax=ax, edge_color=style["color"], style=style["style"],
                                   width=2.0, arrowsize=18, node_size=900, connectionstyle="arc3,rad=0.08")
    handles = [Line2D([0], [0], color=s["color"], linestyle=s["style"], lw=2, label=s["label"])
               for c, s in AGREEMENT_STYLE.items() if c in set(categories.values())]
    if handles:
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2, fontsize=8, frameon=False)
    ax.set_axis_off()
    ax.set_title(f"{result.method}: {result.graph.number_of_edges()} edges")
    if path is not None:
        fig.savefig(path, dpi=120, bbox_inches="tight")
    return fig
