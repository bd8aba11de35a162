"""95% intervals: Wilson score against published and hand-computed values, the stratified bootstrap's
determinism, coverage of the point estimate, narrowing with n, and resampling within cells."""

import math

import numpy as np
import pytest

from mgsd_eval.intervals import cell_interval, macro_bootstrap, wilson, z_value


def test_z_value_for_95_percent():
    assert z_value() == pytest.approx(1.959964, abs=1e-6)


@pytest.mark.parametrize(
    "k, n, lo, hi",
    [
        # by hand: centre (p + z^2/2n) / (1 + z^2/n), half-width z/(1 + z^2/n) * sqrt(p(1-p)/n + z^2/4n^2)
        (0, 1, 0.0, 0.7935),
        (1, 1, 0.2065, 1.0),
        (5, 10, 0.2366, 0.7634),
        (0, 10, 0.0, 0.2775),
        # Newcombe (1998), Statistics in Medicine 17:857, table I, method 3 (score interval without correction)
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_known_values(k, n, lo, hi):
    got = wilson(k, n)
    assert got == pytest.approx((lo, hi), abs=1e-4)


def test_wilson_edges():
    assert wilson(0, 0) is None
    with pytest.raises(ValueError):
        wilson(3, 2)
    for n in (1, 7, 50):
        for k in range(n + 1):
            lo, hi = wilson(k, n)
            assert 0 <= lo <= k / n <= hi <= 1
            mirror = wilson(n - k, n)
            assert (lo, hi) == pytest.approx((1 - mirror[1], 1 - mirror[0]))


def test_wilson_narrows_with_n():
    widths = [hi - lo for lo, hi in (wilson(n // 4, n) for n in (4, 40, 400, 4000))]
    assert widths == sorted(widths, reverse=True) and widths[-1] < 0.03
    # about the normal interval for large n
    lo, hi = wilson(2000, 4000)
    assert hi - lo == pytest.approx(2 * 1.959964 * math.sqrt(0.25 / 4000), rel=1e-3)


def test_cell_interval_wilson_for_rates_bootstrap_otherwise():
    assert cell_interval([1, 0, 0, 0, 1]) == (wilson(2, 5), "wilson")
    assert cell_interval([], binary=True) == (None, None)
    values = [0.2, 0.4, 0.4, 0.6, 1.0, 0.0]
    interval, method = cell_interval(values)
    assert method == "bootstrap" and interval[0] <= np.mean(values) <= interval[1]
    assert cell_interval(values) == (interval, method)  # fixed seed
    # a 0/1 cell of a fractional metric is bootstrapped when told so
    assert cell_interval([0, 0, 1], binary=False)[1] == "bootstrap"


def _cells(rate_by_task: dict, n: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {
        t: {str(l): list((rng.random(n) < p).astype(int)) for l, p in enumerate(ps, 3)}
        for t, ps in rate_by_task.items()
    }


def test_macro_bootstrap_contains_the_estimate_and_is_reproducible():
    cells = _cells({"frozenlake": [0.2, 0.5, 0.7], "maze": [0.4, 0.6], "minibehaviour": [0.9]}, n=20)
    out = macro_bootstrap(cells)
    assert out == macro_bootstrap(cells)
    task_means = {t: np.mean([np.mean(v) for v in levels.values()]) for t, levels in cells.items()}
    for task, (lo, hi) in out["by_task"].items():
        assert lo <= task_means[task] <= hi
    lo, hi = out["all_tasks_macro"]
    assert lo <= np.mean(list(task_means.values())) <= hi
    assert macro_bootstrap(cells, seed=1) != out


def test_macro_bootstrap_narrows_with_n():
    widths = []
    for n in (5, 50, 500):
        lo, hi = macro_bootstrap(_cells({"maze": [0.5, 0.5]}, n=n))["all_tasks_macro"]
        widths.append(hi - lo)
    assert widths == sorted(widths, reverse=True)
    # one cell of 400 cases at 0.5: about the normal interval, +-1.96 * sqrt(.25 / 400)
    lo, hi = macro_bootstrap({"maze": {"3": [0, 1] * 200}})["all_tasks_macro"]
    assert (lo, hi) == pytest.approx((0.5 - 0.049, 0.5 + 0.049), abs=0.008)


def test_macro_bootstrap_resamples_within_cells():
    # a 1-case cell of 1 and a 100-case cell of 0: resampling within cells keeps each cell's size, so the
    # macro never moves (an unstratified resampling of the 101 cases would)
    out = macro_bootstrap({"maze": {"3": [1], "4": [0] * 100}})
    assert out["by_task"]["maze"] == (0.5, 0.5) and out["all_tasks_macro"] == (0.5, 0.5)
    # empty cells are skipped as the summary skips them; no cases at all gives no interval
    assert macro_bootstrap({"maze": {"3": [], "4": [1, 1]}})["by_task"]["maze"] == (1.0, 1.0)
    assert macro_bootstrap({"maze": {"3": []}}) == {"by_task": {}, "all_tasks_macro": None}
