"""privqml.theory.exact — exact references for small circuits: float64 numeric expectations and
Jacobians, the symbolic (SymPy) oracle, and the multi-start true maximum behind ``--tightness``."""
