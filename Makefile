# The two commands a new user runs, and the benchmarks. Each target creates the environment it needs.
.PHONY: quickstart toy toy-seeds test test-fast lint format bench clean

quickstart:
	bash quickstart.sh

# Toy-scale MGSD on a CPU (toy.sh): the method's effect in miniature, report in runs/toy/report/.
toy:
	bash toy.sh

# The toy experiment for seeds 0 1 2 (SEEDS=...) and the table over seeds (toy_seeds.sh), in runs/toy_seeds/.
toy-seeds:
	bash toy_seeds.sh

test:
	bash tests/run.sh

# The edit-test loop: the tests that need only the light eval environment (task_envs, evaluation against a mock
# server, reports, the CLI, lint), under 3 minutes; `make test` is everything, as CI runs it.
test-fast:
	MGSD_TEST_SUITES=eval bash tests/run.sh -x

lint:
	PY=$$(bash requirements/setup_env.sh eval) && $$PY -m ruff check . && $$PY -m ruff format --check .

format:
	PY=$$(bash requirements/setup_env.sh eval) && $$PY -m ruff check --fix . && $$PY -m ruff format .

bench:
	PY=$$(bash requirements/setup_env.sh eval) && $$PY benchmarks/bench_task_envs.py

clean:
	rm -rf .venvs data/quickstart runs/quickstart models/quickstart data/toy* runs/toy* models/toy*
