"""Accounting without training (``privqml epsilon`` / ``privqml sigma``).

    python examples/accounting.py
"""

from privqml import api

spent = api.epsilon(noise_multiplier=1.1, n_train=60000, batch_size=256, epochs=60)
print(f"sigma 1.1, n 60000, L 256, 60 epochs: epsilon {spent['epsilon_rdp']:.3f} (RDP), "
      f"{spent['epsilon_pld']:.3f} (PLD) at delta {spent['delta']:g}")

planned = api.sigma(epsilon=1.0, n_train=400, batch_size=32, epochs=10)
print(f"epsilon 1 on 400 examples, L 32, 10 epochs: sigma {planned['noise_multiplier']:.4f} "
      f"(calibrated with {planned['calibrated_with']}), spends {planned['epsilon_rdp']:.4f} (RDP)")
