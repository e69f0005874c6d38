"""privqml.theory — deterministic gradient-norm bounds for parametrised Cirq circuits (SymPy).

Knows nothing of TensorFlow: importing it loads Cirq, SymPy and NumPy only.
"""

from privqml.theory.ansatz import DEFAULT_INPUT_DOMAIN, Ansatz, Readout
from privqml.theory.builtins import BUILTIN_ANSATZE, builtin_ansatz, hea, load_ansatz, native, parse_observables, reupload
from privqml.theory.bounds import GradientBound, gradient_bound
from privqml.theory.observable_range import observable_range
from privqml.theory.diagonal import DiagonalPhaseGate
from privqml.theory.loss import LOSSES, LossGradientBound, loss_gradient_bound
from privqml.theory.exact.numeric import batch_expectations_and_jacobians, expectations, expectations_and_jacobian
from privqml.theory.exact.oracle import exact_gradient, symbolic_expectations
from privqml.theory.spectra import AngleSlot, CanonicalCircuit, ControlledEigenGate, EigenSpectrum, canonicalize, eigen_spectrum
from privqml.theory.slots import SlotRow, SlotTable, slot_table
from privqml.theory.exact.tightness import TightnessResult, max_gradient_norm

__all__ = [
    "DEFAULT_INPUT_DOMAIN",
    "Ansatz",
    "Readout",
    "BUILTIN_ANSATZE",
    "builtin_ansatz",
    "hea",
    "load_ansatz",
    "native",
    "parse_observables",
    "reupload",
    "GradientBound",
    "gradient_bound",
    "observable_range",
    "LOSSES",
    "LossGradientBound",
    "loss_gradient_bound",
    "expectations",
    "expectations_and_jacobian",
    "batch_expectations_and_jacobians",
    "exact_gradient",
    "symbolic_expectations",
    "TightnessResult",
    "max_gradient_norm",
    "ControlledEigenGate",
    "DiagonalPhaseGate",
    "AngleSlot",
    "CanonicalCircuit",
    "EigenSpectrum",
    "canonicalize",
    "eigen_spectrum",
    "SlotRow",
    "SlotTable",
    "slot_table",
]
