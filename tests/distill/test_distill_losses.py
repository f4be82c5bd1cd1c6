"""Every loss: a tiny input against a value worked out by hand, random inputs against a
plain reference written from the formula, and where gradients may (not) flow."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from app.distill.losses import (
    byot_loss,
    cskd_loss,
    dml_loss,
    fsp_loss,
    fsp_matrix,
    kd_loss,
    label_smoothing_loss,
    msd_loss,
    sp_loss,
    tfkd_reg_loss,
    tfkd_virtual_teacher_probs,
)
from app.distill.methods import tfkd_virtual_teacher

LN3 = math.log(3.0)
# KL([3/4, 1/4] ‖ [1/2, 1/2]), by hand.
KL_Q_U = 0.75 * math.log(1.5) + 0.25 * math.log(0.5)


def t(rows):
    return torch.tensor(rows, dtype=torch.float64)


# --- references written straight from the formulas, one sample and class at a time ---

def ref_softmax(z, temp=1.0):
    m = max(z)
    e = [math.exp((v - m) / temp) for v in z]
    return [v / sum(e) for v in e]


def ref_kl(p, q):
    return sum(pk * (math.log(pk) - math.log(qk)) for pk, qk in zip(p, q, strict=True) if pk > 0)


def ref_kl_batch(targets, logits, temp):
    rows = [ref_kl(ref_softmax(a, temp), ref_softmax(b, temp))
            for a, b in zip(targets.tolist(), logits.tolist(), strict=True)]
    return sum(rows) / len(rows)


def ref_ce(logits, y):
    rows = [-math.log(ref_softmax(z)[c]) for z, c in zip(logits.tolist(), y.tolist(), strict=True)]
    return sum(rows) / len(rows)


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(1234)


def rand(gen, *shape, scale=3.0):
    return torch.randn(*shape, generator=gen, dtype=torch.float64) * scale


# --- kd ---

def test_kd_by_hand_is_t_squared_kl_summed_over_classes_and_averaged_over_batch():
    student = t([[0.0, 0.0], [5.0, 1.0]])
    teacher = t([[2 * LN3, 0.0], [5.0, 1.0]])  # at T=2: [3/4, 1/4]; row 2 equal: KL 0
    assert kd_loss(student, teacher, 2.0).item() == pytest.approx(4 * KL_Q_U / 2, rel=1e-12)


def test_kd_random_matches_reference(gen):
    s, te = rand(gen, 6, 5), rand(gen, 6, 5)
    for temp in (1.0, 4.0):
        want = temp**2 * ref_kl_batch(te, s, temp)
        assert kd_loss(s, te, temp).item() == pytest.approx(want, rel=1e-10)


def test_kd_gradient_reaches_student_not_teacher(gen):
    s, te = rand(gen, 4, 3).requires_grad_(), rand(gen, 4, 3).requires_grad_()
    kd_loss(s, te, 3.0).backward()
    assert te.grad is None
    assert s.grad is not None and s.grad.abs().sum() > 0


# --- label smoothing ---

def test_label_smoothing_by_hand_and_unlike_pytorch_builtin():
    logits = t([[math.log(2.0), 0.0, 0.0]])  # softmax [1/2, 1/4, 1/4]
    y = torch.tensor([0])
    # target [0.8, 0.1, 0.1]: -(0.8 ln 1/2 + 0.2 ln 1/4) = 1.2 ln 2
    assert label_smoothing_loss(logits, y, 0.2).item() == pytest.approx(1.2 * math.log(2))
    builtin = F.cross_entropy(logits, y, label_smoothing=0.2).item()
    assert builtin != pytest.approx(1.2 * math.log(2))


def test_label_smoothing_random_matches_reference(gen):
    logits, y, eps = rand(gen, 7, 6), torch.randint(0, 6, (7,), generator=gen), 0.15
    rows = []
    for z, c in zip(logits.tolist(), y.tolist(), strict=True):
        q = ref_softmax(z)
        rows.append(-sum((1 - eps if k == c else eps / 5) * math.log(q[k]) for k in range(6)))
    assert label_smoothing_loss(logits, y, eps).item() == pytest.approx(sum(rows) / 7, rel=1e-10)


# --- Tf-KD reg ---

def test_tfkd_virtual_teacher_nearly_uniform_for_k10_t20():
    probs = tfkd_virtual_teacher(10, 20.0, 0.99)
    e = math.exp((0.99 - 0.01 / 9) / 20)  # by hand: e / (e + 9) on the true class
    assert probs[0] == pytest.approx(e / (e + 9))
    assert probs[0] == pytest.approx(0.10454, abs=1e-5)
    assert probs[1] == pytest.approx(0.09950, abs=1e-5)
    assert sum(probs) == pytest.approx(1.0)
    torch_probs = tfkd_virtual_teacher_probs(torch.tensor([3]), 10, 20.0, 0.99)[0]
    assert torch_probs[3].item() == pytest.approx(probs[0], rel=1e-6)
    assert torch_probs[0].item() == pytest.approx(probs[1], rel=1e-6)


def test_tfkd_reg_by_hand_two_classes():
    # p = [0.75, 0.25], T = 1: teacher = softmax(p) = [1/(1+e^-0.5), ...]; student uniform
    t0 = 1 / (1 + math.exp(-0.5))
    want = t0 * math.log(2 * t0) + (1 - t0) * math.log(2 * (1 - t0))
    got = tfkd_reg_loss(t([[0.0, 0.0]]), torch.tensor([0]), 1.0, correct_prob=0.75)
    assert got.item() == pytest.approx(want, rel=1e-6)


def test_tfkd_reg_random_matches_reference_without_student_temperature(gen):
    k, temp, a = 10, 20.0, 0.99
    logits, y = rand(gen, 5, k), torch.randint(0, k, (5,), generator=gen)
    rows = []
    for z, c in zip(logits.tolist(), y.tolist(), strict=True):
        p = [a if j == c else (1 - a) / (k - 1) for j in range(k)]
        rows.append(ref_kl(ref_softmax(p, temp), ref_softmax(z)))  # student at T = 1
    assert tfkd_reg_loss(logits, y, temp, a).item() == pytest.approx(sum(rows) / 5, rel=1e-10)


# --- SP ---

def test_sp_by_hand():
    fs = t([[1.0, 0.0], [0.0, 1.0]])  # G = I, rows already unit
    ft = t([[1.0, 0.0], [1.0, 0.0]])  # G = all ones, rows → 1/√2
    want = (2 * (1 / math.sqrt(2) - 1) ** 2 + 2 * 0.5) / 4
    assert sp_loss(fs, ft).item() == pytest.approx(want)
    assert want == pytest.approx(1 - math.sqrt(2) / 2)


def test_sp_random_matches_reference_and_teacher_gets_no_gradient(gen):
    fs = rand(gen, 5, 3, 2, 2).requires_grad_()
    ft = rand(gen, 5, 4, 2, 2).requires_grad_()  # feature sizes may differ
    a, b = fs.detach().reshape(5, -1).tolist(), ft.detach().reshape(5, -1).tolist()

    def gram(f):
        g = [[sum(x * y for x, y in zip(r, s, strict=True)) for s in f] for r in f]
        return [[v / math.sqrt(sum(w * w for w in row)) for v in row] for row in g]

    gs, gt = gram(a), gram(b)
    want = sum((gt[i][j] - gs[i][j]) ** 2 for i in range(5) for j in range(5)) / 25
    loss = sp_loss(fs.flatten(1), ft.flatten(1))
    assert loss.item() == pytest.approx(want, rel=1e-10)
    loss.backward()
    assert ft.grad is None and fs.grad.abs().sum() > 0


# --- FSP ---

def test_fsp_matrix_by_hand_same_size_and_pooled():
    first = t([[[[1.0, 2.0], [3.0, 4.0]]]])  # (1, 1, 2, 2)
    ones = torch.ones(1, 1, 2, 2, dtype=torch.float64)
    assert fsp_matrix(first, ones).tolist() == [[[2.5]]]
    second = t([[[[5.0]], [[6.0]]]])  # (1, 2, 1, 1): first is pooled to 1x1 = 2.5
    assert fsp_matrix(first, second).tolist() == [[[12.5, 15.0]]]
    assert fsp_matrix(second, first).shape == (1, 2, 1)


def test_fsp_loss_by_hand_sums_pairs():
    s = [torch.full((1, 1, 1, 1), v, dtype=torch.float64) for v in (1.0, 2.0, 3.0)]
    te = [torch.ones(1, 1, 1, 1, dtype=torch.float64) for _ in range(3)]
    # pairs: (1·2 − 1)² + (2·3 − 1)² = 1 + 25
    assert fsp_loss(s, te).item() == pytest.approx(26.0)


def test_fsp_random_matches_reference_and_teacher_gets_no_gradient(gen):
    shapes = [(2, 3, 4, 4), (2, 2, 2, 2), (2, 4, 1, 1)]
    s = [rand(gen, *sh).requires_grad_() for sh in shapes]
    te = [rand(gen, *sh).requires_grad_() for sh in shapes]

    def ref_g(a, b):
        h = min(a.shape[2], b.shape[2])
        a = F.adaptive_avg_pool2d(a, h).tolist()
        b = F.adaptive_avg_pool2d(b, h).tolist()
        return [[[sum(a[n][i][u][v] * b[n][j][u][v] for u in range(h) for v in range(h)) / h**2
                  for j in range(len(b[0]))] for i in range(len(a[0]))] for n in range(2)]

    want = 0.0
    for k in range(2):
        gs, gt = ref_g(s[k].detach(), s[k + 1].detach()), ref_g(te[k].detach(), te[k + 1].detach())
        diffs = [(x - y) ** 2 for n in range(2) for rs, rt in zip(gs[n], gt[n], strict=True)
                 for x, y in zip(rs, rt, strict=True)]
        want += sum(diffs) / len(diffs)
    loss = fsp_loss(s, te)
    assert loss.item() == pytest.approx(want, rel=1e-10)
    loss.backward()
    assert all(m.grad is None for m in te)
    assert all(m.grad.abs().sum() > 0 for m in s)


def test_fsp_rejects_unequal_channels():
    s = [torch.ones(1, 2, 2, 2), torch.ones(1, 3, 2, 2)]
    te = [torch.ones(1, 2, 2, 2), torch.ones(1, 4, 2, 2)]
    with pytest.raises(ValueError):
        fsp_loss(s, te)


# --- CS-KD ---

def test_cskd_by_hand_and_pair_gets_no_gradient():
    logits = t([[0.0, 0.0]]).requires_grad_()
    pair = t([[4 * LN3, 0.0]]).requires_grad_()  # at T = 4: [3/4, 1/4]
    loss = cskd_loss(logits, pair, 4.0)
    assert loss.item() == pytest.approx(16 * KL_Q_U)
    loss.backward()
    assert pair.grad is None and logits.grad.abs().sum() > 0


def test_cskd_random_matches_reference(gen):
    z, zp = rand(gen, 6, 4), rand(gen, 6, 4)
    assert cskd_loss(z, zp, 4.0).item() == pytest.approx(16 * ref_kl_batch(zp, z, 4.0), rel=1e-10)


# --- BYOT and MSD ---

def _two_exits():
    logits = [t([[0.0, 0.0]]), t([[LN3, 0.0]])]  # shallow uniform, deep [3/4, 1/4]
    feats = [t([[1.0, 2.0]]), t([[1.0, 0.0]])]  # ‖F_1 − F_deep‖ = 2
    return logits, feats, torch.tensor([0])


def test_byot_by_hand_deepest_ce_weight_one_no_t_squared_unsquared_hint():
    logits, feats, y = _two_exits()
    got = byot_loss(logits, feats, y, temperature=1.0, alpha=0.5, feature_weight=0.1)
    ce = -math.log(0.75) + 0.5 * math.log(2)  # deepest CE weight 1, shallow 1 − α
    assert got["ce"].item() == pytest.approx(ce)
    assert got["kd"].item() == pytest.approx(0.5 * KL_Q_U)
    assert got["feature"].item() == pytest.approx(0.2)
    assert got["total"].item() == pytest.approx(ce + 0.5 * KL_Q_U + 0.2)
    at_t2 = byot_loss(logits, feats, y, temperature=2.0, alpha=0.5, feature_weight=0.0)
    kl_t2 = ref_kl(ref_softmax([LN3, 0.0], 2.0), ref_softmax([0.0, 0.0], 2.0))
    assert at_t2["kd"].item() == pytest.approx(0.5 * kl_t2)  # no T² factor


def test_msd_by_hand_deep_also_learns_from_shallow():
    logits, feats, y = _two_exits()
    got = msd_loss(logits, feats, y, temperature=1.0, alpha=0.5, feature_weight=0.1)
    kl_u_q = 0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25)  # KL(u ‖ [3/4, 1/4])
    assert got["ce"].item() == pytest.approx(0.5 * (math.log(2) - math.log(0.75)))
    assert got["kd"].item() == pytest.approx(0.5 * (KL_Q_U + kl_u_q))
    assert got["feature"].item() == pytest.approx(0.2)


def _random_exits(gen, n=3, b=4, k=5, d=6):
    logits = [rand(gen, b, k).requires_grad_() for _ in range(n)]
    feats = [rand(gen, b, d).requires_grad_() for _ in range(n)]
    return logits, feats, torch.randint(0, k, (b,), generator=gen)


def test_byot_and_msd_random_match_reference(gen):
    logits, feats, y = _random_exits(gen)
    temp, alpha, lam = 3.0, 0.3, 0.05
    d = [z.detach() for z in logits]
    fdeep = feats[-1].detach().tolist()
    feat = lam * sum(
        math.sqrt(sum(sum((a - b) ** 2 for a, b in zip(r, rd, strict=True))
                      for r, rd in zip(f.detach().tolist(), fdeep, strict=True)))
        for f in feats[:-1]
    )
    ce_byot = ref_ce(d[-1], y) + (1 - alpha) * sum(ref_ce(z, y) for z in d[:-1])
    ce_msd = (1 - alpha) * sum(ref_ce(z, y) for z in d)
    kd_byot = alpha * sum(ref_kl_batch(d[-1], z, temp) for z in d[:-1])
    kd_msd = alpha * sum(
        sum(ref_kl_batch(d[j], d[i], temp) for j in range(3) if j != i) / 2 for i in range(3)
    )
    got_b = byot_loss(logits, feats, y, temp, alpha, lam)
    got_m = msd_loss(logits, feats, y, temp, alpha, lam)
    for got, ce, kd in ((got_b, ce_byot, kd_byot), (got_m, ce_msd, kd_msd)):
        assert got["ce"].item() == pytest.approx(ce, rel=1e-10)
        assert got["kd"].item() == pytest.approx(kd, rel=1e-10)
        assert got["feature"].item() == pytest.approx(feat, rel=1e-10)
        assert got["total"].item() == pytest.approx(ce + kd + feat, rel=1e-10)


def test_byot_deepest_exit_gets_no_gradient_from_kd_and_feature_terms(gen):
    logits, feats, y = _random_exits(gen)
    out = byot_loss(logits, feats, y, 3.0, alpha=0.5, feature_weight=0.1)
    (out["kd"] + out["feature"]).backward()
    assert logits[-1].grad is None and feats[-1].grad is None
    assert all(z.grad.abs().sum() > 0 for z in logits[:-1])
    assert all(f.grad.abs().sum() > 0 for f in feats[:-1])


def test_msd_targets_are_detached(gen):
    """Each exit's gradient is what it gets with the others frozen as constants."""
    logits, feats, y = _random_exits(gen)
    msd_loss(logits, feats, y, 2.0, alpha=1.0, feature_weight=0.0)["kd"].backward()
    for i, z in enumerate(logits):
        zi = z.detach().clone().requires_grad_()
        others = [w.detach() for j, w in enumerate(logits) if j != i]
        (sum(kd_loss(zi, w, 2.0) / 4.0 for w in others) / 2).backward()
        assert torch.allclose(z.grad, zi.grad, rtol=1e-10, atol=1e-12)
    assert feats[-1].grad is None


# --- DML ---

def test_dml_by_hand_and_peer_gets_no_gradient():
    z = t([[0.0, 0.0]]).requires_grad_()
    peer = t([[LN3, 0.0]]).requires_grad_()
    loss = dml_loss(z, [peer], torch.tensor([0]))
    assert loss.item() == pytest.approx(math.log(2) + KL_Q_U)
    loss.backward()
    assert peer.grad is None and z.grad.abs().sum() > 0


def test_dml_random_averages_over_peers(gen):
    z, y = rand(gen, 5, 4), torch.randint(0, 4, (5,), generator=gen)
    peers = [rand(gen, 5, 4) for _ in range(3)]
    want = ref_ce(z, y) + sum(ref_kl_batch(p, z, 1.0) for p in peers) / 3
    assert dml_loss(z, peers, y).item() == pytest.approx(want, rel=1e-10)
    assert dml_loss(z, peers[0], y).item() == pytest.approx(
        ref_ce(z, y) + ref_kl_batch(peers[0], z, 1.0), rel=1e-10
    )


# --- k seeds at once: every loss is per leading index ---

def _per_seed(fn, *stacked):
    """fn on the stacked inputs against fn on each seed's slice alone."""
    together = fn(*stacked)
    alone = [fn(*(x[i] if isinstance(x, torch.Tensor) else [m[i] for m in x]
                  for x in stacked)) for i in range(3)]
    return together, alone


@pytest.mark.parametrize("name", ["kd", "lsr", "tfkd_reg", "cskd", "dml", "sp", "fsp"])
def test_losses_of_stacked_seeds_are_each_seeds_own(name, gen):
    z, z2 = rand(gen, 3, 6, 5), rand(gen, 3, 6, 5)
    y = torch.randint(0, 5, (3, 6), generator=gen)
    maps = [rand(gen, 3, 6, c, h, h) for c, h in ((2, 4), (3, 2))]
    maps_t = [rand(gen, 3, 6, c, h, h) for c, h in ((2, 4), (3, 2))]
    cases = {
        "kd": (lambda a, b: kd_loss(a, b, 3.0), z, z2),
        "lsr": (lambda a, b: label_smoothing_loss(a, b, 0.2), z, y),
        "tfkd_reg": (lambda a, b: tfkd_reg_loss(a, b, 5.0), z, y),
        "cskd": (lambda a, b: cskd_loss(a, b, 4.0), z, z2),
        "dml": (lambda a, b, c: dml_loss(a, [b], c), z, z2, y),
        "sp": (sp_loss, maps[1].flatten(-3), maps_t[1].flatten(-3)),
        "fsp": (fsp_loss, maps, maps_t),
    }
    fn, *args = cases[name]
    together, alone = _per_seed(fn, *args)
    assert together.shape == (3,)
    assert torch.allclose(together, torch.stack(alone), rtol=1e-12, atol=1e-14)


def test_self_distillation_losses_of_stacked_seeds_are_each_seeds_own(gen):
    logits = [rand(gen, 3, 4, 5) for _ in range(3)]
    feats = [rand(gen, 3, 4, 6) for _ in range(3)]
    y = torch.randint(0, 5, (3, 4), generator=gen)
    for fn in (byot_loss, msd_loss):
        together = fn(logits, feats, y, 3.0, 0.3, 0.05)
        for i in range(3):
            alone = fn([z[i] for z in logits], [f[i] for f in feats], y[i], 3.0, 0.3, 0.05)
            for term, value in alone.items():
                assert together[term][i].item() == pytest.approx(value.item(), rel=1e-12)
