"""mgsd_opcd.verl_fixes: verl 0.9.1 crashed on batches whose sequences all have one length (mRoPE position ids
packed with the wrong ragged dimension). Unit checks on verl's own packing and transport here; verl's trainer
through the launcher on a batch built to have equal lengths (one task level, one-token responses) is the run of
test_two_nodes.py: without the fix such a run dies in ``apply_rotary_pos_emb`` at the first log-prob pass
(checked by removing the import)."""

import pickle

import pytest
import torch


def packed_batch(lengths, prompt=2):
    """verl's no-padding batch (``left_right_2_no_padding``) of sequences of the given lengths, as a Ray
    worker receives it (pickled), and the position ids each sample had."""
    from tensordict import TensorDict
    from verl.workers.utils.padding import left_right_2_no_padding

    width = max(lengths)
    mask = torch.zeros(len(lengths), width, dtype=torch.long)
    for i, n in enumerate(lengths):
        mask[i, width - n :] = 1  # verl's left-padded prompt + response
    pos = torch.arange(width).expand(len(lengths), 4, width) + 1000 * torch.arange(len(lengths))[:, None, None]
    pos = pos * torch.tensor([1, 2, 3, 4])[None, :, None]  # four different rope rows
    td = TensorDict(
        {
            "input_ids": torch.ones_like(mask),
            "attention_mask": mask,
            "response_mask": torch.ones(len(lengths), width - prompt),
            "position_ids": pos.clone(),
        },
        batch_size=[len(lengths)],
    )
    td = pickle.loads(pickle.dumps(left_right_2_no_padding(td)))
    return td, [pos[i][:, mask[i].bool()] for i in range(len(lengths))]


@pytest.mark.parametrize("lengths", [(7, 7, 7), (7, 9, 6), (7,), (4, 4)])
def test_worker_gets_tokens_ragged_for_any_lengths(lengths):
    import verl.workers.engine.base as engine_base
    import verl.workers.engine_workers as engine_workers

    import mgsd_opcd.verl_fixes  # noqa: F401

    td, expected = packed_batch(lengths)
    for module in (engine_workers, engine_base):  # the names verl's workers call before a forward
        module.maybe_fix_3d_position_ids(td)
        pos = td["position_ids"]
        assert pos.values().shape == (4, sum(lengths))  # what the FSDP engine feeds the model as (4, 1, nnz)
        assert torch.equal(pos.values(), torch.cat(expected, dim=1))
        assert pos.offsets().diff().tolist() == list(lengths)
        assert all(torch.equal(a, b) for a, b in zip(pos.unbind(), expected))


def test_verls_own_packing_is_wrong_for_equal_lengths():
    """The bug the fix exists for (if verl fixes it, this fails: then drop mgsd_opcd.verl_fixes)."""
    from verl.utils.tensordict_utils import maybe_fix_3d_position_ids

    td, _ = packed_batch((7, 7, 7))
    maybe_fix_3d_position_ids(td)
    assert td["position_ids"].values().shape == (12, 7)


def test_unknown_layout_is_refused():
    from mgsd_opcd.verl_fixes import canonical_position_ids

    tokens_first = torch.nested.as_nested_tensor([torch.zeros(5, 3), torch.zeros(2, 3)], layout=torch.jagged)
    with pytest.raises(ValueError, match="position_ids"):
        canonical_position_ids(tokens_first)


# verl's trainer end to end on a batch of equal lengths: tests/test_opcd/test_two_nodes.py (its run's batch).
