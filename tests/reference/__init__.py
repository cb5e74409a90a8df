"""A scalar reference of the Russia–DPRK model: one replicate, plain floats, Mesa agents (issue 13).

The same rules as ``sim/`` written the way a Mesa user would write them, reading the same
counter-based random numbers, so that it serves as the test oracle of the ensemble
(``tests/test_reference.py``) and as the honest Mesa-native peer in ``tests/test_benchmark.py``.
``legacy`` loads the ensemble from before the speed work out of git, for the benchmarks only.
"""

from .model import ReferenceModel, scenario

__all__ = ["ReferenceModel", "scenario"]
