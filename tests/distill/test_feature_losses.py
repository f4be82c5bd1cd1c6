"""The losses of the feature-based methods, DKD, the confidence penalty and the
smoothed teacher's CE: each against a reference written from the paper's equation,
one sample (and channel, pair, triplet) at a time in plain Python, or by hand."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from app.distill.feature_losses import (
    at_loss,
    crd_nce_loss,
    crd_scores,
    hint_loss,
    nst_loss,
    pkt_loss,
    rkd_angle_loss,
    rkd_distance_loss,
    vid_loss,
)
from app.distill.heads import CRDHead
from app.distill.losses import (
    confidence_penalty_loss,
    dkd_loss,
    kd_loss,
    smoothed_cross_entropy,
)
from app.distill.pairs import NegativeSampler


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(4321)


def rand(gen, *shape, scale=1.0):
    return torch.randn(*shape, generator=gen, dtype=torch.float64) * scale


def relu_rand(gen, *shape):
    return rand(gen, *shape).clamp_min(0) + 0.01  # post-ReLU-like maps, never all zero


# --- plain-Python helpers: vectors are lists of floats ---

def dot(a, b):
    return sum(x * y for x, y in zip(a, b, strict=True))


def norm(a):
    return math.sqrt(dot(a, a))


def unit(a):
    n = norm(a)
    return [x / n for x in a] if n > 0 else [0.0 for _ in a]


def huber(x):
    return 0.5 * x * x if abs(x) < 1 else abs(x) - 0.5


def softmax(z, temp=1.0):
    m = max(z)
    e = [math.exp((v - m) / temp) for v in z]
    return [v / sum(e) for v in e]


def kl(p, q):
    return sum(a * math.log(a / b) for a, b in zip(p, q, strict=True) if a > 0)


def flat(sample):
    """One sample's map (C, H, W) as C lists of H·W floats."""
    return [[v for row in ch for v in row] for ch in sample.tolist()]


# --- FitNets ---

def test_hint_is_the_mean_squared_error_and_only_the_student_learns(gen):
    s, t = rand(gen, 3, 4, 2, 2).requires_grad_(), rand(gen, 3, 4, 2, 2).requires_grad_()
    values = [(a - b) ** 2 for a, b in zip(s.flatten().tolist(), t.flatten().tolist(),
                                           strict=True)]
    loss = hint_loss(s, t)
    assert loss.item() == pytest.approx(sum(values) / len(values), rel=1e-12)
    loss.backward()
    assert t.grad is None and s.grad.abs().sum() > 0


# --- AT ---

def ref_attention(sample, p=2):
    """Q(x) = Σ_c |A_c|^p / C at each position, then divided by its L2 norm."""
    chans = flat(sample)
    q = [sum(abs(ch[i]) ** p for ch in chans) / len(chans) for i in range(len(chans[0]))]
    return unit(q)


def test_at_by_hand_one_position_hot_against_uniform():
    s = torch.zeros(1, 1, 2, 2, dtype=torch.float64)
    s[0, 0, 0, 0] = 3.0  # Q_s = [1, 0, 0, 0]
    t = torch.ones(1, 1, 2, 2, dtype=torch.float64)  # Q_t = [1/2, 1/2, 1/2, 1/2]
    want = ((1 - 0.5) ** 2 + 3 * 0.5 ** 2) / 4
    assert at_loss([s], [t]).item() == pytest.approx(want, rel=1e-12)


def test_at_random_matches_reference_summed_over_maps(gen):
    s_maps = [relu_rand(gen, 3, 4, 4, 4), relu_rand(gen, 3, 6, 2, 2)]
    t_maps = [relu_rand(gen, 3, 4, 4, 4), relu_rand(gen, 3, 6, 2, 2)]
    want = 0.0
    for s, t in zip(s_maps, t_maps, strict=True):
        rows = [sum((a - b) ** 2 for a, b in zip(ref_attention(x), ref_attention(y),
                                                 strict=True)) / (s.size(-1) * s.size(-2))
                for x, y in zip(s, t, strict=True)]
        want += sum(rows) / len(rows)
    assert at_loss(s_maps, t_maps).item() == pytest.approx(want, rel=1e-10)


def test_at_rejects_maps_of_other_shapes(gen):
    with pytest.raises(ValueError):
        at_loss([rand(gen, 2, 3, 4, 4)], [rand(gen, 2, 3, 2, 2)])


# --- NST ---

def ref_mmd2(s_sample, t_sample):
    """Squared MMD with k(a, b) = (aᵀb)² between the sets of L2-normalised channels."""
    fs, ft = [unit(c) for c in flat(s_sample)], [unit(c) for c in flat(t_sample)]

    def mean_k(xs, ys):
        return sum(dot(a, b) ** 2 for a in xs for b in ys) / (len(xs) * len(ys))

    return mean_k(ft, ft) + mean_k(fs, fs) - 2 * mean_k(fs, ft)


def test_nst_random_matches_reference_and_vanishes_on_equal_maps(gen):
    s, t = relu_rand(gen, 4, 5, 3, 3), relu_rand(gen, 4, 5, 3, 3)
    want = sum(ref_mmd2(a, b) for a, b in zip(s, t, strict=True)) / 4
    assert nst_loss([s], [t]).item() == pytest.approx(want, rel=1e-10)
    assert nst_loss([s, t], [s * 2.0, t]).item() == pytest.approx(0.0, abs=1e-12)


# --- PKT ---

def ref_pkt(s_rows, t_rows, eps=1e-7):
    def probs(rows):
        k = [[(dot(unit(a), unit(b)) + 1) / 2 for b in rows] for a in rows]
        return [[v / sum(r) for v in r] for r in k]

    p, q = probs(t_rows), probs(s_rows)
    b = len(s_rows)
    return sum(p[i][j] * math.log((p[i][j] + eps) / (q[i][j] + eps))
               for i in range(b) for j in range(b)) / (b * b)


def test_pkt_random_matches_reference(gen):
    s, t = rand(gen, 6, 5), rand(gen, 6, 5)
    # The authors' ε = 1e-7 beside each norm is not in the paper's cosine: rel 1e-5.
    assert pkt_loss(s, t).item() == pytest.approx(ref_pkt(s.tolist(), t.tolist()), rel=1e-5)


def test_pkt_by_hand_two_orthogonal_against_two_equal():
    # Teacher rows equal: p = 1/2 everywhere. Student orthogonal: K = [[1, 1/2], [1/2, 1]]
    # → q = [[2/3, 1/3], [1/3, 2/3]]; the mean over 4 entries of p log(p / q).
    s = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    t = torch.tensor([[1.0, 1.0], [1.0, 1.0]], dtype=torch.float64)
    want = (2 * 0.5 * math.log(0.5 / (2 / 3)) + 2 * 0.5 * math.log(0.5 / (1 / 3))) / 4
    assert pkt_loss(s, t).item() == pytest.approx(want, rel=1e-6)


# --- RKD ---

def ref_rkd_distance(s_rows, t_rows):
    def psi(rows):
        b = len(rows)
        d = [[norm([x - y for x, y in zip(rows[i], rows[j], strict=True)]) for j in range(b)]
             for i in range(b)]
        mu = sum(d[i][j] for i in range(b) for j in range(b) if i != j) / (b * (b - 1))
        return [[v / mu for v in r] for r in d]

    ps, pt = psi(s_rows), psi(t_rows)
    b = len(s_rows)
    return sum(huber(ps[i][j] - pt[i][j]) for i in range(b) for j in range(b)) / b ** 2


def ref_rkd_angle(s_rows, t_rows):
    def psi(rows, i, j, k):
        e_ij = unit([a - b for a, b in zip(rows[j], rows[i], strict=True)])
        e_ik = unit([a - b for a, b in zip(rows[k], rows[i], strict=True)])
        return dot(e_ij, e_ik)

    b = len(s_rows)
    total = sum(huber(psi(s_rows, i, j, k) - psi(t_rows, i, j, k))
                for i in range(b) for j in range(b) for k in range(b))
    return total / b ** 3


def test_rkd_distance_and_angle_match_reference(gen):
    s, t = rand(gen, 5, 4, scale=2.0), rand(gen, 5, 4, scale=0.3)
    assert rkd_distance_loss(s, t).item() == pytest.approx(
        ref_rkd_distance(s.tolist(), t.tolist()), rel=1e-8)
    assert rkd_angle_loss(s, t).item() == pytest.approx(
        ref_rkd_angle(s.tolist(), t.tolist()), rel=1e-8)


def test_rkd_ignores_scale_and_translation_of_the_teacher(gen):
    s = rand(gen, 6, 3)
    moved = 7.0 * s + 3.0  # same distances up to scale, same angles
    assert rkd_distance_loss(s, moved).item() == pytest.approx(0.0, abs=1e-10)
    assert rkd_angle_loss(s, moved).item() == pytest.approx(0.0, abs=1e-10)


# --- VID ---

def test_vid_is_the_gaussian_nll_per_element_with_softplus_variance(gen):
    mean, target = rand(gen, 2, 3, 2, 2), rand(gen, 2, 3, 2, 2)
    alpha = rand(gen, 3).requires_grad_()
    eps = 1e-5
    terms = []
    for b in range(2):
        for c in range(3):
            var = math.log1p(math.exp(alpha[c].item())) + eps
            for v_m, v_t in zip(mean[b, c].flatten().tolist(), target[b, c].flatten().tolist(),
                                strict=True):
                terms.append(0.5 * ((v_t - v_m) ** 2 / var + math.log(var)))
    loss = vid_loss(mean, alpha, target)
    assert loss.item() == pytest.approx(sum(terms) / len(terms), rel=1e-10)
    loss.backward()
    assert alpha.grad.abs().sum() > 0  # the variance is learned


# --- CRD ---

def ref_crd_nce(rows, n_data, eps=1e-7):
    """Eq. 18 with h(P) = P / (P + M/N), column 0 the positive, one row per anchor."""
    total = 0.0
    for r in rows:
        m = len(r) - 1
        total += math.log(r[0] / (r[0] + m / n_data + eps))
        total += sum(math.log((m / n_data) / (x + m / n_data + eps)) for x in r[1:])
    return -total / len(rows)


def test_crd_nce_matches_reference(gen):
    probs = rand(gen, 4, 6).abs() * 0.05
    assert crd_nce_loss(probs, 100).item() == pytest.approx(
        ref_crd_nce(probs.tolist(), 100), rel=1e-10)


def test_crd_scores_are_exp_of_dot_over_temperature(gen):
    anchor, memory = rand(gen, 2, 3), rand(gen, 5, 3)
    idx = torch.tensor([[0, 4, 2], [1, 1, 3]])
    got = crd_scores(anchor, memory, idx, 0.5)
    for b in range(2):
        for j in range(3):
            want = math.exp(dot(memory[idx[b, j]].tolist(), anchor[b].tolist()) / 0.5)
            assert got[b, j].item() == pytest.approx(want, rel=1e-12)


def test_crd_head_fixes_z_on_the_first_batch_and_moves_the_memory():
    torch.manual_seed(0)
    head = CRDHead(2, 4, 4, 8, n_data=10, temperature=0.07, momentum=0.5)
    f_s, f_t = torch.randn(2, 3, 4), torch.randn(2, 3, 4)
    idx = torch.tensor([[0, 1, 2], [5, 6, 7]])
    contrast = torch.cat([idx.unsqueeze(-1), torch.tensor([[[3, 4]] * 3, [[8, 9]] * 3])], -1)
    before = head.memory_s.clone()
    head(f_s, f_t, idx, contrast)
    z = head.z.clone()
    assert (z > 0).all()
    head(torch.randn(2, 3, 4), f_t, idx, contrast)
    assert torch.equal(head.z, z)  # fixed after the first batch, per seed and side
    moved = head.memory_s[0, :3]
    assert not torch.allclose(moved, before[0, :3])
    assert torch.allclose(moved.norm(dim=-1), torch.ones(3))  # rows stay unit vectors
    assert torch.equal(head.memory_s[0, 3:], before[0, 3:])  # others untouched


def test_negatives_are_distinct_other_class_samples_and_capped():
    labels = torch.tensor([[0, 0, 1, 1, 2, 2, 2], [2, 1, 0, 0, 1, 2, 2]])
    sampler = NegativeSampler(labels, [0, 1], m=10)
    assert sampler.m == 4  # 7 samples, the largest class holds 3
    idx = torch.tensor([[0, 4], [6, 2]])
    out = sampler(idx)
    assert out.shape == (2, 2, 5) and torch.equal(out[..., 0], idx)
    for s in range(2):
        for b in range(2):
            neg = out[s, b, 1:].tolist()
            assert len(set(neg)) == 4
            assert all(labels[s, j] != labels[s, idx[s, b]] for j in neg)


# --- DKD ---

def ref_dkd(z_s, z_t, y, temp):
    p_s, p_t = softmax(z_s, temp), softmax(z_t, temp)
    tckd = kl([p_t[y], 1 - p_t[y]], [p_s[y], 1 - p_s[y]])
    others = [k for k in range(len(z_s)) if k != y]
    q_s = softmax([z_s[k] for k in others], temp)
    q_t = softmax([z_t[k] for k in others], temp)
    return temp ** 2 * tckd, temp ** 2 * kl(q_t, q_s), p_t[y]


def test_dkd_matches_reference_and_recomposes_kd(gen):
    s, t, y, temp = rand(gen, 5, 6, scale=2.0), rand(gen, 5, 6, scale=2.0), \
        torch.tensor([0, 3, 5, 1, 1]), 4.0
    parts = dkd_loss(s, t, y, temp)
    refs = [ref_dkd(a, b, c, temp) for a, b, c in zip(s.tolist(), t.tolist(), y.tolist(),
                                                      strict=True)]
    assert parts["tckd"].item() == pytest.approx(sum(r[0] for r in refs) / 5, rel=1e-10)
    assert parts["nckd"].item() == pytest.approx(sum(r[1] for r in refs) / 5, rel=1e-10)
    # The paper's reformulation of KD: KD = TCKD + (1 − p_t) · NCKD, sample by sample.
    for i in range(5):
        one = dkd_loss(s[i:i + 1], t[i:i + 1], y[i:i + 1], temp)
        kd = kd_loss(s[i:i + 1], t[i:i + 1], temp).item()
        assert kd == pytest.approx(one["tckd"].item() + (1 - refs[i][2]) * one["nckd"].item(),
                                   rel=1e-9)


def test_dkd_survives_a_certain_teacher_and_its_gradient_reaches_the_student_only():
    s = torch.zeros(1, 3, dtype=torch.float64, requires_grad=True)
    t = torch.tensor([[900.0, 0.0, 0.0]], dtype=torch.float64, requires_grad=True)
    parts = dkd_loss(s, t, torch.tensor([0]), 1.0)
    total = parts["tckd"] + parts["nckd"]
    assert torch.isfinite(total).all()
    total.sum().backward()
    assert t.grad is None and torch.isfinite(s.grad).all() and s.grad.abs().sum() > 0


# --- confidence penalty and the smoothed teacher's CE ---

def test_confidence_penalty_by_hand_on_uniform_logits():
    logits = torch.zeros(2, 4, dtype=torch.float64)  # CE = H = ln 4
    got = confidence_penalty_loss(logits, torch.tensor([1, 3]), 0.3)
    assert got.item() == pytest.approx(0.7 * math.log(4), rel=1e-12)


def test_confidence_penalty_random_matches_reference(gen):
    logits, y, beta = rand(gen, 5, 4, scale=2.0), torch.tensor([0, 1, 2, 3, 0]), 0.25
    rows = []
    for z, c in zip(logits.tolist(), y.tolist(), strict=True):
        p = softmax(z)
        rows.append(-math.log(p[c]) + beta * sum(v * math.log(v) for v in p))
    assert confidence_penalty_loss(logits, y, beta).item() == pytest.approx(
        sum(rows) / 5, rel=1e-10)


def test_smoothed_teacher_ce_is_the_papers_form_which_is_pytorchs(gen):
    logits, y = rand(gen, 6, 10, scale=2.0), torch.randint(0, 10, (6,), generator=gen)
    want = F.cross_entropy(logits, y, label_smoothing=0.1)  # (1 − a)·onehot + a/K
    assert smoothed_cross_entropy(logits, y, 0.1).item() == pytest.approx(want.item(), rel=1e-12)


# --- every loss is seed by seed over a leading dim ---

def test_every_new_loss_gives_each_seed_its_own_value(gen):
    k, b = 3, 5
    maps_s, maps_t = relu_rand(gen, k, b, 4, 2, 2), relu_rand(gen, k, b, 4, 2, 2)
    feat_s, feat_t = rand(gen, k, b, 6), rand(gen, k, b, 6)
    logits_s, logits_t = rand(gen, k, b, 7), rand(gen, k, b, 7)
    y = torch.randint(0, 7, (k, b), generator=gen)
    alpha, probs = rand(gen, k, 4), rand(gen, k, b, 4).abs()
    cases = [
        (lambda i: hint_loss(maps_s[i], maps_t[i])),
        (lambda i: at_loss([maps_s[i]], [maps_t[i]])),
        (lambda i: nst_loss([maps_s[i]], [maps_t[i]])),
        (lambda i: pkt_loss(feat_s[i], feat_t[i])),
        (lambda i: rkd_distance_loss(feat_s[i], feat_t[i])),
        (lambda i: rkd_angle_loss(feat_s[i], feat_t[i])),
        (lambda i: vid_loss(maps_s[i], alpha[i], maps_t[i])),
        (lambda i: crd_nce_loss(probs[i], 50)),
        (lambda i: dkd_loss(logits_s[i], logits_t[i], y[i], 4.0)["nckd"]),
        (lambda i: confidence_penalty_loss(logits_s[i], y[i], 0.5)),
    ]
    everything = slice(None)
    for fn in cases:
        stacked = fn(everything)
        assert stacked.shape == (k,)
        for i in range(k):
            assert stacked[i].item() == pytest.approx(fn(i).item(), rel=1e-10)
