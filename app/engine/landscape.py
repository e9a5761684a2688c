"""Loss landscapes of small torch networks on a plane through their weights.

Following Li et al. (2018), "Visualizing the Loss Landscape of Neural Nets": pick two random
directions d1, d2 in weight space, filter-normalise them so that each step is on the scale of the
weights it moves, and plot L(θ + α d1 + β d2) over a grid of (α, β). `landscape_vmap` evaluates
the whole grid as batched forward passes; `landscape_loop` is the plain loop it is checked
against, and the baseline lessons time it against.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import torch
from torch import nn
from torch.func import functional_call, vmap

FloatArray = npt.NDArray[np.float64]
Direction = dict[str, torch.Tensor]
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

_TINY = 1e-10


def random_directions(model: nn.Module, generator: torch.Generator) -> tuple[Direction, Direction]:
    """Two filter-normalised random directions, keyed by parameter name as `named_parameters`.

    The random numbers are drawn on the CPU from `generator` (a CPU generator), so a seed gives
    the same directions on any device.
    """
    return _filter_normalised(model, generator), _filter_normalised(model, generator)


def landscape_vmap(
    model: nn.Module,
    loss_fn: LossFn,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    alphas: npt.ArrayLike,
    betas: npt.ArrayLike,
    d1: Direction,
    d2: Direction,
    *,
    chunk_size: int = 1024,
) -> FloatArray:
    """Loss at θ + α d1 + β d2 for every (α, β), shape (len(betas), len(alphas)).

    One vmapped forward pass per chunk of up to `chunk_size` grid points, so memory stays bounded
    whatever the grid. Rows follow β, as `GridResult.z` rows follow b. The model should be in eval
    mode: dropout and batch-norm updates have no meaning on a landscape.
    """
    theta = _weights(model)
    a, b, shape = _grid_points(alphas, betas, theta)

    def loss_at(alpha: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
        return _loss_at(model, loss_fn, inputs, targets, theta, d1, d2, alpha, beta)

    with torch.no_grad():
        losses = vmap(loss_at, chunk_size=chunk_size)(a, b)
    return _as_grid(losses, shape)


def landscape_loop(
    model: nn.Module,
    loss_fn: LossFn,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    alphas: npt.ArrayLike,
    betas: npt.ArrayLike,
    d1: Direction,
    d2: Direction,
) -> FloatArray:
    """The same grid as `landscape_vmap`, one forward pass per point: the baseline to beat."""
    theta = _weights(model)
    a, b, shape = _grid_points(alphas, betas, theta)
    with torch.no_grad():
        losses = torch.stack(
            [
                _loss_at(model, loss_fn, inputs, targets, theta, d1, d2, alpha, beta)
                for alpha, beta in zip(a, b, strict=True)
            ]
        )
    return _as_grid(losses, shape)


def _filter_normalised(model: nn.Module, generator: torch.Generator) -> Direction:
    """A Gaussian direction whose every filter has the norm of the same filter of the weights.

    A filter is one slice along the first axis: an output row of a Linear weight, an output
    channel of a Conv weight. Biases and other 1-D parameters (batch-norm scales) get a zero
    direction, as in the paper: they are few, and moving them at weight scale would dominate
    the picture.
    """
    direction: Direction = {}
    with torch.no_grad():
        for name, weight in model.named_parameters():
            if weight.dim() <= 1:
                direction[name] = torch.zeros_like(weight)
                continue
            d = torch.randn(weight.shape, generator=generator, dtype=weight.dtype)
            d = d.to(weight.device)
            scale = weight.flatten(1).norm(dim=1) / (d.flatten(1).norm(dim=1) + _TINY)
            direction[name] = d * scale.view(-1, *[1] * (weight.dim() - 1))
    return direction


def _weights(model: nn.Module) -> Direction:
    """The model's parameters θ, detached so the landscape builds no autograd graph."""
    theta = {name: p.detach() for name, p in model.named_parameters()}
    if not theta:
        raise ValueError("the model has no parameters, so it has no loss landscape")
    return theta


def _grid_points(
    alphas: npt.ArrayLike, betas: npt.ArrayLike, theta: Direction
) -> tuple[torch.Tensor, torch.Tensor, tuple[int, int]]:
    """Flattened α and β of every grid point (β-major), in the weights' dtype and device."""
    like = next(iter(theta.values()))
    alpha_axis = torch.as_tensor(np.asarray(alphas, dtype=np.float64), dtype=like.dtype)
    beta_axis = torch.as_tensor(np.asarray(betas, dtype=np.float64), dtype=like.dtype)
    beta_grid, alpha_grid = torch.meshgrid(beta_axis, alpha_axis, indexing="ij")
    shape = (beta_axis.numel(), alpha_axis.numel())
    return alpha_grid.reshape(-1).to(like.device), beta_grid.reshape(-1).to(like.device), shape


def _loss_at(
    model: nn.Module,
    loss_fn: LossFn,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    theta: Direction,
    d1: Direction,
    d2: Direction,
    alpha: torch.Tensor,
    beta: torch.Tensor,
) -> torch.Tensor:
    """L(θ + α d1 + β d2), without touching the model's own parameters."""
    params = {name: w + alpha * d1[name] + beta * d2[name] for name, w in theta.items()}
    return loss_fn(functional_call(model, params, (inputs,)), targets)


def _as_grid(losses: torch.Tensor, shape: tuple[int, int]) -> FloatArray:
    """Flat losses back to a float64 grid with rows following β."""
    return losses.detach().cpu().to(torch.float64).numpy().reshape(shape)
