"""``transformer``: a pre-LayerNorm transformer encoder over a set or sequence of tokens.

Three ways to read an observation as tokens (``network.transformer.tokens``):

- ``set``: ``(L, D)``, one token per entity/part; no position embedding, so the output is
  invariant to the order of the tokens.
- ``history``: ``(K, D)``, the last K observations oldest first (the ``history`` env wrapper),
  with a learned embedding per time slot.
- ``grid``: ``(H, W, C)``, an image whose cells (or ``patch_size`` x ``patch_size`` patches)
  are tokens, with learned row and column embeddings (2-D positions). Each token is embedded
  from its own cells (a linear map), or with ``embed_kernel`` k from the k x k cells around it
  (a convolution with stride ``patch_size``: a convolutional token embedding, as in hybrid
  vision transformers), so that tokens also see their neighbours before any attention.

Padding tokens (``validity_channel`` = 0, or a ``mask`` argument) are masked out as attention
keys and from the pooling, so they change nothing. The tokens are pooled by a learned CLS
token, by a masked mean, or ``flatten``ed (every token's output in position order, padding
tokens zeroed: keeps where each token is, as a CNN's flattened feature map does; not order-free),
then go through the dense layers of ``network.hidden_sizes``.
"""

from __future__ import annotations

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp

from robojax.encoders.cnn import Conv2D
from robojax.encoders.pointnet import check_token_space, split_validity
from robojax.envs.spaces import ObsSpace
from robojax.errors import ConfigError
from robojax.layers import ACTIVATIONS, register_encoder

TOKEN_MODES = ("set", "history", "grid")
POOL_MODES = ("cls", "mean", "flatten")


@dataclasses.dataclass(frozen=True)
class TransformerConfig:
    """``network.transformer.*``: tokenisation, size and pooling."""

    tokens: str = "set"
    width: int = 64  # token embedding size
    depth: int = 2  # attention + MLP blocks
    heads: int = 4
    mlp_ratio: int = 2  # hidden size of each block's MLP = mlp_ratio * width
    pool: str = "cls"
    patch_size: int = 1  # grid tokens: side of the square patch one token covers
    embed_kernel: int | None = None  # grid tokens: embed each from the k x k cells around it (None: its own)
    validity_channel: int | None = None  # channel of each token holding 1 = valid, 0 = padding (history: -1)

    def __post_init__(self):
        if self.tokens not in TOKEN_MODES:
            raise ConfigError(f"network.transformer.tokens={self.tokens!r}: allowed values are {list(TOKEN_MODES)}")
        if self.pool not in POOL_MODES:
            raise ConfigError(f"network.transformer.pool={self.pool!r}: allowed values are {list(POOL_MODES)}")
        for name in ("width", "depth", "heads", "mlp_ratio", "patch_size", "embed_kernel"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ConfigError(f"network.transformer.{name}={getattr(self, name)!r}: must be >= 1")
        if self.embed_kernel is not None and self.tokens != "grid":
            raise ConfigError(f"network.transformer.embed_kernel={self.embed_kernel} applies to tokens='grid' "
                              f"only, not tokens={self.tokens!r}: set it to null")
        if self.width % self.heads:
            raise ConfigError(
                f"network.transformer.heads={self.heads} must divide network.transformer.width={self.width}"
            )


EMBED_INIT = nn.initializers.normal(0.02)


class Block(nn.Module):
    """Pre-LN block: ``x + MHSA(LN(x))``, then ``x + MLP(LN(x))``."""

    heads: int
    mlp_size: int
    activation: str

    @nn.compact
    def __call__(self, x: jax.Array, key_mask: jax.Array) -> jax.Array:
        # key_mask (..., L): every query attends to the valid keys only.
        mask = key_mask[..., None, None, :]
        x = x + nn.MultiHeadDotProductAttention(num_heads=self.heads)(nn.LayerNorm()(x), mask=mask)
        h = nn.Dense(self.mlp_size)(nn.LayerNorm()(x))
        return x + nn.Dense(x.shape[-1])(ACTIVATIONS[self.activation](h))


def grid_tokens(x: jax.Array, patch: int) -> jax.Array:
    """``(..., H, W, C)`` -> ``(..., H/p, W/p, p*p*C)`` non-overlapping patches."""
    *batch, h, w, c = x.shape
    if h % patch or w % patch:
        raise ConfigError(f"network.transformer.patch_size={patch} must divide the grid's height {h} and width {w}")
    x = x.reshape(*batch, h // patch, patch, w // patch, patch, c)
    x = jnp.moveaxis(x, -4, -3)  # (..., H/p, W/p, p, p, C)
    return x.reshape(*batch, h // patch, w // patch, patch * patch * c)


class Transformer(nn.Module):
    """Tokens -> embedding (+ positions) -> ``depth`` pre-LN blocks -> LN -> pool (the trunk follows).

    ``__call__(obs, mask=None)``: ``mask`` ``(..., L)`` marks valid tokens (combined with
    ``validity_channel`` if both are given).
    """

    config: TransformerConfig
    activation: str = "gelu"

    @nn.compact
    def __call__(self, obs: jax.Array, mask: jax.Array | None = None) -> jax.Array:
        cfg = self.config
        x = obs.astype(jnp.float32)
        if cfg.tokens == "grid":
            if x.ndim < 3:
                raise ConfigError(
                    f"network.transformer.tokens='grid' needs observations of shape (H, W, C), got {obs.shape}"
                )
            patches = grid_tokens(x, cfg.patch_size)  # also checks that patch_size divides the grid
            if cfg.embed_kernel is None:
                x = nn.Dense(cfg.width)(patches)
            else:  # token (i, j) from the k x k cells around its patch; SAME padding keeps (H/p, W/p)
                conv = Conv2D(cfg.width, cfg.embed_kernel, cfg.patch_size, "SAME", nn.initializers.lecun_normal())
                x = conv(x.reshape(-1, *x.shape[-3:])).reshape(*patches.shape[:-1], cfg.width)
            rows, cols = x.shape[-3], x.shape[-2]
            x = x + self.param("row_embed", EMBED_INIT, (rows, 1, cfg.width))
            x = x + self.param("col_embed", EMBED_INIT, (1, cols, cfg.width))
            x = x.reshape(*x.shape[:-3], rows * cols, cfg.width)
            valid = jnp.ones(x.shape[:-1], bool)
        else:
            if x.ndim < 2:
                raise ConfigError(
                    f"network.transformer.tokens={cfg.tokens!r} needs observations of shape (L, D) "
                    f"(tokens x features), got {obs.shape}"
                )
            x, valid = split_validity(x, cfg.validity_channel, "network.transformer.validity_channel")
            x = nn.Dense(cfg.width)(x)
            if cfg.tokens == "history":
                x = x + self.param("time_embed", EMBED_INIT, (x.shape[-2], cfg.width))
        if mask is not None:
            valid = valid & mask.astype(bool)
        if cfg.pool == "cls":
            cls = jnp.broadcast_to(self.param("cls", EMBED_INIT, (cfg.width,)), (*x.shape[:-2], 1, cfg.width))
            x = jnp.concatenate([cls, x], -2)
            valid = jnp.concatenate([jnp.ones((*valid.shape[:-1], 1), bool), valid], -1)
        for _ in range(cfg.depth):
            x = Block(cfg.heads, cfg.mlp_ratio * cfg.width, self.activation)(x, valid)
        x = nn.LayerNorm()(x)
        if cfg.pool == "cls":
            pooled = x[..., 0, :]
        else:
            weights = valid[..., None].astype(jnp.float32)
            if cfg.pool == "flatten":
                return (x * weights).reshape(*x.shape[:-2], -1)
            pooled = (x * weights).sum(-2) / jnp.maximum(weights.sum(-2), 1.0)
        return pooled


@register_encoder("transformer")
def _transformer(config, space: ObsSpace) -> nn.Module:
    if config.transformer.tokens == "grid":
        check_token_space(space, 3, "network.transformer.tokens='grid'", "(H, W, C)")
    else:
        check_token_space(space, 2, f"network.transformer.tokens={config.transformer.tokens!r}", "(L, D) (tokens x features)")
    return Transformer(config.transformer, config.activation)
