"""Super-resolution networks as Keras Functional models, and tools to cost and run them.

Every constructor returns a fully convolutional ``keras.Model`` (input shape
``(None, None, C)``, NHWC, float images in [0, 1]), except :func:`discriminator`
(a fixed ``(H, W, C)`` input, ``(N, 1)`` logits out), built from Keras and
:mod:`srlib.layers` layers only: no ``Lambda``, no rank-5 tensor, so the
models save to ``.keras`` files and the post-upsampling ones convert to TFLite
builtin ops.

Models (one module each):

* :func:`srcnn` (Dong et al. 2014), :func:`vdsr` (Kim et al. 2016):
  pre-upsampling, the input is the bicubic-upsampled LR image, any scale.
* :func:`fsrcnn`, :func:`fsrcnn_s` (Dong et al. 2016, with
  :func:`fsrcnn_for_new_scale`), :func:`espcn` (Shi et al. 2016),
  :func:`sp_vdsr`, :func:`srresnet` (Ledig et al. 2017, with the SRGAN
  :func:`discriminator`): post-upsampling, the input is the LR image.

:data:`MODELS` maps names to constructors and the metadata a script needs
(input kind, default channels); :func:`build` makes one by name.
:func:`model_cost`, :func:`receptive_field` and :func:`upscaler` work on any
of them.
"""

import dataclasses
import functools
import inspect
from typing import Callable, Optional

from srlib.models.analysis import ModelCost, forward_seconds, median_seconds, model_cost, receptive_field
from srlib.models.espcn import espcn
from srlib.models.fir import FIRUpsample
from srlib.models.fsrcnn import fsrcnn, fsrcnn_for_new_scale, fsrcnn_s
from srlib.models.precision import PRECISIONS, cpu_bfloat16_flags, with_precision
from srlib.models.sp_vdsr import sp_vdsr
from srlib.models.srcnn import srcnn
from srlib.models.srresnet import discriminator, srresnet
from srlib.models.upscaling import upscaler
from srlib.models.vdsr import vdsr


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """A model constructor and what is needed to feed it.

    Attributes:
        build: the constructor. Post-upsampling ones take ``scale`` first.
        input: ``"upsampled"`` (interpolated LR, same size as the output),
            ``"lr"``, or ``"lr_and_upsampled"`` (``[lr, interpolated]``).
        channels: default channels: 1 for Y models, 3 for RGB ones.
        interpolation: ``imresize`` method of the upsampled input, if any.
        scales: the scales the constructor accepts; None for any integer >= 2.
        paper: short reference.
    """

    build: Callable
    input: str
    channels: int
    interpolation: Optional[str] = None
    scales: Optional[tuple] = None
    paper: str = ""

    @property
    def takes_scale(self):
        return self.input != "upsampled"


MODELS = {
    "srcnn": ModelSpec(srcnn, "upsampled", 1, "bicubic", paper="Dong et al. 2014"),
    "fsrcnn": ModelSpec(fsrcnn, "lr", 1, paper="Dong et al. 2016"),
    "fsrcnn_s": ModelSpec(fsrcnn_s, "lr", 1, paper="Dong et al. 2016 (FSRCNN-s)"),
    "espcn": ModelSpec(espcn, "lr", 1, paper="Shi et al. 2016"),
    "vdsr": ModelSpec(vdsr, "upsampled", 1, "bicubic", paper="Kim et al. 2016"),
    "sp_vdsr": ModelSpec(sp_vdsr, "lr", 1, "lanczos3", paper="SP-VDSR, Lanczos-3 in the graph"),
    "sp_vdsr_nearest": ModelSpec(functools.partial(sp_vdsr, interpolation_input="nearest"), "lr", 1,
                                 paper="SP-VDSR, nearest-neighbour base"),
    "sp_vdsr_second_input": ModelSpec(functools.partial(sp_vdsr, interpolation_input="second_input"),
                                      "lr_and_upsampled", 1, "lanczos3", paper="SP-VDSR, interpolated input"),
    "srresnet": ModelSpec(srresnet, "lr", 3, scales=(2, 3, 4, 8), paper="Ledig et al. 2017"),
    # SRGAN's generator is SRResNet; its own name keeps its published weights apart (srlib.train_gan).
    "srgan": ModelSpec(srresnet, "lr", 3, scales=(2, 3, 4, 8), paper="Ledig et al. 2017 (SRGAN generator)"),
}


def build(name, scale=None, **kwargs):
    """Builds ``MODELS[name]``: ``scale`` goes to post-upsampling models only.

    Args:
        name: a key of :data:`MODELS`.
        scale: int, upscaling factor (ignored by pre-upsampling models, which
            serve every scale). Default: None.
        **kwargs: further constructor arguments (``channels``...).

    Returns:
        The ``keras.Model``.
    """
    if name not in MODELS:
        raise ValueError(f"`name` must be one of {sorted(MODELS)}. Received: name={name!r}")
    spec = MODELS[name]
    # A registered partial (sp_vdsr_nearest) fixes some arguments: they define the name.
    fixed = set(getattr(spec.build, "keywords", {}))
    accepted = set(inspect.signature(spec.build).parameters) - {"scale"} - fixed
    unknown = sorted(set(kwargs) - accepted)
    if unknown:
        raise ValueError(f"Model {name!r} takes no argument {', '.join(unknown)}; it takes {sorted(accepted)}")
    kwargs.setdefault("channels", spec.channels)
    if spec.takes_scale:
        if scale is None:
            raise ValueError(f"Model {name!r} upscales inside the network and needs `scale`. Received: scale=None")
        if spec.scales is not None and scale not in spec.scales:
            raise ValueError(f"Model {name!r} supports scales {list(spec.scales)}. Received: scale={scale!r}")
        return spec.build(scale, **kwargs)
    return spec.build(**kwargs)


__all__ = [
    "MODELS", "PRECISIONS", "ModelCost", "ModelSpec", "FIRUpsample", "build", "cpu_bfloat16_flags", "discriminator",
    "espcn", "forward_seconds", "fsrcnn", "fsrcnn_for_new_scale", "fsrcnn_s", "median_seconds", "model_cost",
    "receptive_field", "sp_vdsr", "srcnn", "srresnet", "upscaler", "vdsr", "with_precision",
]
