r"""Refinements of the gradient bound: each one provably valid, each named in the bound's record.

The base bound (:mod:`privqml.theory.bounds`) bounds every slot's derivative on its own,
|∂f/∂t_k| ≤ Ω_k h (Bernstein), and adds the slots up along a direction of weight space. The
refinements below use more of the circuit's structure; each is switched on after the ones
before it, and the record keeps the bound after each (``GradientBound.refinement_totals``):

``commutation``  (:mod:`.commutation`) a slot whose generator commutes with the *whole*
                 Heisenberg-evolved observable (not only term by term) has ∂f/∂t_k ≡ 0 and is
                 pruned — FSim conserves excitation number, so [XX + YY, Z_0 + Z_1] = 0.
``prefix``       (:mod:`.prefix`) weights that act on a qubit before its first multi-qubit
                 operation act on a product state; their joint gradient is bounded by the
                 quantum Fisher information, which adds over qubits: ‖∇_prefix f‖ ≤ h · max_q
                 σ_max(V_q). The other weights keep the base bound and the two parts add in
                 quadrature (they are disjoint blocks of the gradient).
``terms``        (:mod:`.terms`) for O = Σ_t c_t P_t, the per-term gradients g_t = ∇⟨P_t⟩ that
                 touch disjoint sets of weights are orthogonal, so ‖Σ_t c_t g_t‖² ≤
                 Σ_{t,s overlap} |c_t c_s| b_t b_s instead of (Σ_t |c_t| b_t)².
``suffix``       (:mod:`.suffix`) weights after a qubit's last multi-qubit operation (once the
                 slots of ``commutation`` are dropped) turn one Pauli term's single-qubit
                 factors: their block of that term's gradient is bounded by the operator norm
                 of the derivative of the rotated term, (Σ_q σ_q²)^{1/2}, one more orthogonal
                 block beside the prefix weights and the rest.
``blocks``       (:mod:`.blocks`) the weights of one single-qubit run between entangling
                 operations act as one rotation of that qubit: their block is bounded by h·σ_run
                 (carried axes, Gram bound) instead of slot by slot.
``noise``        (:mod:`.noise`) a channel after a slot scales that slot's commutator: a
                 depolarising channel of strength p by exactly (1 − 4p/3), a Pauli channel or
                 amplitude damping by the largest scale of the Pauli components the generator
                 does not commute with. Applied per slot — never as a global rescaling of h.

For the loss, :mod:`.coupling` bounds ‖∇_θ ℓ‖ = |∂ℓ/∂f| ‖∇_θ f‖ at the *same* point:
‖∇_θ f‖ ≤ G · √(1 − ((f − c)/h)²) (Bernstein–Szegő / Duffin–Schaeffer along a line of weight
space; Bhatia–Davis for the prefix part), so the loss bound is max_f |∂ℓ/∂f| G √(1 − ((f−c)/h)²)
rather than sup|∂ℓ/∂f| · G.
"""

REFINEMENTS = ("commutation", "prefix", "terms", "suffix", "blocks", "noise")

__all__ = ["REFINEMENTS"]
