"""The FrozenLake simulator agrees with gymnasium's FrozenLake-v1 (is_slippery=False).

gymnasium keeps the agent in place on a move off the grid, where the canonical rules call the move
illegal and end the episode; everything else (moves, holes, goal) must match step for step.
"""

import gymnasium as gym
from hypothesis import given, settings
from hypothesis import strategies as st

from task_envs import get_task

GYM_ACTION = {"left": 0, "down": 1, "right": 2, "up": 3}
task = get_task("frozenlake")


@settings(max_examples=150, deadline=None)
@given(
    level=st.integers(2, 8), seed=st.integers(0, 2**31), plan=st.lists(st.sampled_from(list(GYM_ACTION)), max_size=30)
)
def test_simulator_matches_gymnasium(level, seed, plan):
    instance = task.generate(level, seed)
    env = gym.make("FrozenLake-v1", desc=list(instance.rows), is_slippery=False)
    state, _ = env.reset(seed=0)
    assert divmod(state, level) == instance.start
    outcome = task.simulate(instance, plan)
    gym_states = [divmod(state, level)]
    terminated = reward = None
    for i, action in enumerate(plan):
        state, reward, terminated, _, _ = env.step(GYM_ACTION[action])
        pos = divmod(state, level)
        if pos == gym_states[-1] and not terminated:
            # gymnasium clamped an off-grid move: we call it illegal at exactly this step.
            assert outcome.illegal and outcome.reason == "off_grid" and outcome.steps == i + 1
            assert list(outcome.states) == gym_states
            return
        gym_states.append(pos)
        if terminated:
            break
    assert list(outcome.states) == gym_states
    assert not outcome.illegal
    if terminated:
        assert outcome.success == (reward == 1.0)
        assert outcome.fell == (reward == 0.0)
    else:
        assert not outcome.success and not outcome.fell
    env.close()
