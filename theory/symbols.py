"""Symbols by name: one SymPy symbol per parameter name, and derivatives over the reals.

Cirq resolves a gate parameter by its *name* (``cirq.ParamResolver.value_of`` looks a
``sympy.Symbol`` up by ``symbol.name``), so ``sympy.Symbol("w", real=True)`` and
``sympy.Symbol("w")`` in one circuit are one parameter. SymPy compares symbols by name *and*
assumptions (the two are different objects, and ``sympy.diff`` of one with respect to the other
is 0). Every consumer that matches symbols as objects — set intersections, ``sympy.diff``,
``lambdify`` — is therefore only right once each name has one object. :func:`canonical_circuit`
establishes that: it replaces every symbol by the plain ``sympy.Symbol(name)``, evaluates
constant SymPy parameters (``sympy.pi / 2``, ``sympy.Rational(1, 2)``) to Python numbers, and
unrolls ``cirq.CircuitOperation``s (whose resolvers map names; substituted exactly) into the
circuit, moment by moment, and leaves out symbolic global phases. The cost is one pass over the
operations.

Weights and inputs are real numbers, but a plain symbol is complex for SymPy, which makes
``sympy.diff(Abs(x - 1), x)`` an expression in ``re``/``im``. :func:`real_derivative`
differentiates with every symbol taken real and maps the result back to the plain symbols.
"""

from __future__ import annotations

import cirq
import sympy

from privqml.errors import AnsatzError


def canonical_symbol(name: str) -> sympy.Symbol:
    """The one symbol of a parameter name: ``sympy.Symbol(name)`` without assumptions."""
    return sympy.Symbol(name)


def canonical_value(value):
    """``value`` with every symbol replaced by its canonical symbol and constants evaluated.

    A SymPy expression without free symbols becomes a ``float`` (a ``complex`` when its
    imaginary part is not 0, as for a global-phase coefficient); other values are returned
    unchanged. The same object is returned when nothing changes.
    """
    if isinstance(value, str):
        return canonical_symbol(value)
    if not isinstance(value, sympy.Basic):
        return value
    free = value.free_symbols
    if not free:
        try:
            number = complex(value)
        except (TypeError, ValueError):
            return value
        return number.real if number.imag == 0 else number
    renames = {
        s: canonical_symbol(s.name) for s in free if isinstance(s, sympy.Symbol) and s != canonical_symbol(s.name)
    }
    return value.xreplace(renames) if renames else value


class _ByName(cirq.ParamResolver):
    """A resolver that renames symbols to their canonical symbols and evaluates constants; with
    ``substitutions`` ({canonical symbol: value}) it also substitutes, exactly and simultaneously.

    ``changed`` records whether any value it was asked for changed, so that unchanged operations
    are kept as they are.
    """

    def __init__(self, substitutions=None) -> None:
        if hasattr(self, "changed"):
            return  # cirq.ParamResolver(resolver) returns the resolver and calls __init__ again
        super().__init__({})
        self.substitutions = dict(substitutions or {})
        self.changed = False

    def __bool__(self) -> bool:  # cirq.resolve_parameters skips an empty resolver
        return True

    def value_of(self, value, recursive: bool = True):
        new = canonical_value(value)
        if self.substitutions and isinstance(new, sympy.Basic):
            new = canonical_value(new.xreplace(self.substitutions))
        if new is not value:
            self.changed = True
        return new


#: Gates parametrised through their exponent and global shift only: for these, checking those two
#: values decides whether an operation needs resolving (resolving an EigenGate costs SymPy
#: arithmetic, too slow to do for every gate of a large circuit).
_EXPONENT_ONLY = frozenset(
    {
        cirq.XPowGate, cirq.YPowGate, cirq.ZPowGate, cirq.Rx, cirq.Ry, cirq.Rz, cirq.HPowGate,
        cirq.CZPowGate, cirq.CXPowGate, cirq.XXPowGate, cirq.YYPowGate, cirq.ZZPowGate,
        cirq.SwapPowGate, cirq.ISwapPowGate, cirq.CCZPowGate, cirq.CCXPowGate,
    }
)


def _is_canonical(value) -> bool:
    if not isinstance(value, sympy.Basic):
        return True
    free = value.free_symbols
    return bool(free) and all(s == canonical_symbol(s.name) for s in free)


def canonical_operation(op: cirq.Operation) -> cirq.Operation:
    """``op`` with canonical symbols and constants evaluated (the same object if unchanged)."""
    gate = getattr(op, "gate", None)
    if type(gate) in _EXPONENT_ONLY:
        if _is_canonical(gate.exponent) and _is_canonical(gate._global_shift):  # noqa: SLF001
            return op
    elif not cirq.is_parameterized(op):
        return op
    resolver = _ByName()
    resolved = cirq.resolve_parameters(op, resolver)
    return resolved if resolver.changed else op


def _mapping_name(key) -> str:
    return key if isinstance(key, str) else key.name


def _unrolled(op: cirq.CircuitOperation) -> cirq.Circuit:
    """The canonical circuit of a circuit operation, its maps applied."""
    inner = canonical_circuit(op.circuit.unfreeze())
    substitutions = {
        canonical_symbol(_mapping_name(key)): canonical_value(value)
        for key, value in op.param_resolver.param_dict.items()
    }
    if substitutions:  # exact SymPy substitution (Cirq's own resolver turns 1/pi into a float)
        inner = cirq.resolve_parameters(inner, _ByName(substitutions))
    try:
        mapped = op.replace(circuit=inner.freeze(), param_resolver=cirq.ParamResolver({})).mapped_circuit(deep=False)
    except ValueError as exc:
        raise AnsatzError(
            f"circuit operation with repetitions={op.repetitions} cannot be unrolled ({exc}); "
            "fix the number of repetitions to an integer"
        ) from exc
    return canonical_circuit(mapped)


def canonical_circuit(circuit: cirq.AbstractCircuit) -> cirq.AbstractCircuit:
    """``circuit`` with one symbol per name, constants evaluated, circuit operations unrolled in
    place (a moment holding one becomes as many moments as its circuit) and symbolic global
    phases left out (they change no expectation, and Cirq's simulators cannot resolve them).

    Returns ``circuit`` itself (a ``cirq.Circuit`` or ``cirq.FrozenCircuit``) when nothing
    changes, else a new ``cirq.Circuit``.

    Raises:
        AnsatzError: a circuit operation whose repetitions are symbolic.
    """
    moments: list[cirq.Moment] = []
    changed = False
    for moment in circuit:
        plain: list[cirq.Operation] = []
        unrolled: list[cirq.Circuit] = []
        moment_changed = False
        for op in moment:
            untagged = op.untagged
            if isinstance(untagged, cirq.CircuitOperation):
                unrolled.append(_unrolled(untagged))
                continue
            if not untagged.qubits and cirq.is_parameterized(untagged):
                moment_changed = True  # a symbolic global phase: no effect, and Cirq cannot resolve it
                continue
            new = canonical_operation(op)
            moment_changed |= new is not op
            plain.append(new)
        changed |= moment_changed or bool(unrolled)
        if not unrolled:
            moments.append(cirq.Moment(plain) if moment_changed else moment)
            continue
        depth = max(1, max(len(sub) for sub in unrolled))
        for layer in range(depth):
            ops = list(plain) if layer == 0 else []
            for sub in unrolled:
                if layer < len(sub):
                    ops.extend(sub[layer].operations)
            moments.append(cirq.Moment(ops))
    return cirq.Circuit(moments) if changed else circuit


#: Functions whose SymPy derivative depends on whether the argument is real; every other function
#: (polynomials, sin, exp, log, sqrt, atan, …) has one derivative formula over ℝ and over ℂ.
_NOT_HOLOMORPHIC = (
    sympy.Abs, sympy.sign, sympy.re, sympy.im, sympy.arg, sympy.conjugate, sympy.Heaviside,
    sympy.Piecewise, sympy.Min, sympy.Max, sympy.floor, sympy.ceiling,
)


def real_derivative(expr: sympy.Expr, symbol: sympy.Symbol) -> sympy.Expr:
    """∂expr/∂symbol with every free symbol of ``expr`` taken real, in the original symbols.

    ``Abs(x − 1)`` gives ``sign(x − 1)``, where the complex derivative gives an expression in
    ``re(x)`` and ``im(x)``; a jump (``sign``, ``Heaviside``) gives a ``DiracDelta``. The common
    angles ``symbol`` and ``c·symbol`` (a rotation angle θ/π) are differentiated without
    ``sympy.diff``: 1 and c.
    """
    if expr == symbol:
        return sympy.Integer(1)
    if isinstance(expr, sympy.Mul):
        factors = expr.args
        if symbol in factors:  # c·symbol, the symbol a factor of its own: the product of the others
            others = [f for f in factors if f != symbol]
            if len(others) == len(factors) - 1 and not any(symbol in f.free_symbols for f in others):
                return sympy.Mul(*others)
        coefficient, rest = expr.as_independent(symbol, as_Add=False)
        if rest == symbol:
            return coefficient
    free = expr.free_symbols
    if symbol not in free:
        return sympy.Integer(0)
    reals = {s: sympy.Dummy(s.name, real=True) for s in free if not s.is_real}
    if not reals or not expr.has(*_NOT_HOLOMORPHIC):  # same formula over ℝ and over ℂ
        return sympy.diff(expr, symbol)
    derivative = sympy.diff(expr.xreplace(reals), reals.get(symbol, symbol))
    return derivative.xreplace({dummy: s for s, dummy in reals.items()})


__all__ = ["canonical_circuit", "canonical_operation", "canonical_symbol", "canonical_value", "real_derivative"]
