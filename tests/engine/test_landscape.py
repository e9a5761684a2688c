from __future__ import annotations

import numpy as np
import torch
from torch import nn

from app.engine.landscape import landscape_loop, landscape_vmap, random_directions

from .conftest import LINE_DATA

ALPHAS = np.linspace(-1.0, 1.0, 9)
BETAS = np.linspace(-0.5, 0.5, 7)


def small_net() -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 1))
    data = torch.tensor(LINE_DATA)
    return model.eval(), data[:, :1], data[:, 1:]


def test_vmap_and_loop_landscapes_agree() -> None:
    model, inputs, targets = small_net()
    d1, d2 = random_directions(model, torch.Generator().manual_seed(1))
    args = (model, nn.functional.mse_loss, inputs, targets, ALPHAS, BETAS, d1, d2)
    batched = landscape_vmap(*args, chunk_size=10)
    looped = landscape_loop(*args)
    assert batched.shape == looped.shape == (len(BETAS), len(ALPHAS))
    assert batched.dtype == np.float64
    np.testing.assert_allclose(batched, looped, rtol=1e-5, atol=1e-5)


def test_landscape_center_is_the_model_loss() -> None:
    model, inputs, targets = small_net()
    d1, d2 = random_directions(model, torch.Generator().manual_seed(2))
    z = landscape_vmap(model, nn.functional.mse_loss, inputs, targets, ALPHAS, BETAS, d1, d2)
    with torch.no_grad():
        plain = nn.functional.mse_loss(model(inputs), targets).item()
    assert z[len(BETAS) // 2, len(ALPHAS) // 2] == np.float32(plain)


def test_filter_normalisation_gives_each_filter_its_weight_norm() -> None:
    model, _, _ = small_net()
    d1, d2 = random_directions(model, torch.Generator().manual_seed(3))
    for name, weight in model.named_parameters():
        for direction in (d1, d2):
            d = direction[name]
            assert d.shape == weight.shape
            if weight.dim() == 1:
                assert torch.count_nonzero(d) == 0
            else:
                torch.testing.assert_close(
                    d.flatten(1).norm(dim=1), weight.detach().flatten(1).norm(dim=1)
                )
    assert not torch.equal(d1["0.weight"], d2["0.weight"])


def test_same_seed_gives_same_directions() -> None:
    model, _, _ = small_net()
    first = random_directions(model, torch.Generator().manual_seed(4))
    second = random_directions(model, torch.Generator().manual_seed(4))
    for a, b in zip(first, second, strict=True):
        for name in a:
            assert torch.equal(a[name], b[name])


def test_landscape_leaves_the_model_parameters_untouched() -> None:
    model, inputs, targets = small_net()
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    d1, d2 = random_directions(model, torch.Generator().manual_seed(5))
    landscape_vmap(model, nn.functional.mse_loss, inputs, targets, ALPHAS, BETAS, d1, d2)
    landscape_loop(model, nn.functional.mse_loss, inputs, targets, ALPHAS, BETAS, d1, d2)
    for name, p in model.named_parameters():
        assert torch.equal(p, before[name])
