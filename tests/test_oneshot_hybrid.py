"""The hybrid search: generations scored together, the initial population used."""

import pytest
from oneshot_helpers import tiny_images as _data
from oneshot_helpers import tiny_supernet as _net

from nasfast import oneshot as hybrid


@pytest.mark.parametrize("algo", ["rea", "nsga2"])
def test_search_batches_generations_and_uses_seeds(algo):
    x, y = _data(n=16)
    obj = hybrid.SupernetObjective(_net().eval(), x, y, costs=["params"], batch_size=16)
    seeds = [(3, 3, 3, 3, 3, 3), (1, 1, 1, 1, 1, 1)]
    objectives = ["accuracy"] if algo == "rea" else ["accuracy", "params"]
    res = hybrid.search(
        obj,
        algo=algo,
        objectives=objectives,
        budget=20,
        generation=4,
        population=8,
        initial=seeds,
        seed=0,
    )
    assert res.n_evals == 20
    first = {e.candidate for e in res.history[:8]}
    assert set(seeds) <= first
    assert obj.calls < 10  # generations, not one call per candidate
    assert len(res.front()) >= 1
