"""privqml.models.data — datasets for the models layer.

- :mod:`~privqml.models.data.dataset` — the frozen ``Dataset`` record and the checks every source
  shares (features inside the public domain, integer labels, whether ε covers the preprocessing,
  how many of the user's own rows lost protection);
- :mod:`~privqml.models.data.synthetic` — generated tasks (quantum teacher, circle, linear);
- :mod:`~privqml.models.data.reduction` — public maps from raw data to circuit inputs;
- :mod:`~privqml.models.data.catalog` — digits and user files, datasets by name (``load_dataset``);
  a user file's rows are split by per-row keyed draws, never by label or by other rows.
"""

from privqml.models.data import catalog
from privqml.models.data.catalog import *  # noqa: F403 - the package's public names are the catalog's

__all__ = list(catalog.__all__)
