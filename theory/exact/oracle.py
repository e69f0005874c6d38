"""The exact expectation of a small ansatz as a SymPy trigonometric expression — the test oracle.

For circuits of at most ``ORACLE_MAX_QUBITS`` qubits (noiseless or with parameter-free noise
channels) the observable is evolved backwards in the Heisenberg picture, in the Pauli basis
σ_s = σ_{s_1} ⊗ … ⊗ σ_{s_n} (σ ∈ {I, X, Y, Z}): O = Σ_s o_s σ_s and each operation acts by its
Pauli transfer matrix (PTM) on its own qubits,

    Φ†(σ_i) = Σ_j M_ji σ_j,    M_ji = Tr[σ_j Φ†(σ_i)] / d,    Φ†(A) = Σ_K K† A K.

For an angle slot U(t) = Σ_λ e^{iπ t (λ+s)} P_λ of the canonical circuit
(:func:`privqml.theory.slots.slot_table`) the PTM is an exact real trigonometric
polynomial in its exponent t (a SymPy expression in the weights and inputs):

    M_ji(t) = Σ_{λ,μ} e^{iπ t (μ−λ)} Tr[σ_j P_λ σ_i P_μ] / d
            = c_0 + Σ_{ω>0} a_ω cos(π ω t) + b_ω sin(π ω t),

with ω = μ − λ the differences of eigen half-turns (Wierichs et al., Quantum 6, 677 (2022)).
Fixed gates and channels contribute their numeric PTMs (from ``cirq.unitary`` / ``cirq.kraus``;
entries within 1e-12 of a small rational become that rational, others stay floats). The
expectation from |0…0⟩ keeps the I/Z strings: f = Σ_{s ∈ {I,Z}^n} o_s. No simplification is
attempted beyond SymPy's automatic rules (``simplify=True`` runs ``sympy.trigsimp``).

:func:`exact_gradient` differentiates over the reals
(:func:`~privqml.theory.symbols.real_derivative`) and lambdifies (with common
subexpression elimination) into a fast NumPy function (weights, inputs) -> (f, ∂f/∂θ).
"""

from __future__ import annotations

import dataclasses
import fractions
import functools
import itertools
import math
from collections import defaultdict
from typing import Callable

import cirq
import numpy as np
import sympy

from privqml.errors import ConfigError, DomainError
from privqml.theory.ansatz import Ansatz
from privqml.theory.slots import slot_table
from privqml.theory.symbols import real_derivative

ORACLE_MAX_QUBITS = 4

_PAULIS = (np.eye(2), cirq.unitary(cirq.X), cirq.unitary(cirq.Y), cirq.unitary(cirq.Z))
_PAULI_INDEX = {cirq.X: 1, cirq.Y: 2, cirq.Z: 3}


def _number(value: float) -> sympy.Expr:
    """A float as a SymPy number: a small-denominator rational when within 1e-12 of one."""
    if abs(value) < 1e-13:
        return sympy.Integer(0)
    rational = fractions.Fraction(value).limit_denominator(64)
    if abs(float(rational) - value) < 1e-12:
        return sympy.Rational(rational.numerator, rational.denominator)
    return sympy.Float(value)


@functools.lru_cache(maxsize=8)
def _pauli_basis(k: int) -> np.ndarray:
    """σ_s for s in {I,X,Y,Z}^k (first qubit most significant): [4^k, 2^k, 2^k]."""
    basis = []
    for digits in itertools.product(range(4), repeat=k):
        matrix = np.eye(1)
        for d in digits:
            matrix = np.kron(matrix, _PAULIS[d])
        basis.append(matrix)
    return np.array(basis, dtype=complex)


def _transfer(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """C_ji = Tr[σ_j A σ_i B] / d for A = ``left``, B = ``right``."""
    basis = _pauli_basis(int(round(math.log2(left.shape[0]))))
    evolved = np.einsum("ab,ibc,cd->iad", left, basis, right)
    return np.einsum("jda,iad->ji", basis, evolved) / left.shape[0]


def _ptm_columns(entries: dict) -> dict[int, list[tuple[int, sympy.Expr]]]:
    """{(j, i): expr} -> {i: [(j, expr), ...]} without zeros."""
    columns: dict[int, list[tuple[int, sympy.Expr]]] = defaultdict(list)
    for (j, i), expr in entries.items():
        if expr != 0:
            columns[i].append((j, expr))
    return dict(columns)


def _fixed_ptm(kraus: list[np.ndarray]) -> dict[int, list[tuple[int, sympy.Expr]]]:
    """Heisenberg PTM of Φ(ρ) = Σ K ρ K†: M_ji = Tr[σ_j Σ K† σ_i K] / d."""
    matrix = np.real(sum(_transfer(op.conj().T, op) for op in kraus))
    return _ptm_columns({(j, i): _number(v) for (j, i), v in np.ndenumerate(matrix)})


def _slot_ptm(gate: cirq.EigenGate, exponent: sympy.Expr) -> dict[int, list[tuple[int, sympy.Expr]]]:
    """Heisenberg PTM of an EigenGate as exact trigonometric polynomials of its exponent."""
    components = [(float(h), np.asarray(p, dtype=complex)) for h, p in gate._eigen_components()]  # noqa: SLF001
    k = cirq.num_qubits(gate)
    by_omega: dict[float, np.ndarray] = defaultdict(lambda: np.zeros((4**k, 4**k), dtype=complex))
    for lam, p_lam in components:
        for mu, p_mu in components:
            by_omega[round(mu - lam, 10)] += _transfer(p_lam, p_mu)
    entries: dict = {}
    zero = np.zeros((4**k, 4**k), dtype=complex)
    for omega in sorted(w for w in by_omega if w >= 0):
        plus, minus = by_omega[omega], by_omega.get(-omega, zero) if omega > 0 else zero
        if omega == 0:
            cos_part, sin_part = np.real(plus), np.zeros_like(np.real(plus))
        else:
            cos_part, sin_part = np.real(plus + minus), -np.imag(plus - minus)
        angle = sympy.pi * _number(omega) * exponent
        cos_t, sin_t = (sympy.cos(angle), sympy.sin(angle)) if omega else (sympy.Integer(1), sympy.Integer(0))
        for j in range(4**k):
            for i in range(4**k):
                term = _number(cos_part[j, i]) * cos_t + _number(sin_part[j, i]) * sin_t
                if term != 0:
                    entries[(j, i)] = entries.get((j, i), sympy.Integer(0)) + term
    return _ptm_columns(entries)


def _apply_heisenberg(coefficients: dict, columns: dict, targets: tuple[int, ...]) -> dict:
    new: dict[tuple, list] = defaultdict(list)
    k = len(targets)
    for key, value in coefficients.items():
        local = 0
        for q in targets:
            local = 4 * local + key[q]
        for j, expr in columns.get(local, ()):
            digits = [(j >> (2 * (k - 1 - m))) & 3 for m in range(k)]
            new_key = list(key)
            for q, digit in zip(targets, digits):
                new_key[q] = digit
            new[tuple(new_key)].append(expr * value)
    out = {}
    for key, terms in new.items():
        total = sympy.Add(*terms)
        if total != 0:
            out[key] = total
    return out


def _check_size(ansatz: Ansatz) -> None:
    if ansatz.n_qubits > ORACLE_MAX_QUBITS:
        raise ConfigError(
            f"the SymPy oracle handles at most {ORACLE_MAX_QUBITS} qubits; ansatz {ansatz.name!r} has "
            f"n_qubits={ansatz.n_qubits}. Use privqml.theory.exact.numeric (exact adjoint gradients, "
            "float64) for larger circuits"
        )


def symbolic_expectations(ansatz: Ansatz, simplify: bool = False) -> tuple[sympy.Expr, ...]:
    """f_c(x; θ) for every observable, exactly, as SymPy expressions in the ansatz's symbols.

    Raises:
        ConfigError: for more than ``ORACLE_MAX_QUBITS`` qubits.
    """
    _check_size(ansatz)
    canonical = slot_table(ansatz).canonical
    index = {q: i for i, q in enumerate(ansatz.qubits)}
    n = ansatz.n_qubits
    ptms = []
    for op, slot in zip(canonical.operations, canonical.slot_of):
        targets = tuple(index[q] for q in op.qubits)
        if not targets:
            continue
        if slot >= 0:
            ptms.append((targets, _slot_ptm(op.gate, canonical.slots[slot].exponent)))
        elif cirq.has_unitary(op):
            ptms.append((targets, _fixed_ptm([np.asarray(cirq.unitary(op), dtype=complex)])))
        else:
            ptms.append((targets, _fixed_ptm([np.asarray(k, dtype=complex) for k in cirq.kraus(op)])))
    results = []
    for obs in ansatz.observables:
        coefficients: dict[tuple, sympy.Expr] = defaultdict(lambda: sympy.Integer(0))
        for term in obs:
            key = [0] * n
            for q, pauli in term.items():
                key[index[q]] = _PAULI_INDEX[pauli]
            coefficients[tuple(key)] += _number(float(complex(term.coefficient).real))
        state = {k: v for k, v in coefficients.items() if v != 0}
        for targets, columns in reversed(ptms):
            state = _apply_heisenberg(state, columns, targets)
        value = sympy.Add(*(v for k, v in state.items() if all(d in (0, 3) for d in k)))
        results.append(sympy.trigsimp(value) if simplify else value)
    return tuple(results)


@dataclasses.dataclass(frozen=True)
class ExactGradient:
    """The oracle's expectation and weight-gradient, exact, as SymPy and as a NumPy function.

    Attributes:
        ansatz: the source ansatz.
        expectations: f_c as SymPy expressions, one per observable.
        jacobian: ∂f_c/∂θ_j as SymPy expressions, [n_observables][n_weights].
    Calling it with (weights [P], inputs [n_x]) returns (f [n_obs], jac [n_obs, P]) in float64.
    """

    ansatz: Ansatz
    expectations: tuple[sympy.Expr, ...]
    jacobian: tuple[tuple[sympy.Expr, ...], ...]
    _function: Callable = dataclasses.field(repr=False)

    def __call__(self, weights, inputs=()) -> tuple[np.ndarray, np.ndarray]:
        weights = np.asarray(weights, dtype=np.float64).reshape(-1)
        inputs = np.asarray(inputs, dtype=np.float64).reshape(-1)
        if weights.shape != (self.ansatz.n_weights,) or inputs.shape != (self.ansatz.n_inputs,):
            raise DomainError(
                f"weights have {weights.size} values and inputs {inputs.size}; the ansatz "
                f"{self.ansatz.name!r} takes {self.ansatz.n_weights} weights and {self.ansatz.n_inputs} inputs"
            )
        flat = np.array(self._function(*weights, *inputs), dtype=np.float64)
        n_obs, n_w = len(self.expectations), self.ansatz.n_weights
        return flat[:n_obs], flat[n_obs:].reshape(n_obs, n_w)


@functools.lru_cache(maxsize=64)
def exact_gradient(ansatz: Ansatz) -> ExactGradient:
    """The exact (f, ∂f/∂θ) of a ≤4-qubit ansatz as a lambdified function (cached per ansatz value).

    Raises:
        ConfigError: for more than ``ORACLE_MAX_QUBITS`` qubits.
    """
    expectations = symbolic_expectations(ansatz)
    jacobian = tuple(tuple(real_derivative(f, w) for w in ansatz.weights) for f in expectations)
    flat = list(expectations) + [entry for row in jacobian for entry in row]
    function = sympy.lambdify(list(ansatz.weights) + list(ansatz.inputs), flat, modules="numpy", cse=True)
    return ExactGradient(ansatz, expectations, jacobian, function)


__all__ = ["ORACLE_MAX_QUBITS", "ExactGradient", "exact_gradient", "symbolic_expectations"]
