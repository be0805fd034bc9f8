"""Expert knowledge about a causal graph: required and forbidden edges, tiers, confidences."""

from __future__ import annotations

import json
import os
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, Union

import networkx as nx
import numpy as np

from .._graph import cycle_path
from .._spec_file import read_spec

__all__ = ["Knowledge"]

Edge = tuple[Hashable, Hashable]


def _parse_edges(edges: Iterable[Any] | None, kind: str) -> tuple[list[Edge], dict[Edge, float]]:
    """Read ``[u, v]``, ``[u, v, confidence]`` or ``{"source", "target", "confidence"}`` items."""
    out: list[Edge] = []
    conf: dict[Edge, float] = {}
    for item in edges or ():
        if isinstance(item, Mapping):
            unknown = sorted(set(item) - {"source", "target", "confidence"})
            if unknown or "source" not in item or "target" not in item:
                raise ValueError(
                    f"a {kind} edge given as a mapping needs keys 'source', 'target' (and optionally "
                    f"'confidence'); got {dict(item)!r}"
                )
            u, v, c = item["source"], item["target"], item.get("confidence")
        else:
            item = tuple(item)
            if len(item) not in (2, 3):
                raise ValueError(f"each {kind} edge must be [u, v] or [u, v, confidence]; got {list(item)!r}")
            u, v = item[0], item[1]
            c = item[2] if len(item) == 3 else None
        out.append((u, v))
        if c is not None:
            conf[(u, v)] = float(c)
    return out, conf


class Knowledge:
    """What an expert believes about the causal graph, by variable name.

    Args:
        required: edges ``(u, v)`` that must appear as ``u -> v``.
        forbidden: edges ``(u, v)`` that must not appear as ``u -> v`` (the reverse stays allowed).
        tiers: a list of lists of names; no edge may point from a later tier to an earlier one.
            Variables in no tier are unconstrained.
        confidence: optional ``{(u, v): c}`` with ``0 < c <= 1`` for required or forbidden
            edges (default 1). Edges with ``c == 1`` are hard constraints; edges with ``c < 1``
            are soft: :func:`discover`'s DAGMA learner turns them into penalties instead of masks,
            and the disagreement report ranks them by ``c``. Edges may also carry their
            confidence inline as ``(u, v, c)``.

    Raises:
        ValueError: an edge both required and forbidden, a required edge that points against
            the tiers, required edges forming a cycle, a node in two tiers, self loops, or a
            confidence outside ``(0, 1]``; the message names the culprits.

    Example:
        >>> k = Knowledge(required=[("age", "income")], forbidden=[("income", "age")],
        ...               tiers=[["age"], ["income", "spend"]])
        >>> k.allows("spend", "age")
        False
        >>> k.to_dict()["required"]
        [['age', 'income']]
    """

    def __init__(
        self,
        required: Iterable[Any] = (),
        forbidden: Iterable[Any] = (),
        tiers: Sequence[Sequence[Hashable]] = (),
        confidence: Mapping[Sequence[Hashable], float] | None = None,
    ):
        req, conf = _parse_edges(required, "required")
        forb, conf_f = _parse_edges(forbidden, "forbidden")
        conf.update(conf_f)
        for edge, c in (confidence or {}).items():
            edge = tuple(edge)
            if len(edge) != 2:
                raise ValueError(f"confidence keys must be edges (u, v); got {edge!r}")
            conf[(edge[0], edge[1])] = float(c)
        self._required = tuple(dict.fromkeys(req))
        self._forbidden = tuple(dict.fromkeys(forb))
        if isinstance(tiers, (str, bytes)) or any(isinstance(t, (str, bytes)) for t in tiers):
            raise ValueError("tiers must be a list of lists of names, e.g. [['age'], ['income', 'spend']]")
        self._tiers = tuple(tuple(t) for t in tiers)
        self._confidence = conf
        self._validate()

    # ------------------------------------------------------------------ validation
    def _validate(self) -> None:
        loops = sorted({str(u) for u, v in self._required + self._forbidden if u == v})
        if loops:
            raise ValueError(f"knowledge has self loops on {loops}; an edge must join two different variables")
        rank: dict = {}
        dupes = set()
        for i, tier in enumerate(self._tiers):
            for v in tier:
                if v in rank:
                    dupes.add(str(v))
                rank[v] = i
        if dupes:
            raise ValueError(f"variables {sorted(dupes)} appear in more than one tier; put each in one tier only")
        self._rank = rank
        both = [e for e in self._required if e in set(self._forbidden)]
        if both:
            raise ValueError(f"edges are both required and forbidden: {[list(e) for e in both]}; keep one of the two")
        against = [e for e in self._required if not self._tier_allows(*e)]
        if against:
            detail = ", ".join(f"{u} (tier {rank[u]}) -> {v} (tier {rank[v]})" for u, v in against)
            raise ValueError(f"required edges point from a later tier to an earlier one: {detail}; fix the tiers or the edges")
        path = cycle_path(nx.DiGraph(list(self._required)))
        if path is not None:
            raise ValueError(f"required edges form a cycle: {path}; a causal graph must be acyclic")
        bad = {e: c for e, c in self._confidence.items() if not 0.0 < c <= 1.0}
        if bad:
            raise ValueError(f"confidence must be in (0, 1]; got {[[*e, c] for e, c in bad.items()]}")
        stray = [e for e in self._confidence if e not in set(self._required) | set(self._forbidden)]
        if stray:
            raise ValueError(
                f"confidence given for edges that are neither required nor forbidden: {[list(e) for e in stray]}"
            )

    def _tier_allows(self, u: Hashable, v: Hashable) -> bool:
        return u not in self._rank or v not in self._rank or self._rank[u] <= self._rank[v]

    def check_nodes(self, nodes: Iterable[Hashable]) -> None:
        """Raise a ValueError naming every variable the knowledge mentions that is not in ``nodes``."""
        known = set(nodes)
        unknown = sorted({str(x) for x in self.nodes if x not in known})
        if unknown:
            raise ValueError(
                f"knowledge mentions variables that are not data columns: {unknown}; "
                f"columns are {sorted(map(str, known))}. Rename them or drop those edges"
            )

    # ------------------------------------------------------------------ queries
    @property
    def required(self) -> tuple[Edge, ...]:
        return self._required

    @property
    def forbidden(self) -> tuple[Edge, ...]:
        return self._forbidden

    @property
    def tiers(self) -> tuple[tuple[Hashable, ...], ...]:
        return self._tiers

    @property
    def nodes(self) -> tuple:
        """Every variable the knowledge mentions, in order of first appearance."""
        names = [x for e in self._required + self._forbidden for x in e] + [v for t in self._tiers for v in t]
        return tuple(dict.fromkeys(names))

    @property
    def is_empty(self) -> bool:
        return not (self._required or self._forbidden or self._tiers)

    def confidence(self, u: Hashable, v: Hashable) -> float:
        """Confidence of the required or forbidden edge ``u -> v`` (1.0 unless given)."""
        return self._confidence.get((u, v), 1.0)

    def tier(self, v: Hashable) -> int | None:
        """Index of the tier holding ``v``, or None."""
        return self._rank.get(v)

    def is_hard(self, u: Hashable, v: Hashable) -> bool:
        return self.confidence(u, v) >= 1.0

    def allows(self, u: Hashable, v: Hashable) -> bool:
        """False when ``u -> v`` is hard-forbidden, points against the tiers, or would close a
        cycle with the hard required edges."""
        if u == v or not self._tier_allows(u, v):
            return False
        if (u, v) in set(self._forbidden) and self.is_hard(u, v):
            return False
        return not self._required_path(v, u)

    def violation(self, u: Hashable, v: Hashable) -> str | None:
        """Why ``u -> v`` goes against the knowledge ('forbidden', 'tiers', 'reverses required'), or None."""
        if (u, v) in set(self._forbidden):
            return "forbidden"
        if not self._tier_allows(u, v):
            return "tiers"
        if self._required_path(v, u):
            return "reverses required"
        return None

    def _required_path(self, a: Hashable, b: Hashable) -> bool:
        hard = nx.DiGraph([e for e in self._required if self.is_hard(*e)])
        return a in hard and b in hard and nx.has_path(hard, a, b)

    def masks(self, nodes: Sequence[Hashable]) -> dict[str, np.ndarray]:
        """Host-side ``(d, d)`` arrays over ``nodes`` (row = cause, column = effect).

        Returns ``allowed`` (bool: the edge may appear), ``required`` (bool: hard required),
        and ``penalty`` (float multiplier of the L1 penalty: ``1 - c`` for a soft required edge,
        ``1 / (1 - c)`` for a soft forbidden edge, 0 for hard required, 1 otherwise).
        """
        self.check_nodes(nodes)
        nodes = list(nodes)
        index = {v: i for i, v in enumerate(nodes)}
        d = len(nodes)
        allowed = np.ones((d, d), bool)
        np.fill_diagonal(allowed, False)
        required = np.zeros((d, d), bool)
        penalty = np.ones((d, d), np.float64)
        hard = nx.DiGraph()
        hard.add_nodes_from(nodes)
        hard.add_edges_from(e for e in self._required if self.is_hard(*e))
        reach = {v: nx.descendants(hard, v) for v in nodes}
        for u in nodes:
            for v in nodes:
                i, j = index[u], index[v]
                if not self._tier_allows(u, v) or u in reach[v]:
                    allowed[i, j] = False
        for u, v in self._forbidden:
            c = self.confidence(u, v)
            if c >= 1.0:
                allowed[index[u], index[v]] = False
            else:
                penalty[index[u], index[v]] = 1.0 / (1.0 - c)
        for u, v in self._required:
            c = self.confidence(u, v)
            if c >= 1.0:
                required[index[u], index[v]] = True
                penalty[index[u], index[v]] = 0.0
            else:
                penalty[index[u], index[v]] = 1.0 - c
        return {"allowed": allowed, "required": required, "penalty": penalty}

    # ------------------------------------------------------------------ serialisation
    def _edge_list(self, edges: tuple[Edge, ...]) -> list[list]:
        return [[u, v] if self.confidence(u, v) == 1.0 else [u, v, self.confidence(u, v)] for u, v in edges]

    def to_dict(self) -> dict[str, list]:
        """``{"required": [[u, v] | [u, v, c], ...], "forbidden": [...], "tiers": [[...], ...]}``."""
        return {
            "required": self._edge_list(self._required),
            "forbidden": self._edge_list(self._forbidden),
            "tiers": [list(t) for t in self._tiers],
        }

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> "Knowledge":
        """Build from the mapping :meth:`to_dict` writes (an optional ``confidence`` list of
        ``[u, v, c]`` is also read)."""
        if not isinstance(spec, Mapping):
            raise ValueError("knowledge must be a mapping with keys 'required', 'forbidden', 'tiers'")
        unknown = sorted(set(spec) - {"required", "forbidden", "tiers", "confidence"})
        if unknown:
            raise ValueError(
                f"unknown keys in knowledge: {unknown}; expected 'required', 'forbidden', 'tiers', 'confidence'"
            )
        confidence = {}
        for item in spec.get("confidence") or ():
            if len(item) != 3:
                raise ValueError(f"each confidence entry must be [u, v, confidence]; got {item!r}")
            confidence[(item[0], item[1])] = item[2]
        return cls(spec.get("required") or (), spec.get("forbidden") or (), spec.get("tiers") or (), confidence)

    @classmethod
    def load(cls, path: Union[str, os.PathLike]) -> "Knowledge":
        """Read knowledge from a ``.json``, ``.yaml`` or ``.yml`` file (any other name is read as JSON)."""
        return cls.from_dict(read_spec(path, "knowledge", json_fallback=True))

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Write to ``path`` as YAML when it ends in ``.yaml``/``.yml``, JSON otherwise."""
        spec = self.to_dict()
        with open(path, "w", encoding="utf-8") as f:
            if str(path).lower().endswith((".yaml", ".yml")):
                import yaml

                yaml.safe_dump(spec, f, sort_keys=False)
            else:
                f.write(json.dumps(spec, indent=2, default=str) + "\n")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Knowledge):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return (
            f"Knowledge(required={len(self._required)}, forbidden={len(self._forbidden)}, "
            f"tiers={len(self._tiers)})"
        )
