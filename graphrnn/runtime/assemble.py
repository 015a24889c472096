"""Fused arrays from the parameter dict, as one autograd primitive.

The plan fuses many edges into one matrix.  Building those matrices from
the user's ``dict[str, ndarray]`` with autograd ops would cost one tape node
per parameter (thousands for a unit-level net).  :class:`Assembler`
precomputes, once per network, where every parameter entry lands (a flat
gather/scatter index per fused array), and :func:`assemble` is a single
primitive whose vector-Jacobian product scatters the cotangents of the fused
arrays back to the named parameters in plain numpy.
"""
from __future__ import annotations

import numpy as np
from autograd.extend import defvjp, primitive


class Assembler:
    """Index maps from a flat parameter vector theta into each fused array.

    ``names``/``offsets`` lay the parameters out in theta; for fused array i,
    ``base[i]`` holds its constants and ``array.flat[target[i]] +=
    theta[source[i]] * scale[i]`` adds its small parameters (scale carries
    masks).  A matrix or vector of at least ``SLICE_FROM`` entries is added as
    a block instead (``array[rows, cols] += theta[start:stop].reshape(...)``):
    no index table per entry, so a network of millions of parameters is
    assembled at the speed of a copy, while a unit-level network's thousands
    of tiny parameters stay one bincount.
    """

    #: entries from which a dense or vector placement is a block, not indices (measured: below
    #: a few hundred entries the per-placement Python step costs more than its indices)
    SLICE_FROM = 4096

    def __init__(self, fused, shapes: dict):
        self.names = sorted(shapes)
        self.shapes = [tuple(shapes[n]) for n in self.names]
        sizes = [int(np.prod(s, dtype=int)) for s in self.shapes]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        start = dict(zip(self.names, self.offsets[:-1]))
        # runs of consecutive equal-shaped parameters flatten and split as one array each
        self.runs = []
        for name, shape, offset in zip(self.names, self.shapes, self.offsets[:-1]):
            if self.runs and self.runs[-1][1] == shape:
                self.runs[-1][0].append(name)
            else:
                self.runs.append(([name], shape, int(offset)))
        # each run's slice of theta: (names, shape, start, stop)
        self._spans = [(names, shape, start, start + int(np.prod(shape, dtype=int)) * len(names))
                       for names, shape, start in self.runs]
        self.fused = fused
        self.base, self.target, self.source, self.scale = [], [], [], []
        self._blocks = []    # (fused index, its region (slices), theta start, stop, region shape, mask or None)
        for i, recipe in enumerate(fused):
            base = np.zeros(recipe.shape)
            targets, sources, scales = [], [], []
            for p in recipe.placements:
                region = _block(p)
                if region is not None and p.param is None:
                    base[region] += np.reshape(p.value, base[region].shape) if np.size(p.value) > 1 else p.value
                    continue
                if region is not None and base[region].size >= self.SLICE_FROM:
                    shape = base[region].shape
                    mask = None if p.mask is None else np.asarray(p.mask, float).reshape(shape)
                    first = int(start[p.param])
                    self._blocks.append((i, region, first, first + base[region].size, shape, mask))
                    continue
                tgt, src_local, value = _entries(p, recipe.shape)
                if p.param is None:
                    np.add.at(base.reshape(-1), tgt, np.broadcast_to(value, tgt.shape))
                    continue
                targets.append(tgt)
                sources.append(start[p.param] + src_local)
                scales.append(np.ones(tgt.shape) if p.mask is None else np.asarray(p.mask, float).reshape(-1))
            self.base.append(base)
            self.target.append(np.concatenate(targets) if targets else np.zeros(0, int))
            self.source.append(np.concatenate(sources) if sources else np.zeros(0, int))
            self.scale.append(np.concatenate(scales) if scales else np.zeros(0))
        # all fused arrays side by side in one flat vector, so assembling is one bincount
        bounds = np.concatenate([[0], np.cumsum([int(np.prod(f.shape, dtype=int)) for f in fused])]).astype(int)
        self._slices = [(int(a), int(b), tuple(f.shape)) for a, b, f in zip(bounds[:-1], bounds[1:], fused)]
        self._base = np.concatenate([b.reshape(-1) for b in self.base]) if fused else np.zeros(0)
        self._target = np.concatenate([t + a for t, (a, _, _) in zip(self.target, self._slices)] or [np.zeros(0, int)])
        self._source = np.concatenate(self.source or [np.zeros(0, int)])
        self._scale = np.concatenate(self.scale or [np.zeros(0)])

    def flatten_checked(self, params) -> np.ndarray | None:
        """theta from ``params`` when every value has its table shape, else None.

        Flattening converts every value anyway, and a run of equal-shaped
        parameters converts to one array of the expected shape only when each
        of them has that shape: the shape check comes free.
        """
        if not self.names:
            return np.zeros(0)
        parts = []
        for names, shape, _ in self.runs:
            try:
                part = np.asarray([params[n] for n in names], dtype=float)
            except (ValueError, TypeError, KeyError):
                return None
            if part.shape != (len(names),) + shape:
                return None
            parts.append(part.reshape(-1))
        return np.concatenate(parts)

    def flatten(self, params) -> np.ndarray:
        if not self.names:
            return np.zeros(0)
        return np.concatenate([np.asarray([params[n] for n in names], dtype=float).reshape(-1)
                               for names, _, _ in self.runs])

    def forward(self, theta: np.ndarray) -> list:
        """The fused arrays (views of one flat vector) from the flat parameters ``theta``."""
        flat = self._base.copy()
        if self._target.size:
            flat += np.bincount(self._target, theta[self._source] * self._scale, minlength=flat.size)
        arrays = [flat[a:b].reshape(shape) for a, b, shape in self._slices]
        for i, region, first, stop, shape, mask in self._blocks:
            part = theta[first:stop].reshape(shape)
            arrays[i][region] += part if mask is None else part * mask
        return arrays

    def backward(self, cotangents, size: int) -> np.ndarray:
        """The gradient of theta (``size``,) from the gradients of the fused arrays."""
        if not self._target.size:
            g_theta = np.zeros(size)
        else:
            flat = np.concatenate([np.reshape(g, -1) for g in cotangents])
            g_theta = np.bincount(self._source, flat[self._target] * self._scale, minlength=size)
        for i, region, first, stop, shape, mask in self._blocks:
            part = np.reshape(cotangents[i], self._slices[i][2])[region]
            out = g_theta[first:stop].reshape(shape)     # a view: no copy of a strided region
            out += part if mask is None else part * mask
        return g_theta

    def split(self, theta: np.ndarray) -> dict:
        out = {}
        for names, shape, start, stop in self._spans:
            out.update(zip(names, theta[start:stop].reshape((len(names),) + shape)))
        return out


def _block(p) -> tuple | None:
    """The region (a tuple of slices) a dense matrix or a vector fills, entry k at its k-th
    position in C order; None for placements that are not a block (diagonal, scalar, identity)."""
    if p.how == "dense" and p.rows:
        return slice(*p.rows), slice(*p.cols)
    if p.how == "vector" and not p.rows:
        return (slice(*p.cols),)
    return None


def _entries(p, shape):
    """(flat target indices, indices into the parameter, constant values) of one placement."""
    if p.rows:
        (r0, r1), (c0, c1) = p.rows, p.cols
        ncols = shape[1]
        if p.how == "dense":
            rows, cols = np.meshgrid(np.arange(r0, r1), np.arange(c0, c1), indexing="ij")
            tgt = (rows * ncols + cols).reshape(-1)
            return tgt, np.arange(tgt.size), None if p.value is None else np.reshape(p.value, -1)
        n = c1 - c0   # diagonal or scaled identity
        tgt = (np.arange(r0, r0 + n) * ncols + np.arange(c0, c1))
        local = np.zeros(n, int) if p.how == "scaled_identity" else np.arange(n)
        value = None if p.value is None else np.broadcast_to(p.value, (n,))
        return tgt, local, value
    c0, c1 = p.cols
    tgt = np.arange(c0, c1)
    local = np.zeros(c1 - c0, int) if p.how == "scalar" else np.arange(c1 - c0)
    return tgt, local, None if p.value is None else np.broadcast_to(p.value, tgt.shape)


@primitive
def assemble(params, assembler: Assembler):
    """Fused arrays (list, in plan order) from ``params`` (dict name -> array)."""
    return assembler.forward(assembler.flatten(params))


def _assemble_vjp(ans, params, assembler):
    def vjp(g):
        g_theta = assembler.backward(g, int(assembler.offsets[-1]))
        grads = assembler.split(g_theta)
        return {name: grads[name] if name in grads else np.zeros(np.shape(value))
                for name, value in params.items()}
    return vjp


defvjp(assemble, _assemble_vjp)
