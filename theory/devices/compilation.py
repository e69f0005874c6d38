r"""Compilation of a placed circuit to a device's gate set, weights kept symbolic (step 3 of
:mod:`privqml.theory.devices`).
"""

from __future__ import annotations

import warnings

import cirq

from privqml.errors import ConfigError, UnsupportedGateError
from privqml.theory.ansatz import parameter_names
from privqml.theory.devices.calibration import cirq_google


#: the two-qubit gate families a device ansatz can be compiled to (√iSWAP, Sycamore); both are calibrated
GATESETS = ("sqrt_iswap", "sycamore")
#: how far a compiled exponent may lie from a multiple of 1/8 and still be set to it (:func:`_snapped`)
_SNAP = 1e-6
_ATOL = 1e-8



def _target_gateset(gateset: str) -> tuple[cirq.CompilationTargetGateset, type]:
    if gateset == "sqrt_iswap":
        return cirq.SqrtIswapTargetGateset(additional_gates=[cirq.ZPowGate]), cirq.ISwapPowGate
    if gateset == "sycamore":
        return cirq_google.SycamoreTargetGateset(), cirq_google.SycamoreGate
    raise ConfigError(f"gateset={gateset!r} is not known; choose one of {GATESETS}")



def _native_parametrised(op: cirq.Operation) -> cirq.Operation:
    """A parametrised single-qubit gate as Z^t or PhasedXZ with the same symbolic exponents (up to phase)."""
    gate, (q,) = op.gate, op.qubits
    if isinstance(gate, cirq.ZPowGate):
        return cirq.ZPowGate(exponent=gate.exponent).on(q)
    if isinstance(gate, cirq.XPowGate):
        return cirq.PhasedXZGate(x_exponent=gate.exponent, z_exponent=0, axis_phase_exponent=0).on(q)
    if isinstance(gate, cirq.YPowGate):
        return cirq.PhasedXZGate(x_exponent=gate.exponent, z_exponent=0, axis_phase_exponent=0.5).on(q)
    if isinstance(gate, cirq.PhasedXPowGate):
        return cirq.PhasedXZGate(x_exponent=gate.exponent, z_exponent=0, axis_phase_exponent=gate.phase_exponent).on(q)
    if isinstance(gate, cirq.PhasedXZGate):
        return op.untagged
    raise UnsupportedGateError(f"gate {op} is parametrised and not rx/ry/rz, X/Y/Z powers, PhasedX or "
                               "PhasedXZ; on_device keeps only those symbolic; rewrite it with them")


def _snapped(gate: cirq.PhasedXZGate) -> cirq.PhasedXZGate:
    """``gate`` with each exponent that lies within :data:`_SNAP` of a multiple of 1/8 set to that multiple.

    Cirq's two-qubit decompositions are numerical: the single-qubit gates around each √iSWAP come out a
    few 1e-8 away from the exact (Clifford) angles. Those residues would make the gates non-Clifford and
    every Pauli they meet spread into strings of weight 1e-8, which the bound's walk must then carry as
    live. The snapped gate is the exact one the decomposition approximates (the compiled circuit still
    equals the source, now to rounding, checked in the tests)."""
    def snap(value: float) -> float:
        nearest = round(float(value) * 8) / 8
        return nearest if abs(float(value) - nearest) <= _SNAP else float(value)

    return cirq.PhasedXZGate(x_exponent=snap(gate.x_exponent), z_exponent=snap(gate.z_exponent),
                             axis_phase_exponent=snap(gate.axis_phase_exponent))


def _fixed_single(op: cirq.Operation) -> list[cirq.Operation]:
    """A fixed single-qubit gate as PhasedXZ, or as Z^z (virtual) when it has no X part; [] for the identity."""
    gate = _snapped(cirq.PhasedXZGate.from_matrix(cirq.unitary(op)))
    if abs(gate.x_exponent) > _ATOL:
        return [gate.on(*op.qubits)]
    z = (gate.z_exponent + 1) % 2 - 1
    return [] if abs(z) <= _ATOL else [cirq.ZPowGate(exponent=z).on(*op.qubits)]


def compile_circuit(circuit: cirq.AbstractCircuit, gateset: str = "sqrt_iswap", device_couplers=None) -> cirq.Circuit:
    """``circuit`` (on device qubits) in the device gate set, its parametrised single-qubit gates symbolic.

    Returns a circuit of ISWAP**0.5 (or SYC), PhasedXZ and Z^t gates. Raises
    :class:`~privqml.errors.UnsupportedGateError` for a parametrised gate on two or more qubits, a
    parametrised gate with no rule, or a channel; :class:`~privqml.errors.ConfigError` when a two-qubit gate
    lands off ``device_couplers``.
    """
    target, two_qubit_type = _target_gateset(gateset)
    prepared = []
    for moment in circuit:
        ops = []
        for op in moment:
            if cirq.is_parameterized(op):
                if len(op.qubits) > 1:
                    symbols = sorted(parameter_names(op))
                    raise UnsupportedGateError(
                        f"gate {op} is a parametrised {len(op.qubits)}-qubit gate (symbols {symbols}); on_device "
                        "compiles fixed multi-qubit gates only - the noiseless engines run it as is")
                ops.append(_native_parametrised(op))
            elif not cirq.has_unitary(op):
                raise UnsupportedGateError(f"operation {op} is not unitary; on_device adds the device's own noise - "
                                           "pass the ansatz without channels")
            else:
                ops.append(op.untagged)
        prepared.append(cirq.Moment(ops))
    with warnings.catch_warnings():  # cirq 1.5's own merge_k_qubit_unitaries warns about a default it passes
        warnings.filterwarnings("ignore", message="In cirq 1.6 the default value of `use_repetition_ids`",
                                category=FutureWarning)
        compiled = cirq.optimize_for_target_gateset(cirq.Circuit(prepared), gateset=target)
    moments = []
    for moment in compiled:
        ops = []
        for op in moment:
            if isinstance(op.gate, cirq.GlobalPhaseGate) or not op.qubits:
                continue
            if len(op.qubits) == 1 and not cirq.is_parameterized(op):
                ops += _fixed_single(op)
                continue
            if len(op.qubits) == 2:
                assert isinstance(op.gate, two_qubit_type) and op.gate in target, op
                if device_couplers is not None and frozenset(op.qubits) not in device_couplers:
                    raise ConfigError(f"compiled gate {op} acts on {op.qubits[0]}, {op.qubits[1]}, not a coupler")
            else:
                assert isinstance(op.gate, (cirq.PhasedXZGate, cirq.ZPowGate)), op
            ops.append(op)
        if ops:
            moments.append(cirq.Moment(ops))
    return cirq.Circuit(moments)


__all__ = ["GATESETS", "compile_circuit"]
