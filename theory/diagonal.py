r"""Symbolic ``cirq.DiagonalGate``\ s as exact products of diagonal EigenGates, one per symbolic term.

A diagonal gate D = diag(e^{iφ_0}, …, e^{iφ_{d−1}}) on n qubits (d = 2^n, Cirq's big-endian basis
order) has angles φ_k in radians, SymPy expressions in the weights and inputs. Expanding every
angle into numeric multiples of its terms (``sympy.expand``, then ``as_coefficients_dict``),

    φ_k = c_k + Σ_m a_km e_m,        e_m the distinct terms with free symbols, a_km and c_k numbers,

gives, since diagonal matrices commute, exactly

    D = diag(e^{i c}) · Π_m exp(i e_m A_m),        A_m = diag(a_m).

The factor exp(i e_m A_m) is the EigenGate :class:`DiagonalPhaseGate` with exponent
t_m = e_m/π (half-turns) and eigen half-turns a_km (one per basis state), so an expectation is a
trigonometric polynomial in e_m whose largest frequency is the spread

    Ω_m = π (max_k a_km − min_k a_km) per unit t_m,   i.e.  max a_m − min a_m per radian of e_m,

and Bernstein's inequality with the chain rule over the factors bounds
|∂f/∂θ| ≤ h Σ_m (max a_m − min a_m) sup|∂e_m/∂θ|. This is the largest difference of the generator's
eigenvalues, hence never looser than Cirq's own decomposition of D into rz and CNOT gates (Welch,
Greenbaum, Mostame, Aspuru-Guzik, "Efficient quantum circuits for diagonal unitaries without
ancillas", New J. Phys. 16, 033040 (2014)): there the rz angles are the Walsh–Hadamard coefficients
â_s of a_m and their spreads add up to 2 Σ_{s≠0} |â_s| ≥ max a_m − min a_m (for one level
diag(0, …, 0, 1) on n qubits: 2 − 2^{1−n} against 1).

A factor whose a_km are all equal, and a constant part whose c_k are all equal, are global phases
and are left out.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

import cirq
import numpy as np
import sympy

from privqml.errors import UnsupportedGateError


class DiagonalPhaseGate(cirq.EigenGate):
    """diag(e^{iπ t a_0}, …, e^{iπ t a_{d−1}}) on n qubits: an EigenGate with exponent t.

    ``half_turns`` are the a_k, one per computational basis state in Cirq's big-endian order
    (qubit 0 most significant); the generator per unit exponent is π·diag(a).
    """

    def __init__(self, half_turns: Sequence[float], exponent=1.0) -> None:
        values = tuple(float(a) for a in half_turns)
        n_qubits = len(values).bit_length() - 1
        if n_qubits < 1 or 2**n_qubits != len(values):
            raise ValueError(f"half_turns has {len(values)} entries; a diagonal gate needs 2^n (n >= 1)")
        self._half_turns = values
        self._n_qubits = n_qubits
        super().__init__(exponent=exponent)

    @property
    def half_turns(self) -> tuple[float, ...]:
        return self._half_turns

    def _num_qubits_(self) -> int:
        return self._n_qubits

    def _eigen_components(self):
        values = np.asarray(self._half_turns)
        return [(float(v), np.diag((values == v).astype(float))) for v in sorted(set(self._half_turns))]

    def _with_exponent(self, exponent) -> "DiagonalPhaseGate":
        return DiagonalPhaseGate(self._half_turns, exponent)

    def _decompose_(self, qubits):
        """As a ``cirq.DiagonalGate`` (which Cirq decomposes further into rz and CNOT)."""
        return [cirq.DiagonalGate([math.pi * a * self.exponent for a in self._half_turns]).on(*qubits)]

    def _value_equality_values_(self):
        return self._half_turns, super()._value_equality_values_()

    def _value_equality_approximate_values_(self):
        return self._half_turns, super()._value_equality_approximate_values_()

    def __repr__(self) -> str:
        return f"privqml.DiagonalPhaseGate({list(self._half_turns)!r}, exponent={self.exponent!r})"

    def __str__(self) -> str:
        turns = ", ".join(f"{a:g}" for a in self._half_turns)
        return f"DiagonalPhase[{turns}]**{self.exponent}"


def _angle_terms(angle) -> tuple[float, dict]:
    """(constant, {term: coefficient}) of an angle in radians; raises ValueError if not real."""
    if not isinstance(angle, sympy.Basic):
        value = complex(angle)
        if value.imag:
            raise ValueError(f"angle={angle} is not real")
        return value.real, {}
    constant, terms = 0.0, {}
    for term, coefficient in sympy.expand(angle).as_coefficients_dict().items():
        if term.free_symbols:
            factor, term = term.as_independent(*term.free_symbols, as_Add=False)  # π·w: π and w
            value = complex(coefficient * factor)
            if value.imag:
                raise ValueError(f"angle={angle} has the complex coefficient {coefficient * factor}")
            terms[term] = terms.get(term, 0.0) + value.real
        else:
            value = complex(term * coefficient)
            if value.imag:
                raise ValueError(f"angle={angle} has the complex constant {term * coefficient}")
            constant += value.real
    return constant, terms


def diagonal_factors(op: cirq.Operation) -> tuple[Optional[list[cirq.Operation]], str]:
    """(operations whose product is ``op``, "") for a symbolic ``cirq.DiagonalGate``, else (None, why).

    The operations are an optional fixed ``cirq.DiagonalGate`` (the constant part) followed by
    one :class:`DiagonalPhaseGate` per symbolic term, with exponent term/π.

    Raises:
        UnsupportedGateError: a diagonal gate whose angles are not real (it is not unitary).
    """
    gate = op.gate
    if not isinstance(gate, cirq.DiagonalGate):
        return None, "not a cirq.DiagonalGate"
    angles = gate._diag_angles_radians  # noqa: SLF001 - no public accessor in cirq 1.3
    constants = np.zeros(len(angles))
    coefficients: dict[sympy.Expr, np.ndarray] = {}
    try:
        for k, angle in enumerate(angles):
            constants[k], terms = _angle_terms(angle)
            for term, coefficient in terms.items():
                coefficients.setdefault(term, np.zeros(len(angles)))[k] += coefficient
    except (TypeError, ValueError) as exc:
        raise UnsupportedGateError(
            f"diagonal gate {op} is not unitary: {exc}; give it real angles (radians)"
        ) from exc
    out: list[cirq.Operation] = []
    if np.ptp(constants) > 0:
        out.append(cirq.DiagonalGate(list(constants)).on(*op.qubits))
    for term, column in coefficients.items():
        if np.ptp(column) > 0:
            out.append(DiagonalPhaseGate(column, exponent=term / sympy.pi).on(*op.qubits))
    return out, ""


__all__ = ["DiagonalPhaseGate", "diagonal_factors"]
