r"""The slot table: every angle slot of an ansatz, its exponent t_k(θ, x) and the derivatives ∂t_k/∂z_j.

The canonical circuit (:func:`privqml.theory.spectra.canonicalize`) runs every parametrised gate
as an EigenGate *slot* k, U_k(t_k) = Σ_λ e^{iπ t_k (λ+s)} P_λ, whose exponent t_k(θ, x) — in
half-turns — is a SymPy expression in the weights θ and the inputs x, and whose spread
Ω_k = π (max λ − min λ) is in radians of phase per unit exponent. Every consumer reads the same
table:

- the bounds (:mod:`privqml.theory.bounds`): Ω_k and ∂t_k/∂θ_j, whose supremum over the public
  domain bounds |∂f/∂θ_j| through the chain rule;
- the exact simulators and the gradient engines: t_k at a point and the Jacobian ∂t_k/∂z_j of
  the chain rule ∂f/∂z_j = Σ_k (∂f/∂t_k)(∂t_k/∂z_j), z = (θ, x);
- the TFQ compilation: t_k as the value of slot k's own TFQ symbol.

Conventions, on an example: ``cirq.rx(2w + x)`` = exp(−i (2w + x) X/2) is an ``XPowGate`` with
exponent t = (2w + x)/π half-turns and spread Ω = π per unit exponent, so ∂t/∂w = 2/π,
∂t/∂x = 1/π and Ω·|∂t/∂w| = 2 per radian of w.

Derivatives are taken over the reals (:func:`privqml.theory.symbols.real_derivative`): an
``Abs(x − 1)`` angle gives ``sign(x − 1)``, a jump gives a ``DiracDelta``. The symbolic rows keep
the ``DiracDelta`` (a bound must see it: its supremum is infinite); the numeric evaluators take
the derivative almost everywhere (``DiracDelta`` → 0), as a simulator evaluates it.

:func:`slot_table` builds the table once per ansatz (cached by value); its NumPy evaluators are
compiled on first use.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Callable, Optional

import numpy as np
import sympy

from privqml.theory.ansatz import Ansatz
from privqml.theory.spectra import AngleSlot, CanonicalCircuit, canonicalize
from privqml.theory.symbols import real_derivative

Derivatives = tuple[tuple[int, sympy.Expr], ...]


@dataclasses.dataclass(frozen=True)
class SlotRow:
    """Slot k of the canonical circuit and the non-zero partial derivatives of its exponent.

    Attributes:
        slot: the angle slot: its operation, exponent t_k (half-turns), spectrum, source operation.
        spread: Ω_k, radians of phase per unit exponent (the spread of the slot's spectrum).
        weight_derivatives: ((j, ∂t_k/∂θ_j), …) for every weight θ_j whose derivative is not
            identically 0, in the ansatz's weight order (half-turns per unit of θ_j).
        input_derivatives: ((i, ∂t_k/∂x_i), …) likewise for the inputs x_i.
    """

    slot: AngleSlot
    spread: float
    weight_derivatives: Derivatives
    input_derivatives: Derivatives

    @property
    def index(self) -> int:
        return self.slot.index

    @property
    def exponent(self) -> sympy.Expr:
        return self.slot.exponent


@dataclasses.dataclass(frozen=True)
class _Evaluators:
    """The table compiled for NumPy: t(z) and the constant and variable entries of ∂t/∂z."""

    exponents: Optional[Callable]
    constant: np.ndarray  # [n_slots, n_symbols] constant entries of ∂t_k/∂z_j
    variable: tuple[tuple[int, int], ...]  # (k, j) of the entries that depend on z
    variable_function: Optional[Callable]


@dataclasses.dataclass(frozen=True, eq=False)
class SlotTable:
    """The slot table of an ansatz (see the module docstring).

    Attributes:
        canonical: the canonical circuit whose slots the rows describe.
        weights, inputs: the ansatz's symbols; z = (θ, x) is the column order of the numeric
            evaluators.
        rows: one :class:`SlotRow` per slot, in circuit order (``rows[k].index == k``).
    """

    canonical: CanonicalCircuit
    weights: tuple[sympy.Symbol, ...]
    inputs: tuple[sympy.Symbol, ...]
    rows: tuple[SlotRow, ...]

    @property
    def n_slots(self) -> int:
        return len(self.rows)

    @property
    def symbols(self) -> tuple[sympy.Symbol, ...]:
        """The columns of the numeric evaluators: the weights, then the inputs."""
        return self.weights + self.inputs

    @property
    def exponents(self) -> tuple[sympy.Expr, ...]:
        return tuple(row.exponent for row in self.rows)

    @property
    def spreads(self) -> np.ndarray:
        """[n_slots] Ω_k, radians per unit exponent."""
        return np.asarray([row.spread for row in self.rows], dtype=np.float64)

    @property
    def weight_slots(self) -> tuple[int, ...]:
        """The slots whose exponent depends on at least one weight."""
        return tuple(row.index for row in self.rows if row.weight_derivatives)

    @functools.cached_property
    def _evaluators(self) -> _Evaluators:
        symbols = self.symbols
        n_weights = len(self.weights)
        constant = np.zeros((self.n_slots, len(symbols)))
        variable, variable_exprs = [], []
        for row in self.rows:
            columns = list(row.weight_derivatives) + [(n_weights + i, d) for i, d in row.input_derivatives]
            for j, derivative in columns:
                almost_everywhere = derivative.replace(sympy.DiracDelta, lambda *args: sympy.Integer(0))
                if almost_everywhere.free_symbols:
                    variable.append((row.index, j))
                    variable_exprs.append(almost_everywhere)
                else:
                    constant[row.index, j] = float(almost_everywhere)
        return _Evaluators(
            exponents=sympy.lambdify(symbols, list(self.exponents), modules="numpy") if self.rows else None,
            constant=constant,
            variable=tuple(variable),
            variable_function=sympy.lambdify(symbols, variable_exprs, modules="numpy") if variable else None,
        )

    def exponent_values(self, values: np.ndarray) -> np.ndarray:
        """t_k(z) for rows z = (θ, x): [batch, n_weights + n_inputs] -> [batch, n_slots] (float64)."""
        batch = values.shape[0]
        if not self.rows:
            return np.zeros((batch, 0))
        out = self._evaluators.exponents(*values.T)
        return np.stack([np.broadcast_to(np.asarray(v, dtype=np.float64), (batch,)) for v in out], axis=1)

    def jacobian(self, values: np.ndarray) -> np.ndarray:
        """∂t_k/∂z_j almost everywhere: [batch, n_weights + n_inputs] -> [batch, n_slots, n_weights + n_inputs]."""
        evaluators = self._evaluators
        batch = values.shape[0]
        out = np.broadcast_to(evaluators.constant, (batch,) + evaluators.constant.shape).copy()
        if evaluators.variable:
            entries = evaluators.variable_function(*values.T)
            for (k, j), entry in zip(evaluators.variable, entries):
                out[:, k, j] = entry
        return out


def _derivatives(exponent: sympy.Expr, free: set, index: dict[sympy.Symbol, int]) -> Derivatives:
    """((j, ∂t/∂z_j), …) over the reals for the symbols of ``index`` in ``free``, in index order."""
    out = []
    for symbol in sorted((s for s in free if s in index), key=index.__getitem__):
        derivative = real_derivative(exponent, symbol)
        if derivative != 0:
            out.append((index[symbol], derivative))
    return tuple(out)


@functools.lru_cache(maxsize=256)
def slot_table(ansatz: Ansatz) -> SlotTable:
    """The :class:`SlotTable` of ``ansatz`` (built once per ansatz value, then cached).

    Raises:
        UnsupportedGateError: for a gate with no spectrum rule (from
            :func:`~privqml.theory.spectra.canonicalize`).
    """
    canonical = canonicalize(ansatz)
    weight_index = {w: j for j, w in enumerate(ansatz.weights)}
    input_index = {x: i for i, x in enumerate(ansatz.inputs)}
    rows = []
    for slot in canonical.slots:
        free = slot.exponent.free_symbols
        rows.append(
            SlotRow(
                slot=slot,
                spread=slot.spread,
                weight_derivatives=_derivatives(slot.exponent, free, weight_index),
                input_derivatives=_derivatives(slot.exponent, free, input_index),
            )
        )
    return SlotTable(canonical, tuple(ansatz.weights), tuple(ansatz.inputs), tuple(rows))


def weight_spreads(ansatz: Ansatz) -> dict[sympy.Symbol, float]:
    """Σ_k Ω_k |∂t_k/∂θ_j| per weight (per unit of the weight), where every derivative is a
    number; NaN for a weight with a derivative that depends on the inputs (the bounds take its
    supremum over the domain instead)."""
    out = {w: 0.0 for w in ansatz.weights}
    for row in slot_table(ansatz).rows:
        for j, derivative in row.weight_derivatives:
            value = abs(float(derivative)) if not derivative.free_symbols else math.nan
            out[ansatz.weights[j]] += row.spread * value
    return out


__all__ = ["SlotRow", "SlotTable", "slot_table", "weight_spreads"]
