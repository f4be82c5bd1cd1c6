"""Multi-self-distillation, MSD (Luan et al., arXiv 1911.09418): our reading."""

from __future__ import annotations

from app.distill.claims import BYOT_STUDENT, DEEPEST_CE_CONTROL, Claim
from app.distill.methods._selfdistill import SELF_CONTROL_EN, SELF_CONTROL_ZH, SelfDistillParams
from app.distill.spec import Method


def recipe(ctx):
    from app.distill.loops import train_multi_exit
    from app.distill.losses import msd_loss

    return train_multi_exit(ctx, msd_loss)


METHOD = Method(
    id="msd",
    title="Multi-self-distillation (MSD)",
    papers=("1911.09418",),
    summary_zh="作者未公开代码，这是我们依据论文摘要（“挖掘同一网络中不同分类器的知识”，"
    "提升每个分类器）的理解。与 BYOT 同一网络、同"
    "样的特征项；区别在蒸馏方向：每个出口都向其他所有出口"
    "学习（对其他出口的 KL 取平均），所以最深出口也向浅层出口学习（它的 CE 也乘 1−α），浅层出口之间"
    "也互相学习。论文的采样式分支增强没有实现。笔记把"
    "两篇放在一起并说“非常相似”：并排运行即可比较。",
    summary_en="No author code is public: this is our reading of the paper's abstract "
    "(mine the knowledge of the different classifiers within one network to improve every "
    "one of them). The BYOT network with the same feature term; what differs is the "
    "direction of distillation: every exit learns from every other one (the mean KL to "
    "the others), so the deepest exit learns from the shallow ones too (its CE also gets "
    "1−α) and shallow exits learn from each other. The paper's sampling-based branch "
    "augmentation is not implemented. The notes file both papers in one block as 'very "
    "similar': run them side by side to compare.",
    control_zh=SELF_CONTROL_ZH,
    control_en=SELF_CONTROL_EN,
    params=SelfDistillParams,
    models=("student", "baseline", "exit1", "exit2", "exit3"),
    recipe=recipe,
    formula=(
        r"$L = \sum_i \left[(1-\alpha)\,\mathrm{CE}(z_i, y) + \alpha \operatorname{mean}_{j \ne i} "
        r"\mathrm{KL}(\mathrm{softmax}(z_j/T) \,\|\, \mathrm{softmax}(z_i/T))\right] + \lambda "
        r"\sum_{i<C} \|F_i - F_C\|_2$"
    ),
    claims=(
        Claim(
            id="msd.ce", paper="1911.09418", versus=DEEPEST_CE_CONTROL, direction="better",
            zh="多出口互相蒸馏提升每个分类器，包括最深出口",
            en="Multi-self-distillation improves every classifier, the deepest one included",
            where="abstract ('boost every classifier accuracy')",
            source="abstract read for this change",
        ),
        Claim(
            id="msd.byot", paper="1911.09418", versus=BYOT_STUDENT, direction="better",
            zh="MSD 优于 BYOT（笔记说“远好于”）",
            en="MSD beats BYOT (the notes say 'far better')",
            where="the notes (the BYOT/MSD block), not the paper's abstract",
            source="corrected: the MSD abstract compares with plain training, not with "
            "BYOT; the claim against BYOT is the seed note's",
        ),
    ),
)
