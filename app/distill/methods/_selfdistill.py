"""The parameters BYOT and MSD share (their defaults are the BYOT authors' own)."""

from __future__ import annotations

from pydantic import Field

from app.distill.params import LockstepParams, Temperature

SELF_CONTROL_ZH = "对照：同一网络只用最深出口的交叉熵训练，同样初始权重、同样批次、同样步数。"
SELF_CONTROL_EN = ("Control: the same network trained with CE on the deepest exit alone, "
                   "from the same initial weights on the same batches for the same steps.")


class SelfDistillParams(LockstepParams):
    temperature: Temperature = 3.0
    alpha: float = Field(
        0.3, ge=0.0, le=1.0,
        description="Weight α of the KL terms; a student exit's CE gets 1 − α.",
    )
    feature_weight: float = Field(
        0.03, ge=0.0, le=10.0,
        description="Weight λ of the hint: the (unsquared) L2 distance to the deepest "
        "exit's feature.",
    )
