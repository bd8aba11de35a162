# The two commands a new user runs, and the benchmarks. Each target creates the environment it needs.
.PHONY: quickstart test bench clean

quickstart:
	bash quickstart.sh

test:
	bash tests/run.sh

bench:
	PY=$$(bash requirements/setup_env.sh eval) && $$PY benchmarks/bench_task_envs.py

clean:
	rm -rf .venvs data/quickstart runs/quickstart models/quickstart
