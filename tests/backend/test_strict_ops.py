"""The ops outside the op table on the strict backend: the same numbers as on the CPU, nothing leaked.

Scatters and writes, decompositions and soma.linalg, statistics, sorting and selection,
splitting, cumulative ops, gamma and special functions, trigonometry, einsum and the
factories with ``device=``: each runs on the CPU and on the strict device (arrays that refuse
any implicit conversion to NumPy, as CuPy's do) and must give identical values, dtypes and
gradients, every result on the device (see :mod:`same_numbers`). Index tensors a case makes
itself land on the device too, as the default device is the strict one during its run.
"""

import numpy as np
import pytest
import strict
from same_numbers import assert_same_on_device

import soma
from soma import linalg


def _t(data):
    return soma.tensor(data)  # on the default device: the strict one during the device run


def _here():
    return soma.get_default_device()  # the strict device during the device run, the CPU during the CPU's


def _nan_where_negative(a):
    return soma.where(a < 0, float("nan"), a)


def _spd(a):
    return a @ a.mT + 3 * soma.eye(a.shape[-1], dtype=a.dtype)


_INDEX = [[0, 1, 2, 0], [2, 2, 1, 0], [1, 0, 0, 2]]

# name, function of leaf tensors, input shapes (float64 standard normal; "+" in front: positive in [0.5, 2])
CASES = [
    # scattering and writes
    ("scatter", lambda a, s: a.scatter(0, _t(_INDEX), s), [(3, 4), (3, 4)]),
    ("scatter value", lambda a: soma.scatter(a, 1, _t(_INDEX), value=0.5), [(3, 4)]),
    ("scatter reduce add", lambda a, s: soma.scatter(a, 0, _t(_INDEX), s, reduce="add"), [(3, 4), (3, 4)]),
    ("scatter_add", lambda a, s: soma.scatter_add(a, 0, _t(_INDEX), s), [(3, 4), (4, 5)]),
    ("scatter_reduce sum", lambda a, s: soma.scatter_reduce(a, 0, _t(_INDEX), s, "sum", include_self=False),
     [(3, 4), (3, 4)]),
    ("scatter_reduce mean", lambda a, s: soma.scatter_reduce(a, 1, _t(_INDEX), s, "mean"), [(3, 4), (3, 4)]),
    ("scatter_reduce amax", lambda a, s: soma.scatter_reduce(a, 0, _t(_INDEX), s, "amax"), [(3, 4), (3, 4)]),
    ("scatter_reduce amin excl", lambda a, s: soma.scatter_reduce(a, 0, _t(_INDEX), s, "amin", include_self=False),
     [(3, 4), (3, 4)]),
    ("scatter_reduce prod", lambda a, s: soma.scatter_reduce(a, 0, _t(_INDEX), s, "prod"), [(3, 4), (3, 4)]),
    ("scatter 0-d", lambda a, s: soma.scatter(a[0, 0], 0, _t(0), s[0, 0]), [(2, 2), (2, 2)]),
    ("index_add", lambda a, s: soma.index_add(a, 0, _t([2, 0, 2]), s, alpha=2.0), [(3, 4), (3, 4)]),
    ("index_copy", lambda a, s: soma.index_copy(a, 1, _t([3, 0]), s), [(3, 4), (3, 2)]),
    ("index_fill", lambda a: soma.index_fill(a, 1, _t([-1, 0, 0]), -2.0), [(3, 4)]),
    ("index_fill tensor value", lambda a, v: soma.index_fill(a, 0, _t([1]), v[0]), [(3, 4), (1,)]),
    ("masked_scatter", lambda a, s: soma.masked_scatter(a, a > 0, s), [(3, 4), (12,)]),
    ("take_along_dim", lambda a: soma.take_along_dim(a, _t([[0], [3], [1]]), 1), [(3, 4)]),
    ("take_along_dim flat", lambda a: soma.take_along_dim(a, _t([5, 0, 11])), [(3, 4)]),
    ("index_put accumulate", lambda a, v: soma.index_put(a, (_t([0, 2, 0]),), v, accumulate=True), [(3, 4), (4,)]),
    ("index_put", lambda a, v: soma.index_put(a, (_t([0, 2]), _t([1, 3])), v), [(3, 4), (2,)]),
    ("put", lambda a, v: soma.put(a, _t([0, 5, -1]), v), [(3, 4), (3,)]),
    ("put accumulate", lambda a, v: soma.put(a, _t([0, 5, 0]), v, accumulate=True), [(3, 4), (3,)]),
    ("take", lambda a: soma.take(a, _t([[0, 11], [5, 5]])), [(3, 4)]),
    ("select_scatter", lambda a, s: soma.select_scatter(a, s, 0, 1), [(3, 4), (4,)]),
    ("diagonal_scatter", lambda a, s: soma.diagonal_scatter(a, s, 1), [(3, 4), (3,)]),
    ("fill_diagonal_", lambda a: (a * 1).fill_diagonal_(0.5, wrap=True), [(7, 3)]),
    # decompositions and linalg
    ("inv", lambda a: linalg.inv(_spd(a)), [(2, 3, 3)]),
    ("solve", lambda a, b: linalg.solve(_spd(a), b), [(3, 3), (3, 2)]),
    ("solve left=False", lambda a, b: linalg.solve(_spd(a), b, left=False), [(3, 3), (2, 3)]),
    ("det", lambda a: linalg.det(a), [(2, 3, 3)]),
    ("slogdet", lambda a: linalg.slogdet(a), [(3, 3)]),
    ("logdet", lambda a: soma.logdet(_spd(a)), [(3, 3)]),
    ("cholesky", lambda a: linalg.cholesky(_spd(a), upper=True), [(3, 3)]),
    ("qr", lambda a: linalg.qr(a), [(4, 3)]),
    ("qr complete", lambda a: linalg.qr(a, mode="complete"), [(3, 4)]),
    ("qr r", lambda a: linalg.qr(a, mode="r"), [(3, 4)]),
    ("eigh", lambda a: linalg.eigh(a + a.mT), [(3, 3)]),
    ("eigvalsh", lambda a: linalg.eigvalsh(a, UPLO="U"), [(2, 3, 3)]),
    ("svd", lambda a: linalg.svd(a, full_matrices=False), [(4, 3)]),
    ("svd full", lambda a: linalg.svd(a), [(3, 4)]),
    ("svdvals", lambda a: linalg.svdvals(a), [(2, 4, 3)]),
    ("pinv", lambda a: linalg.pinv(a), [(4, 3)]),
    ("matrix_rank", lambda a: linalg.matrix_rank(a), [(4, 3)]),
    ("lstsq", lambda a, b: linalg.lstsq(a, b), [(4, 3), (4, 2)]),
    ("matrix_norm nuc", lambda a: linalg.matrix_norm(a, "nuc"), [(3, 4)]),
    ("matrix_norm inf", lambda a: linalg.matrix_norm(a, float("inf"), keepdim=True), [(3, 4)]),
    ("norm", lambda a: linalg.norm(a, 2), [(3, 4)]),
    ("vector_norm", lambda a: linalg.vector_norm(a, 3, dim=1), [(3, 4)]),
    ("cond", lambda a: linalg.cond(a), [(3, 3)]),
    ("cond 1", lambda a: linalg.cond(_spd(a), 1), [(3, 3)]),
    ("matrix_power 0", lambda a: linalg.matrix_power(a, 0) * a, [(2, 3, 3)]),
    ("matrix_power -2", lambda a: linalg.matrix_power(_spd(a), -2), [(3, 3)]),
    ("matrix_exp", lambda a: linalg.matrix_exp(a), [(2, 3, 3)]),
    ("solve_triangular unit", lambda a, b: linalg.solve_triangular(a, b, upper=True, unitriangular=True),
     [(3, 3), (3, 2)]),
    ("cholesky_solve", lambda a, b: soma.cholesky_solve(b, linalg.cholesky(_spd(a))), [(3, 3), (3, 2)]),
    ("cholesky_inverse", lambda a: soma.cholesky_inverse(linalg.cholesky(_spd(a))), [(3, 3)]),
    ("inv_ex", lambda a: linalg.inv_ex(_spd(a)), [(3, 3)]),
    ("inv_ex singular", lambda a: linalg.inv_ex(a * 0), [(3, 3)]),
    ("cholesky_ex bad", lambda a: linalg.cholesky_ex(-_spd(a)), [(3, 3)]),
    ("multi_dot", lambda a, b, c: linalg.multi_dot([a, b, c]), [(3,), (3, 4), (4,)]),
    ("cross", lambda a, b: linalg.cross(a, b), [(2, 3), (2, 3)]),
    ("vander", lambda a: linalg.vander(a, N=4), [(3,)]),
    ("tensorinv", lambda a: linalg.tensorinv(_spd(a).reshape(2, 2, 4), ind=2), [(4, 4)]),
    ("tensorsolve", lambda a, b: linalg.tensorsolve(_spd(a).reshape(2, 2, 4), b), [(4, 4), (2, 2)]),
    ("pinverse", lambda a: soma.pinverse(a), [(3, 4)]),
    ("linalg misc", lambda a, b: (linalg.vecdot(a, b), linalg.diagonal(a, offset=1), linalg.matmul(a, b.mT),
                                  linalg.solve_ex(_spd(a), b), linalg.cholesky_ex(_spd(a)), linalg.eigh(a, UPLO="U")),
     [(3, 3), (3, 3)]),
    # statistics
    ("var_mean", lambda a: soma.var_mean(a, 1), [(3, 4)]),
    ("std_mean", lambda a: soma.std_mean(a, correction=0), [(3, 4)]),
    ("aminmax", lambda a: soma.aminmax(a, dim=0), [(3, 4)]),
    ("nansum nanmean", lambda a: (soma.nansum(_nan_where_negative(a)), soma.nanmean(_nan_where_negative(a), 1)), [(3, 4)]),
    ("count_nonzero", lambda a: soma.count_nonzero(a.relu(), 1), [(3, 4)]),
    ("diff", lambda a, b: soma.diff(a, 2, 1, prepend=b), [(3, 4), (3, 1)]),
    ("cov", lambda a: soma.cov(a), [(3, 5)]),
    ("corrcoef", lambda a: soma.corrcoef(a), [(3, 5)]),
    ("isin", lambda a: soma.isin(_t([1, 2, 3, 4]), _t([2, 4])) * a, [(4,)]),
    ("quantile", lambda a: soma.quantile(a, _t([0.1, 0.5, 0.75]).double(), 1, keepdim=True), [(3, 5)]),
    ("quantile scalar", lambda a: soma.quantile(a, 0.3, interpolation="midpoint"), [(3, 5)]),
    ("nanquantile", lambda a: soma.nanquantile(_nan_where_negative(a), 0.5, 0), [(4, 3)]),
    ("bucketize", lambda a: soma.bucketize(a, _t([-1.0, 0.0, 1.0]).double(), right=True), [(3, 4)]),
    ("histogram", lambda a: soma.histogram(a, 4), [(3, 4)]),
    ("trapezoid", lambda a, x: soma.trapezoid(a, x, dim=1), [(3, 4), (4,)]),
    ("cumulative_trapezoid", lambda a: soma.cumulative_trapezoid(a, dx=0.5), [(3, 4)]),
    ("median all", lambda a: soma.median(a), [(3, 4)]),
    ("median dim", lambda a: soma.median(a, 1, keepdim=True), [(3, 4)]),
    ("histc", lambda a: soma.histc(a, 5), [(3, 4)]),
    ("bincount", lambda w: soma.bincount(_t([0, 3, 3, 1]), w, minlength=6), [(4,)]),
    ("bincount counts", lambda a: soma.bincount(_t([0, 3, 3, 1])) * 1, [(1,)]),
    # sorting and selection
    ("sort", lambda a: soma.sort(a, 1, descending=True), [(3, 4)]),
    ("sort 0-d", lambda a: soma.sort(a[0]), [(2,)]),
    ("argsort", lambda a: soma.argsort(a, 0), [(3, 4)]),
    ("topk", lambda a: soma.topk(a, 2, largest=False), [(3, 4)]),
    ("kthvalue", lambda a: soma.kthvalue(a, 2, 0), [(3, 4)]),
    ("mode", lambda a: soma.mode(a.round(), 1), [(3, 6)]),
    ("mode 0-d", lambda a: soma.mode(a[0]), [(2,)]),
    ("nonzero", lambda a: soma.nonzero(a.relu()), [(3, 4)]),
    ("nonzero tuple", lambda a: soma.nonzero(a.relu(), as_tuple=True), [(3, 4)]),
    ("argwhere 0-d", lambda a: soma.argwhere(a[0]), [(2,)]),
    ("unique", lambda a: soma.unique(a.round(), return_inverse=True, return_counts=True), [(3, 4)]),
    ("searchsorted", lambda a, v: soma.searchsorted(soma.sort(a).values, v), [(3, 4), (3, 2)]),
    ("searchsorted 1-d", lambda a, v: soma.searchsorted(soma.sort(a).values, v, right=True), [(4,), (3, 2)]),
    ("msort", lambda a: soma.msort(a), [(3, 4)]),
    # splitting and layout
    ("tensor_split", lambda a: soma.tensor_split(a, [1, 3], 1), [(3, 5)]),
    ("tensor_split indices tensor", lambda a: soma.tensor_split(a, _t([1, 2]), 0), [(3, 5)]),
    ("hsplit vsplit dsplit", lambda a: (soma.hsplit(a, 2), soma.vsplit(a, [1]), soma.dsplit(a, 2)), [(2, 4, 2)]),
    ("broadcast_tensors", lambda a, b: soma.broadcast_tensors(a, b), [(3, 1), (4,)]),
    ("broadcast_to", lambda a: soma.broadcast_to(a, (2, 3, 4)), [(3, 1)]),
    ("ravel", lambda a: soma.ravel(a.mT), [(3, 4)]),
    ("diagflat", lambda a: soma.diagflat(a, -1), [(2, 2)]),
    ("select", lambda a: soma.select(a, 1, -1), [(3, 4)]),
    ("unravel_index", lambda a: soma.unravel_index(_t([0, 5, 11]), (3, 4)), [(1,)]),
    ("unfold", lambda a: a.unfold(1, 2, 1), [(3, 5)]),
    ("tril triu", lambda a: (soma.tril(a, -1), soma.triu(a, 1)), [(3, 4)]),
    ("tril_indices", lambda a: (soma.tril_indices(3, 4), soma.triu_indices(3, 3, 1)), [(1,)]),
    ("diagonal diag", lambda a: (soma.diagonal(a, 1), soma.diag(a, -1), soma.diag(a[0])), [(3, 4)]),
    ("diag_embed", lambda a: soma.diag_embed(a, 1), [(2, 3)]),
    ("trace", lambda a: soma.trace(a), [(3, 4)]),
    ("roll", lambda a: (soma.roll(a, 2), soma.roll(a, (1, -1), (0, 1))), [(3, 4)]),
    ("tile", lambda a: soma.tile(a, (2, 1, 2)), [(3, 4)]),
    ("repeat_interleave", lambda a: (soma.repeat_interleave(a, 2), a.repeat_interleave(_t([1, 0, 2]), 0)),
     [(3, 4)]),
    ("stacks", lambda a: (soma.hstack([a, a]), soma.vstack([a, a]), soma.dstack([a, a]), soma.column_stack([a, a])),
     [(3, 4)]),
    ("atleast", lambda a: (soma.atleast_1d(a[0, 0]), soma.atleast_2d(a[0]), soma.atleast_3d(a)), [(3, 4)]),
    ("meshgrid", lambda a, b: soma.meshgrid(a, b, indexing="ij"), [(3,), (4,)]),
    ("masked_select", lambda a: soma.masked_select(a, a > 0), [(3, 4)]),
    ("rot90", lambda a: soma.rot90(a, -1, (0, 1)), [(3, 4)]),
    ("fliplr flipud", lambda a: (soma.fliplr(a), soma.flipud(a)), [(3, 4)]),
    ("narrow_copy movedim", lambda a: (soma.narrow_copy(a, 1, 1, 2), soma.movedim(a, 0, 2)), [(3, 4, 2)]),
    ("one_hot", lambda a: soma.nn.functional.one_hot(_t([0, 2, 1]), 4) * a, [(3, 1)]),
    # cumulative
    ("cumprod", lambda a: soma.cumprod(a, 1), [(3, 4)]),
    ("cummax", lambda a: soma.cummax(a, 1), [(3, 4)]),
    ("cummin", lambda a: soma.cummin(a, 0), [(3, 4)]),
    ("cummax 0-d", lambda a: soma.cummax(a[0], 0), [(2,)]),
    ("logcumsumexp", lambda a: soma.logcumsumexp(a, 1), [(3, 4)]),
    # gamma, special, trigonometry, rounding, numeric, combine
    ("lgamma digamma", lambda a: (soma.lgamma(a), soma.digamma(a)), ["+(3, 4)"]),
    ("polygamma", lambda a: (soma.polygamma(1, a), soma.polygamma(0, a)), ["+(3, 4)"]),
    ("mvlgamma", lambda a: soma.mvlgamma(a + 2, 2), ["+(3, 4)"]),
    ("bessel", lambda a: (soma.i0(a), soma.special.i0e(a), soma.special.i1(a), soma.special.i1e(a)), [(3, 4)]),
    ("erfcx log_ndtr", lambda a: (soma.special.erfcx(a), soma.special.log_ndtr(a)), [(3, 4)]),
    ("erf erfc erfinv", lambda a: (soma.erf(a), soma.erfc(a), soma.erfinv(a.tanh())), [(3, 4)]),
    ("special", lambda a: (soma.special.ndtr(a), soma.special.ndtri(a.sigmoid()), soma.special.entr(a.abs()),
                           soma.special.xlog1py(a, a.abs()), soma.special.expit(a), soma.special.gammaln(a.abs())),
     [(3, 4)]),
    ("trigonometry", lambda a: (soma.tan(a), soma.asin(a.tanh()), soma.acos(a.tanh()), soma.atan(a), soma.sinh(a),
                                soma.cosh(a), soma.asinh(a), soma.acosh(a.abs() + 1), soma.atanh(a.tanh())),
     [(3, 4)]),
    ("logs and powers", lambda a: (soma.log2(a), soma.log10(a), soma.exp2(a), soma.float_power(a, 2),
                                   soma.logaddexp2(a, a), soma.logit(a / 3, 1e-3)), ["+(3, 4)"]),
    ("atan2 xlogy copysign", lambda a, b: (soma.atan2(a, b), soma.xlogy(a.abs(), b.abs()), soma.copysign(a, b),
                                           soma.xlogy(a.abs(), 2.0), soma.atan2(a, 0.5)), [(3, 4), (3, 4)]),
    ("sinc deg2rad", lambda a: (soma.sinc(a), soma.deg2rad(a), soma.rad2deg(a), soma.positive(a)), [(3, 4)]),
    ("rounding", lambda a, b: (soma.floor_divide(a.detach(), b.detach()), soma.remainder(a, b), soma.fmod(a, 2),
                               soma.sign(a), soma.sgn(a), soma.fix(a)), [(3, 4), (3, 4)]),
    ("int division", lambda a: soma.remainder(_t([5, -3, 7]), _t([2, 2, -3])) * a, [(3,)]),
    ("numeric", lambda a, b: (soma.ldexp(a, _t([1, 2, 3, 4])), soma.frexp(a), soma.nextafter(a, b),
                              soma.heaviside(a, b), soma.gcd(_t([4, 6]), _t([6, 9]))), [(3, 4), (3, 4)]),
    ("pow tensor exponent", lambda a: a.pow(_t(2.0).double()), [(3,)]),
    ("combine", lambda a, b: (soma.lerp(a, b, 0.3), soma.logaddexp(a, b), soma.hypot(a, b), soma.fmax(a, b),
                              soma.fmin(a, b), soma.nan_to_num(_nan_where_negative(a)), soma.isclose(a, b)), [(3, 4), (3, 4)]),
    ("addmm outer", lambda a, b, c: (soma.addmm(a, b, c.mT, beta=0.5), soma.outer(b[0], c[0]),
                                     soma.addmv(a[0], b, c[0])), [(3, 3), (3, 4), (3, 4)]),
    ("products", lambda a, b: (soma.tensordot(a, b, ([1], [1])), soma.kron(a, b), soma.inner(a, b),
                               soma.cdist(a, b), soma.block_diag(a, b), soma.cartesian_prod(a[0], b[0])),
     [(2, 3), (2, 3)]),
    ("more products", lambda a, b: (soma.vdot(a[0], b[0]), soma.mv(a, b[0]), soma.addr(a, a[:, 0], b[0]),
                                    soma.addcmul(a, a, b, value=0.5), soma.addcdiv(a, a, b.exp()), soma.dist(a, b, 3)),
     [(3, 3), (3, 3)]),
    ("comparisons", lambda a, b: (soma.eq(a, b), soma.ne(a, 0.5), soma.le(a, b), soma.logical_xor(a > 0, b > 0),
                                  soma.bitwise_and(_t([6, 3]), _t([3, 5])), soma.bitwise_left_shift(_t([1, 2]), 2),
                                  soma.isposinf(_t([float("inf"), -float("inf")])), soma.isreal(a), soma.signbit(a),
                                  _t([soma.equal(a, a), soma.allclose(a, a + 1e-9)]), soma.isin(a, 0.5)),
     [(3, 3), (3, 3)]),
    ("aliases", lambda a, b: (soma.concatenate([a, b]), soma.fill(a * 1, 2.0), soma.scalar_tensor(3),
                              soma.rsub(a, b, alpha=2), soma.cross(a, b), soma.vander(a[0], 3),
                              _t(soma.is_nonzero(a[0, 0]))), [(3, 3), (3, 3)]),
    ("shapes", lambda a: (soma.unflatten(a, 1, (2, 3)), a.detach().view(soma.int64), soma.t(a),
                          soma.squeeze(a[None]), soma.flatten(a), soma.nn.functional.pad(a, (1, 1), mode="reflect")), [(2, 6)]),
    # einsum
    ("einsum matmul", lambda a, b: soma.einsum("ij,jk->ik", a, b), [(3, 4), (4, 2)]),
    ("einsum diagonal", lambda a: soma.einsum("ii->i", a), [(3, 3)]),
    ("einsum trace batch", lambda a, b: soma.einsum("bii,bj->bj", a, b), [(2, 3, 3), (2, 4)]),
    ("einsum outer sum", lambda a, b: soma.einsum("i,j->", a, b), [(3,), (4,)]),
    ("einsum broadcast", lambda a, b: soma.einsum("...ij,...jk", a, b), [(2, 3, 4), (4, 5)]),
    # factories with device= (the default device's, explicitly) and without (the default device)
    ("factories", lambda a: (soma.zeros(2, 3, device=_here()) + a[0], soma.ones((2,), dtype=soma.int64, device=_here()),
                             soma.full((2, 2), 1.5, device=_here()), soma.full((2,), a[0]) * a[1], soma.empty(2),
                             soma.eye(3, 2, device=_here()), soma.arange(1, 7, 2, device=_here()), soma.arange(0.5, 2),
                             soma.linspace(0, 1, 5, device=_here()), soma.logspace(0, 1, 3),
                             soma.tril_indices(3, 3, device=_here())), [(3,)]),
    ("factories like", lambda a: (soma.zeros_like(a), soma.ones_like(a, dtype=soma.int32), soma.full_like(a, 2) * a,
                                  soma.empty_like(a), soma.as_tensor([1.0, 2.0]), soma.tensor([[1, 2]])), [(3,)]),
    ("random factories", lambda a: (soma.manual_seed(0), soma.rand(2, device=_here()), soma.randn(3), soma.randint(5, (4,)),
                                    soma.randperm(4), soma.normal(a, 1.0), soma.normal(0.0, 1.0, (2,)),
                                    soma.rand_like(a), soma.randn_like(a), soma.randint_like(a, 3))[1:], [(3,)]),
    # random with a seed: drawn on the host, the same numbers on each device
    ("bernoulli", lambda a: (soma.manual_seed(0), soma.bernoulli(a.sigmoid()) * a)[1], [(3, 4)]),
    ("bernoulli p", lambda a: (soma.manual_seed(0), soma.bernoulli(a, 0.3))[1], [(3, 4)]),
    ("multinomial", lambda a: (soma.manual_seed(0), soma.multinomial(a.exp(), 3))[1], [(2, 4)]),
    ("multinomial replacement", lambda a: (soma.manual_seed(0), soma.multinomial(a.exp(), 5, True))[1], [(2, 4)]),
    ("poisson", lambda a: (soma.manual_seed(0), soma.poisson(a.exp()))[1], [(3, 4)]),
    ("in-place draws", lambda a: (soma.manual_seed(0), a.detach().clone().bernoulli_(0.3),
                                  a.detach().clone().bernoulli_(a.sigmoid().detach()), a.detach().clone().exponential_(),
                                  a.detach().clone().cauchy_(), a.detach().clone().log_normal_(),
                                  a.detach().clone().geometric_(0.5), a.detach().long().random_(0, 5))[1:], [(3, 4)]),
]


def _inputs(shapes, seed=11):
    rng = np.random.default_rng(seed)
    arrays = []
    for shape in shapes:
        if isinstance(shape, str):
            arrays.append(rng.uniform(0.5, 2.0, eval(shape[1:])))
        else:
            arrays.append(rng.standard_normal(shape))
    return arrays


@pytest.mark.parametrize("name, fn, shapes", CASES, ids=[c[0] for c in CASES])
def test_op_runs_on_the_strict_backend(strict_device, name, fn, shapes):
    assert_same_on_device(fn, _inputs(shapes), strict_device)


@pytest.mark.parametrize("name, fn", [("lgamma", soma.lgamma), ("digamma", soma.digamma),
                                      ("polygamma", lambda x: soma.polygamma(2, x)), ("i0", soma.i0),
                                      ("i1e", soma.special.i1e), ("erfcx", soma.special.erfcx),
                                      ("log_ndtr", soma.special.log_ndtr), ("erf", soma.erf),
                                      ("erfinv", soma.erfinv)])
def test_a_backend_refusing_scipy_kernels_gets_an_error_naming_op_and_device(strict_device, monkeypatch, name, fn):
    pytest.importorskip("scipy")
    own = strict.StrictArray.__array_ufunc__

    def numpy_ufuncs_only(self, ufunc, method, *inputs, **kwargs):  # as CuPy where cupyx has no such kernel
        if getattr(np, ufunc.__name__, None) is not ufunc:
            return NotImplemented
        return own(self, ufunc, method, *inputs, **kwargs)

    monkeypatch.setattr(strict.StrictArray, "__array_ufunc__", numpy_ufuncs_only)
    x = soma.rand(3, device=strict_device) * 0.5 + 0.25
    with pytest.raises(RuntimeError, match=rf"^{name}: .* device '{strict_device}:0' .*x\.cpu\(\)"):
        fn(x)
    assert np.isfinite(fn(x.cpu()).numpy()).all()  # the way out the message names


def test_an_in_place_change_of_a_saved_scatter_index_is_caught(strict_device):
    x = soma.randn(3, 4, dtype=soma.float64, device=strict_device, requires_grad=True)
    index = soma.tensor(_INDEX, device=strict_device)
    y = soma.scatter_add(x * 1, 0, index, x)
    index.zero_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
