"""MGSD's OPCD stage: a visual student distilled on-policy from a text teacher.

- :mod:`mgsd_opcd.teacher`: the teacher's input (system prompt + symbolic state [+ reference plan]
  followed by the student's response tokens) and the realignment of its log-probs;
- :mod:`mgsd_opcd.algorithm`: per-token advantage ``log p_teacher - log p_student`` and the PPO-clip loss;
- :mod:`mgsd_opcd.reward`: the task reward (logging and validation only), built on ``task_envs``;
- :mod:`mgsd_opcd.verl_plugin`: the verl 0.9.1 extension (agent-loop teacher override);
- :mod:`mgsd_opcd.verl_fixes`: a fix for a verl 0.9.1 bug (equal-length batches of mRoPE position ids);
- :mod:`mgsd_opcd.sp_train`: the single-process trainer (one GPU or a CPU);
- :mod:`mgsd_opcd.memory_plan`: peak GPU memory estimated before a run, and the settings that fit the card.
"""

#: The verl version the touches of verl's internals (``verl_cpu``, ``verl_fixes``) were written against;
#: requirements/opcd.txt pins it exactly.
VERL_VERSION = "0.9.1"
