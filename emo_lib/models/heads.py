"""The classification layer of each torchvision backbone the book uses: its parameter names
and a fresh one in its place. Shared by :mod:`.zoo` (fine-tuning) and :mod:`.face_pretraining`
(pretraining), so neither imports the other for it."""
from __future__ import annotations

from torch import nn

#: Architecture families with a head rule (torchvision names start with one of these).
FAMILIES: tuple[str, ...] = ("efficientnet", "mobilenet", "vgg", "resnet")


def replace_head(module: nn.Module, arch: str, n_classes: int) -> None:
    """Replace the last classification layer of torchvision ``arch`` by a new
    ``n_classes``-way ``nn.Linear`` (torch's default initialisation, global RNG)."""
    if arch.startswith(("efficientnet", "mobilenet", "vgg")):
        old = module.classifier[-1]
        module.classifier[-1] = nn.Linear(old.in_features, n_classes)
    elif arch.startswith("resnet"):
        module.fc = nn.Linear(module.fc.in_features, n_classes)
    else:
        raise ValueError(f"no head rule for {arch!r}; known families: {', '.join(FAMILIES)}")

