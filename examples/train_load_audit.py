"""Train your own ansatz from Python through privqml's trainer, load the finished run, predict, audit.

    python examples/train_load_audit.py [OUT_DIR]
"""

import sys

import numpy as np

from privqml import api
from privqml.models.data import load_dataset

out = sys.argv[1] if len(sys.argv) > 1 else "my_run"
spec = "examples/my_ansatz.py:my_ansatz:n_layers=1"

run = api.train(spec, "circle", epsilon=2.0, epochs=2, n_train=120, n_test=60, batch_size=20, out=out)
guarantee = run.summary()["guarantee"]
print(f"trained: epsilon {guarantee['epsilon_rdp']:.3f} (RDP) / {guarantee['epsilon_pld']:.3f} (PLD), "
      f"delta {guarantee['delta']:g}, randomness {guarantee['randomness']['mode']}")

finished = api.load_run(out)
print(f"loaded: test accuracy {finished.metrics['test_accuracy']:.3f}, clip {finished.metrics['clip']:.4f}")
# the test split the run was measured on, rebuilt from its public seed: predict() reproduces its accuracy
model = finished.model
data = load_dataset("circle", model.n_features, finished.result.config.seed, model.input_domain, 120, 60)
accuracy = float(np.mean(finished.predict(data.x_test) == data.y_test))
print(f"predict on the test split: accuracy {accuracy:.3f}")

report = api.audit(out, trials=400)
print(f"audit of the run: {report['verdict']}")
