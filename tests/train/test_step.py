"""The training step every loop shares: the finite check, the loss scale, the update."""
import numpy as np
import pytest

import graphrnn as gr
from graphrnn.errors import TrainError
from graphrnn.tasks import make_task
from graphrnn.train import SGD
from graphrnn.train.experiment import load_experiment
from graphrnn.train.loop import TrainingPlan, train
from graphrnn.train.step import sse_scale, training_step

# the parameters after 20 updates of SSE_EXPERIMENT, as the code before the loss scale became
# the step's (a task wrapper that remembered the factor of the batch it drew last) left them
SSE_PARAMS_AFTER_20_UPDATES = {
    "h->h@1": [[-0.5569346589035415, 0.1528476565984266, 0.564606789133801],
               [-0.7261900196982012, 0.9298760436241903, 0.47637753735990795],
               [-0.697019173148472, -0.48555515475275973, -0.3531405272165084]],
    "h->y": [[-0.27389942737279516], [0.04792589306015554], [-1.7548098397236347]],
    "h.bias": [0.27409587831960486, -0.25789927937143664, 0.4853311030823366],
    "x->h": [[0.5807726062943854, -0.6767958712041412, -1.193428343974976]],
    "y.bias": [-0.08577478589566452],
}


@pytest.fixture
def sse_experiment(net_folder, latch_experiment):
    """The tiny latch experiment with momentum, elementwise clipping (of the scaled gradient) and `loss: sse`."""
    text = latch_experiment(sequences=200, seed=4).replace("{name: adam, lr: 0.02}", (
        "{name: momentum, lr: 0.05, momentum: 0.9, clip: {value: 0.3}}")).replace(
        "stop_when_solved: false", "stop_when_solved: false, loss: sse").replace("checkpoint_every: 50", "checkpoint_every: 0")
    # pinned on the fused engine (to rounding, see below); other engines agree to rounding too
    (net_folder / "sse.yaml").write_text(text + "engine: fused\n")
    return load_experiment(net_folder / "sse.yaml")


def test_sse_training_makes_the_same_updates_as_before(sse_experiment):
    setup = sse_experiment.build()
    plan = sse_experiment.plan()
    assert plan.loss == "sse" and plan.batch == 10
    result = train(setup.net, setup.task, setup.optimizer, plan)
    assert result.updates == 20
    # pinned by the fused engine's interpreter; its generated kernels add the same terms in another
    # order, so they agree to rounding (a changed loss scale would move these by far more)
    assert set(result.params) == set(SSE_PARAMS_AFTER_20_UPDATES)
    for name, value in SSE_PARAMS_AFTER_20_UPDATES.items():
        np.testing.assert_allclose(result.params[name], value, rtol=1e-12, atol=1e-14, err_msg=name)
    # the task's own loss trains differently: the scale is applied
    plain = train(setup.net, setup.task, setup.optimizer, TrainingPlan(**{**plan.__dict__, "loss": "task"}))
    assert not np.array_equal(plain.params["h.bias"], result.params["h.bias"])


def test_sse_training_on_the_default_engine_agrees_to_rounding(sse_experiment, net_folder):
    text = (net_folder / "sse.yaml").read_text().replace("engine: fused\n", "")
    (net_folder / "sse_default.yaml").write_text(text)
    experiment = load_experiment(net_folder / "sse_default.yaml")
    setup = experiment.build()
    result = train(setup.net, setup.task, setup.optimizer, experiment.plan())
    for name, value in SSE_PARAMS_AFTER_20_UPDATES.items():
        np.testing.assert_allclose(result.params[name], value, rtol=1e-10, atol=1e-12, err_msg=name)


def test_sse_scale_is_o_times_judged_steps_over_2b():
    batch = make_task("latch", min_length=5, max_length=8, train_size=20, test_size=20).sample(
        np.random.default_rng(0), 10)
    assert sse_scale(batch) == 1 * batch.mask.sum() / 20
    adding = make_task("adding", T=20).sample(np.random.default_rng(0), 4)
    assert sse_scale(adding) == adding.target.shape[-1] * adding.mask.sum() / 8


def test_sse_needs_a_squared_error_task(net_folder):
    task = make_task("latch")
    task.loss = "bce"      # a task whose loss is not the mean squared error
    net = gr.load(net_folder / "net.yaml")
    with pytest.raises(TrainError) as info:
        train(net, task, SGD(lr=0.1), TrainingPlan(sequences=1, loss="sse"))
    assert info.value.code == "GR300" and "loss: sse" in info.value.message
    with pytest.raises(TrainError) as info:
        TrainingPlan(sequences=1, loss="sum")
    assert info.value.code == "GR300"


def test_the_step_scales_before_the_update_and_reports_what_it_computed():
    params = {"w": np.array([1.0, 2.0])}
    step = training_step(lambda p: (3.0, {"w": np.array([0.5, -1.0])}, "y"), params, {}, SGD(lr=0.1), 0,
                         seen=0, scale=4.0)
    assert step.loss == 3.0 and step.outputs == "y"
    assert step.grads["w"].tolist() == [0.5, -1.0]                  # as computed, before the scale
    assert step.params["w"].tolist() == [1.0 - 0.1 * 2.0, 2.0 + 0.1 * 4.0]
    assert params["w"].tolist() == [1.0, 2.0]


@pytest.mark.parametrize("loss, grad", [(np.nan, 1.0), (1.0, np.inf)])
def test_a_loss_or_gradient_that_is_not_finite_stops_before_the_update(loss, grad):
    calls = []

    class Recording(SGD):
        def update(self, *args):
            calls.append(args)
            return super().update(*args)
    with pytest.raises(TrainError) as info:
        training_step(lambda p: (loss, {"w": np.array([grad])}, None), {"w": np.zeros(1)}, {}, Recording(lr=0.1),
                      4, seen=40, label="level 1: ")
    err = info.value
    assert err.code == "GR301" and not calls
    assert err.message.startswith("level 1: the loss or a gradient became ")
    assert "at update 5 (40 sequences seen)" in err.message and "the last checkpoint is intact" in err.message
