"""Linear algebra against PyTorch: matmul family, einsum, outer, dot, dtype rules."""
import numpy as np
import pytest
import torch

import ember
from conftest import pair
from opcheck import check, randn

MATMUL_SHAPES = [((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 5)), ((3, 4), (4, 5)), ((2, 3, 4), (4, 5)),
                 ((2, 3, 4), (2, 4, 5)), ((3, 4), (2, 4, 5)), ((2, 1, 3, 4), (3, 4, 2)), ((4,), (2, 4, 5))]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul(sa, sb):
    check(ember.matmul, torch.matmul, randn(*sa), randn(*sb), rtol=1e-5, atol=1e-5)
    check(lambda a, b: a @ b, lambda a, b: a @ b, randn(*sa), randn(*sb), rtol=1e-5, atol=1e-5)


def test_mm_bmm_addmm_outer_dot():
    check(ember.mm, torch.mm, randn(3, 4), randn(4, 5), atol=1e-5)
    check(ember.bmm, torch.bmm, randn(2, 3, 4), randn(2, 4, 5), atol=1e-5)
    check(ember.addmm, torch.addmm, randn(3, 5), randn(3, 4), randn(4, 5), atol=1e-5)
    check(ember.addmm, torch.addmm, randn(5), randn(3, 4), randn(4, 5), atol=1e-5)
    check(lambda c, a, b: ember.addmm(c, a, b, beta=0.5, alpha=2), lambda c, a, b: torch.addmm(c, a, b, beta=0.5, alpha=2),
          randn(3, 5), randn(3, 4), randn(4, 5), atol=1e-5, names=False)
    check(ember.outer, torch.outer, randn(3), randn(4))
    check(ember.dot, torch.dot, randn(5), randn(5), atol=1e-5)
    check(lambda a: a.mT @ a, lambda a: a.mT @ a, randn(2, 3, 4), atol=1e-5)


@pytest.mark.parametrize("eq,shapes", [("ij,jk->ik", [(3, 4), (4, 5)]), ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
                                       ("ii->i", [(4, 4)]), ("ij->", [(3, 4)]), ("i,j->ij", [(3,), (4,)]),
                                       ("...ij,...jk", [(2, 3, 4), (4, 5)]), ("ij,ij->i", [(3, 4), (3, 4)]),
                                       ("ji", [(3, 4)])])
def test_einsum(eq, shapes):
    arrays = [randn(*s) for s in shapes]
    check(lambda *t: ember.einsum(eq, *t), lambda *t: torch.einsum(eq, *t), *arrays, atol=1e-5, names=False)


def test_matmul_errors_and_dtypes():
    a, ta = pair(randn(3, 4))
    b, tb = pair(randn(5, 2))
    with pytest.raises(RuntimeError):
        ta @ tb
    with pytest.raises(RuntimeError):
        a @ b
    d, td = pair(randn(4, 2).astype(np.float64))
    with pytest.raises(RuntimeError):
        ta @ td
    with pytest.raises(RuntimeError):
        a @ d
    with pytest.raises(RuntimeError):
        torch.mm(ta, torch.randn(3))
    with pytest.raises(RuntimeError):
        ember.mm(a, ember.randn(3))
    with pytest.raises(RuntimeError):
        torch.dot(torch.randn(3), torch.randn(4))
    with pytest.raises(RuntimeError):
        ember.dot(ember.randn(3), ember.randn(4))
    e3, t3 = pair(randn(2, 3, 4))
    f3, u3 = pair(randn(3, 4, 5))
    with pytest.raises(RuntimeError) as et:
        t3 @ u3
    with pytest.raises(RuntimeError) as ee:
        e3 @ f3
    assert str(ee.value) == str(et.value)
    i = np.arange(6).reshape(2, 3)
    check(ember.matmul, torch.matmul, i, i.T.copy())


def test_diagonal_of_non_square_matrices_matches_torch():
    import numpy as np
    import torch

    import ember
    from conftest import assert_close
    for shape, off, d1, d2 in [((4, 6), 0, 0, 1), ((6, 4), 0, 1, 0), ((4, 6), 2, 0, 1), ((2, 3, 5), -1, 2, 1)]:
        a = np.random.default_rng(0).standard_normal(shape)
        e = ember.tensor(a, requires_grad=True)
        t = torch.tensor(a, requires_grad=True)
        de, dt = ember.diagonal(e, off, d1, d2), torch.diagonal(t, off, d1, d2)
        assert_close(de, dt)
        (de * de).sum().backward()
        (dt * dt).sum().backward()
        assert_close(e.grad, t.grad)
