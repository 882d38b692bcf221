"""The pipeline's knowledge (pipeline.yaml) and its layers as the user names them (--layers)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from imagevet.errors import ImagevetError

CRON = {"base": "0 3 1 * *", "middleware": "0 4 1 1,4,7,10 *"}  # monthly; quarterly


@functools.cache
def knowledge() -> dict[str, Any]:
    text = resources.files("imagevet.pipeline").joinpath("pipeline.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


@dataclass(frozen=True)
class Layer:
    name: str  # base, middleware, app
    variant: str | None = None  # middleware:jdk21 -> jdk21

    @property
    def slug(self) -> str:
        return f"{self.name}-{self.variant}" if self.variant else self.name


def parse_layers(text: str) -> tuple[Layer, ...]:
    layers = []
    for item in (part.strip() for part in text.split(",")):
        name, _, variant = item.partition(":")
        if name not in ("base", "middleware", "app"):
            raise ImagevetError(f"--layers: unknown layer {item!r} (base, middleware:NAME, app)")
        if name == "middleware":
            known = knowledge()["middleware"]
            if variant not in known:
                raise ImagevetError(
                    f"--layers: middleware:{variant or '?'} (choose from: {', '.join(known)})"
                )
        elif variant:
            raise ImagevetError(f"--layers: {name} takes no variant")
        layers.append(Layer(name, variant or None))
    if not layers or layers[0].name != "base":
        raise ImagevetError("--layers must start with base")
    if len({layer.slug for layer in layers}) != len(layers):
        raise ImagevetError("--layers names a layer twice")
    return tuple(layers)
