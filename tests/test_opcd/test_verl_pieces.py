"""The verl-facing pieces, checked against verl 0.9.1's own code on CPU: realignment of teacher
log-probs, the k1 policy-gradient numerics, the reward function, the agent-loop override, Hydra
compose + validate_config of the project's configs, and plugin registration inside a Ray worker."""

import asyncio
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from omegaconf import OmegaConf

from mgsd_opcd.algorithm import ppo_clip_loss, reverse_kl_advantages
from mgsd_opcd.teacher import realign_teacher_outputs, teacher_messages_for, teacher_prompt_ids

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "EasyR1" / "configs"


def _fake_teacher_rows(sequence: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """What verl's teacher returns for ``sequence``: row i = (id, log-prob) of token i+1, last row dummy.
    The log-prob is a recognisable function of the token and its position."""
    ids = torch.tensor([[t] for t in sequence[1:]] + [[0]], dtype=torch.int32)
    lps = torch.tensor([[-(t + 0.001 * i)] for i, t in enumerate(sequence[1:])] + [[0.0]])
    return ids, lps


def test_realignment_matches_no_padding_2_padding():
    from tensordict import TensorDict
    from verl.workers.utils.padding import no_padding_2_padding

    g = torch.Generator().manual_seed(0)
    samples = []  # (student prompt, teacher prompt, response)
    for s_len, t_len, r_len in [(7, 3, 5), (2, 11, 1), (5, 5, 4)]:
        rnd = lambda n: torch.randint(10, 99, (n,), generator=g).tolist()  # noqa: E731
        samples.append((rnd(s_len), rnd(t_len), rnd(r_len)))
    p_w, r_w = max(len(s[0]) for s in samples), max(len(s[2]) for s in samples)
    prompts = torch.zeros(len(samples), p_w, dtype=torch.long)
    responses = torch.zeros(len(samples), r_w, dtype=torch.long)
    attention = torch.zeros(len(samples), p_w + r_w, dtype=torch.long)
    flat, expected = [], torch.zeros(len(samples), r_w)
    for b, (sp, tp, resp) in enumerate(samples):
        prompts[b, p_w - len(sp) :] = torch.tensor(sp)
        responses[b, : len(resp)] = torch.tensor(resp)
        attention[b, p_w - len(sp) : p_w + len(resp)] = 1
        t_ids, t_lps = _fake_teacher_rows(tp + resp)
        ids, lps = realign_teacher_outputs(t_ids, t_lps, len(tp), len(sp), len(resp))
        assert ids.shape[0] == lps.shape[0] == len(sp) + len(resp)
        flat.append(lps)
        # log p_teacher of each response token, from the teacher's own layout
        expected[b, : len(resp)] = t_lps[len(tp) - 1 : len(tp) + len(resp) - 1, 0]
        assert ids[len(sp) - 1 : len(sp) + len(resp) - 1, 0].tolist() == resp
    data = TensorDict(
        {"prompts": prompts, "responses": responses, "attention_mask": attention}, batch_size=len(samples)
    )
    got = no_padding_2_padding(torch.cat(flat), data).squeeze(-1)
    assert torch.equal(got, expected)


def test_realignment_rejects_wrong_lengths():
    ids, lps = _fake_teacher_rows(list(range(1, 9)))
    with pytest.raises(ValueError, match="8 rows, expected 9"):
        realign_teacher_outputs(ids, lps, 4, 3, 5)


def test_k1_policy_gradient_numerics_match_verl():
    from verl.trainer.ppo.core_algos import get_policy_loss_fn, kl_penalty
    from verl.workers.config import DistillationLossConfig

    g = torch.Generator().manual_seed(1)
    student_old = -torch.rand(3, 6, generator=g) * 3
    teacher = -torch.rand(3, 6, generator=g) * 3
    logp = student_old + 0.4 * torch.randn(3, 6, generator=g)  # ratios well outside the clip range
    mask = torch.tensor([[1] * 6, [1] * 4 + [0] * 2, [1] * 2 + [0] * 4])
    ours = reverse_kl_advantages(student_old, teacher, mask)
    verls = -kl_penalty(student_old, teacher, "k1") * mask
    assert torch.allclose(ours, verls)
    config = DistillationLossConfig(
        loss_mode="k1", use_policy_gradient=True, use_task_rewards=False, clip_ratio_low=0.2, clip_ratio_high=0.3
    )
    config.global_batch_info.update(
        dp_size=1, batch_num_tokens=int(mask.sum()), global_batch_size=3, loss_scale_factor=None
    )
    verl_loss, verl_metrics = get_policy_loss_fn("vanilla")(
        old_log_prob=student_old,
        log_prob=logp,
        advantages=verls,
        response_mask=mask.bool(),
        loss_agg_mode="token-mean",
        config=config,
    )
    loss, metrics = ppo_clip_loss(logp, student_old, ours, mask, 0.2, 0.3, 3.0)
    assert torch.allclose(loss, verl_loss)
    assert metrics["pg_clipfrac"] == pytest.approx(verl_metrics["actor/pg_clipfrac"])
    assert metrics["ppo_kl"] == pytest.approx(verl_metrics["actor/ppo_kl"])


def test_identical_teacher_gives_zero_advantage():
    logp = -torch.rand(2, 5)
    assert torch.count_nonzero(reverse_kl_advantages(logp, logp.clone(), torch.ones(2, 5))) == 0


def test_reward_through_verls_loader(opcd_data):
    import pyarrow.parquet as pq
    from verl.trainer.ppo.reward import get_custom_reward_fn

    config = OmegaConf.load(CONFIGS / "opcd_recipe.yaml")
    fn = get_custom_reward_fn(config)
    for row in pq.read_table(opcd_data["val"]).to_pylist()[:12]:
        extra, truth = row["extra_info"], row["reward_model"]["ground_truth"]
        good = fn(row["data_source"], truth, truth, extra)
        assert good["score"] == 1.0 and good["optimal"] == 1.0 and good["format"] == 1.0
        bad = fn(row["data_source"], "I am not sure.", truth, extra)
        assert bad["score"] == 0.0 and bad["format"] == 0.0
        assert all(isinstance(v, float) for v in good.values())


@pytest.mark.parametrize("size", ["4b", "8b"])
def test_hydra_compose_and_validate(size):
    from hydra import compose, initialize_config_dir
    from verl.trainer.ppo.utils import need_critic, need_reference_policy
    from verl.utils.config import validate_config

    with initialize_config_dir(config_dir=str(CONFIGS), version_base=None):
        cfg = compose(config_name=f"opcd_qwen3vl_{size}", overrides=["actor_rollout_ref.model.path=/m/student"])
    assert cfg.distillation.enabled and cfg.distillation.distillation_loss.loss_mode == "k1"
    assert (
        cfg.distillation.distillation_loss.use_policy_gradient
        and not cfg.distillation.distillation_loss.use_task_rewards
    )
    assert not cfg.actor_rollout_ref.actor.use_kl_loss and not cfg.algorithm.use_kl_in_reward
    assert cfg.actor_rollout_ref.rollout.n == 1 and cfg.data.train_batch_size == 32
    assert cfg.actor_rollout_ref.actor.optim.lr == 1e-6 and cfg.trainer.total_epochs == 5
    assert cfg.data.max_prompt_length == 5120 and cfg.data.max_response_length == 2048
    assert f"Qwen3-VL-{size.upper()}-Instruct" in cfg.distillation.teacher_models.teacher_model.model_path
    assert cfg.mgsd_opcd.teacher_reference_plan is True
    validate_config(cfg, use_reference_policy=need_reference_policy(cfg), use_critic=need_critic(cfg))
    from verl.utils.import_utils import load_class_from_fqn

    bad = OmegaConf.merge(cfg, {"trainer": {"n_gpus_per_node": 6}})
    with pytest.raises(AssertionError, match="divisible"):
        validate_config(bad, use_reference_policy=need_reference_policy(bad), use_critic=need_critic(bad))
    manager = load_class_from_fqn(cfg.actor_rollout_ref.rollout.agent.agent_loop_manager_class, "AgentLoopManager")
    assert manager.__name__ == "OPCDAgentLoopManager"


def test_agent_loop_teacher_override(opcd_data, tiny_model):
    """The override sends teacher prompt + response, no image, and realigns to the student's layout."""
    import pyarrow.parquet as pq
    from transformers import AutoTokenizer

    from mgsd_opcd.verl_plugin import OPCDAgentLoopWorkerImpl

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    row = pq.read_table(opcd_data["val"]).to_pylist()[0]
    sent = {}

    class FakeTeacher:
        async def compute_teacher_logprobs_single(self, sequence_ids, multi_modal_data=None, routing_key=None, **kw):
            sent.update(sequence=sequence_ids, mm=multi_modal_data)
            return _fake_teacher_rows(sequence_ids)

    for plan in (True, False):
        worker = SimpleNamespace(
            distillation_enabled=True,
            tokenizer=tokenizer,
            teacher_server_manager=FakeTeacher(),
            teacher_key="data_source",
            config=OmegaConf.create({"mgsd_opcd": {"teacher_reference_plan": plan}}),
        )
        output = SimpleNamespace(extra_fields={})
        prompt_ids, response_ids = list(range(3, 40)), [50, 51, 52, 53]
        asyncio.run(
            OPCDAgentLoopWorkerImpl._compute_teacher_logprobs(
                worker,
                output,
                prompt_ids,
                response_ids,
                validate=False,
                sample_kwargs={"extra_info": row["extra_info"], "data_source": row["data_source"]},
            )
        )
        expected_prompt = teacher_prompt_ids(tokenizer, teacher_messages_for(row["extra_info"], plan))
        assert sent["mm"] is None and sent["sequence"] == expected_prompt + response_ids
        assert ("Reference plan" in tokenizer.decode(expected_prompt)) == plan
        lps = output.extra_fields["teacher_logprobs"]
        assert lps.shape[0] == len(prompt_ids) + len(response_ids)
        assert output.extra_fields["teacher_ids"][len(prompt_ids) - 1 : -1, 0].tolist() == response_ids
    # validation batches are not scored by the teacher
    output = SimpleNamespace(extra_fields={})
    asyncio.run(
        OPCDAgentLoopWorkerImpl._compute_teacher_logprobs(worker, output, [1], [2], validate=True, sample_kwargs={})
    )
    assert output.extra_fields == {}


def test_plugin_and_fixes_inside_a_ray_worker_of_a_private_instance(unrelated_ray_cluster):
    """What the launcher's single-node run does (ray_init.address=local) starts a private Ray instance while
    another job's cluster is the machine's newest; a worker there that imports verl has the plugin registered
    and verl_fixes in place."""
    import ray

    context = ray.init(
        address="local", num_cpus=1, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True
    )
    try:
        assert context.address_info["gcs_address"] != unrelated_ray_cluster

        @ray.remote(num_cpus=1)
        def probe():
            import sys
            from importlib.metadata import entry_points

            import verl  # noqa: F401  (verl imports the verl.plugins entry points)
            import verl.workers.engine_workers as engine_workers

            names = [ep.value for ep in entry_points(group="verl.plugins")]
            module = sys.modules.get("mgsd_opcd.verl_plugin")
            return names, module is not None and module.register(), engine_workers.maybe_fix_3d_position_ids.__module__

        names, manager, fix = ray.get(probe.remote(), timeout=120)
    finally:
        ray.shutdown()
    assert "mgsd_opcd.verl_plugin" in names and fix == "mgsd_opcd.verl_fixes"
    assert manager == "mgsd_opcd.verl_plugin.OPCDAgentLoopManager"
