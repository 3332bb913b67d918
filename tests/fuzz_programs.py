"""Differential fuzzing: random programs over minigrad's covered slice, run on torch and on an engine side by side,
with everything observable compared after every statement (tests/test_fuzz.py drives it).

A program is a list of `Statement`s. Each is abstract (a kind, a few small integers, a few numbers) and is
rendered to one line of Python against the live tensors of the torch run (an integer picks a tensor, a shape,
a spelling... modulo the number of choices), so deleting or simplifying statements always leaves a program
that runs. Programs are drawn from a seeded `random.Random` (program i of seed s alone reproduces it); `shrink`
removes statements, zeroes integers and drops numbers while the same kind of difference stays, then removes
rendered lines, and the failure prints what is left as a program that runs on both engines (`import torch`
or `import minigrad as torch`).

After every statement, for every live tensor (and its `.grad`), the engine must agree with torch on: the type
and message of an error (torch's message in minigrad's words, as tests/test_errors.py reads it) or the absence
of one, no warning torch does not give, dtype, shape, requires_grad, is_leaf, the grad_fn graph (node names by
`name()`, edges by `next_functions`, AccumulateGrad's variable by name, or the error torch gives for it),
`_version`, `repr`, `.grad`'s dtype, shape, flags and version, query results (`numel()`,
`size()`, `item()`...), and the values:

The value rule. Alongside each tensor the fuzz carries a shadow: its exact value (computed in float64 from the
inputs the engines were given), an absolute error bound B such that any engine that rounds each operation
correctly, and sums in any order, is within B of it, and a flag saying whether IEEE fixes the result to the
bit. B is propagated op by op (u: the result dtype's unit roundoff, γ_n = n·u/(1 − n·u), |.| elementwise):
- the inputs (factories, literals, a Python number converted to the tensor's dtype): exact, B = 0;
- a ± b: B_a + B_b + u·(|v| + B_a + B_b);  a·b: |a|·B_b + |b|·B_a + B_a·B_b, plus u·(|v| + that);
- a / b: (|a|·B_b + |b|·B_a) / (|b|·(|b| − B_b)) plus u·(|v| + that), infinite where |b| ≤ B_b;
- number ** a: the largest change of number ** x over [a − B_a, a + B_a], plus γ_2·|v| (library pow); for an
  integer a, torch's integer pow, exact (wrapping; a negative exponent gives 0);
- a ** n for n in 0, 1, 2, 3, -1, -2: the engines' products and quotients (x·x·x, 1 / (x·x)), as above; for
  other n, the largest change of x ** n over [|a| − B_a, |a| + B_a] (or (|a| + B_a)^n − |a|^n for n ≥ 0),
  plus γ_2·(|a| + B_a)^n (library pow, not correctly rounded: README);
- a sum of n terms: ΣB + γ_(n−1)·Σ(|a| + B) (NUMERICS.md); a mean adds 2u·|v| for its division;
- a matrix product: |A|·B_B + B_A·|B| + B_A·B_B + γ_k·(|A| + B_A)·(|B| + B_B), over the k products;
- a transpose or broadcast moves B with the values; a cast down to float32 adds u32·|v|;
- underflow: each rounding that may land in the subnormal range (a product, a quotient, a library pow) adds
  half the smallest subnormal, η (the standard model fl(x) = x·(1 + δ) + η); a sum needs none (a subnormal
  sum is exact);
- int64: exact, wrapping as torch's; where a value (or a sum's partial sum) reaches 2^53, beyond which float64
  loses an integer's last digits (and torch wraps at 2^63), B is infinite;
- overflow: where every value within B of v is beyond the dtype's largest finite value, the result is v's
  infinity (B = 0: a finite result would be further than B from v); where only some are, or where a partial
  sum or product may be (their signs may differ: inf − inf is nan), B is infinite.
backward propagates the same way through each node's gradient formula (torch's formulas, composed of the ops
above), including the unbroadcast sums, the casts to each input's dtype and the sums of contributions arriving
by several paths. The flag stays "exact" through elementwise ops on exact inputs and through a sum of two
gradient contributions (addition commutes); any reduction or matrix product (floating point), or three or more
contributions, clears it: the engines may add in different orders (and torch starts a sum at +0, so the sign
of a zero sum is free).
Exact values are compared to the bit (NaNs equal, zero signs must agree); the others within 2B of each other
(both engines within B of the exact value), and torch within 2B of the shadow's float64 value, which checks
the shadow itself. Where B is infinite or NaN (an input was inf, a divisor within its bound of zero), the
value is unconstrained; non-finite results must still agree in kind (both nan, or the same infinity).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import random
import re
import warnings
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any, NoReturn

import numpy as np
import numpy.typing as npt
from test_errors import in_minigrads_words  # torch's message as minigrad words it: one rule for all tests

import minigrad

Array = npt.NDArray[Any]
UNIT_ROUNDOFF = {"float32": 2.0**-24, "float64": 2.0**-53, "int64": 0.0}
# the absolute error a rounding into the subnormal range may add: half the smallest subnormal (float64's half
# is not a float64: its smallest subnormal instead)
UNDERFLOW = {"float32": 2.0**-150, "float64": 2.0**-1074, "int64": 0.0}
LARGEST = {"float32": float(np.finfo(np.float32).max), "float64": float(np.finfo(np.float64).max)}
INT64_EXACT = 2.0**53  # float64 holds every integer below it exactly


# ================================================================ the shadow: exact value, bound, exactness
@dataclasses.dataclass(frozen=True)
class Q:
    """A quantity's float64 value `v`, absolute bound `b` on any engine's error, whether `exact` (IEEE fixes
    it to the bit), and the dtype (its name) the engines hold it in."""

    v: Array
    b: Array
    exact: bool
    dtype: str

    @property
    def u(self) -> float:
        return UNIT_ROUNDOFF[self.dtype]

    @property
    def top(self) -> Array:
        """The largest magnitude the exact value, or any engine's, can have."""
        return np.abs(self.v) + self.b


def given_values(values: Any, dtype: str) -> Q:
    v = np.array(values, dtype=np.float64)
    return Q(v, np.zeros_like(v), True, dtype)


def gamma(n: int, u: float) -> float:
    return n * u / (1 - n * u)


def rounded(v: Array, carried: Array, exact: bool, dtype: str) -> Q:
    """The result of one correctly rounded operation: the carried input error plus u·(|v| + carried), plus
    half the smallest subnormal where it underflows."""
    u = UNIT_ROUNDOFF[dtype]
    with np.errstate(all="ignore"):
        return overflowed(Q(v, carried + u * (np.abs(v) + carried) + UNDERFLOW[dtype], exact, dtype))


def overflowed(q: Q, reach: Array | None = None) -> Q:
    """IEEE overflow: a float result beyond the dtype's largest finite value is ±inf. For one rounded result
    (`reach` None): where every value within B of v is beyond it, the engines' result is v's infinity (a finite one
    would be more than B from v: IEEE fixes it, B = 0); where only some are, it may be either (B infinite).
    For a sum or matrix product, whose partial sums may overflow with either sign (and inf − inf is nan):
    B is infinite wherever `reach`, the largest magnitude a partial sum can have, is beyond it."""
    if q.dtype == "int64":  # no overflow to inf; beyond 2^53 the float64 shadow loses an integer's last digits
        lost = (np.abs(q.v) + q.b if reach is None else reach) >= INT64_EXACT  # (and torch's wrap-around at 2^63)
        return Q(q.v, np.where(lost, np.inf, q.b), q.exact, q.dtype) if np.any(lost) else q
    largest = LARGEST[q.dtype]
    with np.errstate(all="ignore"):
        certain = np.abs(q.v) - q.b > largest if reach is None else False
        reach = np.abs(q.v) + q.b if reach is None else reach
        if not np.any(reach > largest):
            return q  # the common case
        v = np.where(certain, np.copysign(np.inf, q.v), q.v)
        b = np.where(certain, 0.0, np.where(reach > largest, np.inf, q.b))
    return Q(v, b, q.exact, q.dtype)


def cast(q: Q, dtype: str) -> Q:
    if dtype == q.dtype:
        return q
    if dtype == "int64":
        raise AssertionError("no op casts a float to int64")
    if dtype == "float32" and q.dtype == "float64":
        q = rounded(q.v, q.b, q.exact, dtype)
    with np.errstate(all="ignore"):
        v = q.v.astype(dtype).astype(np.float64)  # the engines round to the narrower type
    return Q(v, q.b, q.exact, dtype)


def add(a: Q, b: Q, sign: float = 1.0) -> Q:
    with np.errstate(all="ignore"):
        return rounded(a.v + sign * b.v, a.b + b.b, a.exact and b.exact, a.dtype)


def mul(a: Q, b: Q) -> Q:
    with np.errstate(all="ignore"):
        carried = np.abs(a.v) * b.b + np.abs(b.v) * a.b + a.b * b.b
        return rounded(a.v * b.v, np.nan_to_num(carried, nan=np.inf), a.exact and b.exact, a.dtype)


def div(a: Q, b: Q) -> Q:
    with np.errstate(all="ignore"):
        v = a.v / b.v
        room = np.abs(b.v) - b.b
        carried = np.where(room > 0, (np.abs(a.v) * b.b + np.abs(b.v) * a.b) / (np.abs(b.v) * room), np.inf)
        carried = np.where((a.b == 0) & (b.b == 0), 0.0, carried)
        return rounded(v, carried, a.exact and b.exact, a.dtype)


def neg(a: Q) -> Q:
    return Q(-a.v, a.b, a.exact, a.dtype)


EXACT_POWERS = (0, 1, 2, 3, -1, -2)  # computed by both engines with correctly rounded + * / only


def power(a: Q, n: float) -> Q:
    """`a ** n`, n a Python number (int or float). The exact powers are the engines' products and quotients
    (x ** 3 is x·x·x, x ** -2 is 1 / (x·x)), each rounded as above."""
    if n in EXACT_POWERS:
        one = given_values(np.ones_like(a.v), a.dtype)
        square = mul(a, a) if n in (2, 3, -2) else one
        return {0: one, 1: a, 2: square, 3: mul(square, a), -1: div(one, a), -2: div(one, square)}[int(n)]
    with np.errstate(all="ignore"):
        v = np.power(a.v, float(n))
        lo, hi = np.maximum(np.abs(a.v) - a.b, 0.0), np.abs(a.v) + a.b
        if n >= 0 and float(n).is_integer():
            change = hi**n - np.abs(a.v) ** n
        else:  # monotone on an interval that does not reach 0; unbounded if it does
            ends = np.maximum(np.abs(np.power(lo, n) - np.abs(v)), np.abs(np.power(hi, n) - np.abs(v)))
            change = np.where((lo > 0) | (a.b == 0), ends, np.inf)
        change = np.where(a.b == 0, 0.0, np.nan_to_num(change, nan=np.inf))
        size = np.where(np.isfinite(v), np.abs(v), 0.0) + change
        bound = change + gamma(2, a.u) * size + 2 * UNDERFLOW[a.dtype]
        return overflowed(Q(v, bound, False, a.dtype))


def exp_base(base: float, a: Q) -> Q:
    """`base ** a` for a Python number base: library pow (not correctly rounded: 2 roundings' allowance)
    plus the largest change over [a − B, a + B] (exp is monotone in a). For an integer `a` (base an int),
    torch's integer pow: products that wrap, and a negative exponent's fraction truncated (to 0 for |base| > 1)."""
    if a.dtype == "int64":
        exponent = a.v.astype(np.int64)
        with np.errstate(all="ignore"):
            wrapped = np.power(np.int64(base), np.maximum(exponent, 0)).astype(np.float64)
            fraction = np.trunc(float(base) ** exponent.astype(np.float64)) + 0.0  # + 0.0: no negative zero
        return overflowed(given_values(np.where(exponent >= 0, wrapped, fraction), "int64"))
    with np.errstate(all="ignore"):
        v = np.power(float(base), a.v)
        change = np.maximum(np.abs(np.power(float(base), a.v + a.b) - v), np.abs(np.power(float(base), a.v - a.b) - v))
        change = np.where(a.b == 0, 0.0, np.nan_to_num(change, nan=np.inf))
        allowance = gamma(2, a.u) * (np.abs(v) + change) + 2 * UNDERFLOW[a.dtype]
        return overflowed(Q(v, change + allowance, False, a.dtype))


def reduce_sum(a: Q, dims: tuple[int, ...], keepdim: bool) -> Q:
    n = int(np.prod([a.v.shape[d] for d in dims])) if dims else 1
    with np.errstate(all="ignore"):
        v = a.v.sum(axis=dims, keepdims=keepdim)
        reach = a.top.sum(axis=dims, keepdims=keepdim)
        bound = a.b.sum(axis=dims, keepdims=keepdim) + gamma(max(n - 1, 0), a.u) * reach
    return overflowed(Q(np.asarray(v), np.asarray(bound), a.exact and a.dtype == "int64", a.dtype), reach + bound)


def reduce_mean(a: Q, dims: tuple[int, ...], keepdim: bool) -> Q:
    n = int(np.prod([a.v.shape[d] for d in dims])) if dims else 1
    total = reduce_sum(a, dims, keepdim)
    with np.errstate(all="ignore"):
        v, carried = total.v / n, total.b / n
        return Q(v, carried + 2 * a.u * (np.abs(v) + carried) + UNDERFLOW[a.dtype], False, a.dtype)


def permute(a: Q, axes: Sequence[int]) -> Q:
    return Q(a.v.transpose(axes), a.b.transpose(axes), a.exact, a.dtype)


def expand(a: Q, shape: tuple[int, ...]) -> Q:
    return Q(np.broadcast_to(a.v, shape), np.broadcast_to(a.b, shape), a.exact, a.dtype)


def unbroadcast(g: Q, shape: tuple[int, ...]) -> Q:
    """A broadcast input's gradient: g summed over the dims broadcasting added or stretched."""
    if g.v.shape == shape:
        return g
    leading = g.v.ndim - len(shape)
    stretched = tuple(leading + i for i, n in enumerate(shape) if n == 1 and g.v.shape[leading + i] != 1)
    summed = reduce_sum(g, tuple(range(leading)) + stretched, keepdim=True)
    return Q(summed.v.reshape(shape), summed.b.reshape(shape), summed.exact, summed.dtype)


def matmul(a: Q, b: Q) -> Q:
    """torch.matmul's 1-D and 2-D cases, with the dot-product bound over k products."""
    k = a.v.shape[-1]
    with np.errstate(all="ignore"):
        v = np.matmul(a.v, b.v)
        carried = np.matmul(np.abs(a.v), b.b) + np.matmul(a.b, np.abs(b.v)) + np.matmul(a.b, b.b)
        reach = np.matmul(a.top, b.top)
        bound = carried + gamma(k, a.u) * reach + k * UNDERFLOW[a.dtype]  # each product may underflow
    return overflowed(Q(np.asarray(v), np.asarray(bound), a.dtype == "int64", a.dtype), reach + bound)


def outer(a: Q, b: Q) -> Q:
    column = Q(a.v[:, None], a.b[:, None], a.exact, a.dtype)
    row = Q(b.v[None, :], b.b[None, :], b.exact, b.dtype)
    product = mul(column, row)
    return dataclasses.replace(product, exact=False)  # torch's ger may start from a zeroed output (+0)


def zeros(shape: tuple[int, ...], dtype: str) -> Q:
    return given_values(np.zeros(shape), dtype)


def total(contributions: list[Q]) -> Q:
    """Gradient contributions arriving by several paths: exact for two (addition commutes), not for more."""
    result = contributions[0]
    for q in contributions[1:]:
        result = add(result, q)
    return dataclasses.replace(result, exact=result.exact and len(contributions) <= 2)


# ================================================================ the shadow graph (functional, float64)
@dataclasses.dataclass(eq=False)
class Node:
    """One recorded op: `backward(g)` gives each input's gradient contribution (None: no gradient)."""

    inputs: tuple[Handle | None, ...]
    backward: Callable[[Q], tuple[Q | None, ...]]


@dataclasses.dataclass(eq=False)
class Var:
    """The shadow of one engine tensor: its quantity, the node that made it (None for a leaf or a no-grad
    result), its storage (shared by views and detach), its axes within the layout of the storage's first
    tensor, and for a view the tensor it is a view of (torch's `_base`: a view of a view has its base's)."""

    q: Q
    torch: Any  # the torch tensor it shadows (for its flags at backward time)
    node: Node | None = None
    grad: Q | None = None
    storage: list[Var] = dataclasses.field(default_factory=list)
    axes: tuple[int, ...] = ()
    base: Var | None = None

    def __post_init__(self) -> None:
        if not self.storage:
            self.storage.append(self)
            self.axes = tuple(range(self.q.v.ndim))


Handle = Node | Var  # where a gradient goes: a node, or a leaf's accumulator
Before = dict[str, tuple[bool, Any]]  # each tensor's requires_grad and grad_fn before a statement


def requires(before: Before, name: str) -> bool:
    return name in before and before[name][0]


def handle(var: Var, requires_grad: bool) -> Handle | None:
    if not requires_grad:
        return None
    return var.node if var.node is not None else var


def run_backward(root: Handle, grad: Q) -> dict[int, Q]:
    """The shadow's backward: each node once all contributions have arrived; returns what reaches each leaf
    (by id of its Var)."""
    dependencies: dict[int, int] = {}
    stack, seen = [root], {id(root)}
    while stack:
        here = stack.pop()
        for child in here.inputs if isinstance(here, Node) else ():
            if child is not None:
                dependencies[id(child)] = dependencies.get(id(child), 0) + 1
                if id(child) not in seen:
                    seen.add(id(child))
                    stack.append(child)
    pending: dict[int, list[Q]] = {id(root): [grad]}
    ready: list[Handle] = [root]
    reached: dict[int, Q] = {}
    while ready:
        here = ready.pop()
        arrived = pending.pop(id(here), None)
        if isinstance(here, Var):
            if arrived:
                reached[id(here)] = total(arrived)
            continue
        outs = here.backward(total(arrived)) if arrived else (None,) * len(here.inputs)
        for child, out in zip(here.inputs, outs, strict=True):
            if child is None:
                continue
            if out is not None:
                pending.setdefault(id(child), []).append(out)
            dependencies[id(child)] -= 1
            if dependencies[id(child)] == 0:
                ready.append(child)
    return reached


# ================================================================ statements and their rendering
@dataclasses.dataclass(frozen=True)
class Statement:
    """Abstract: which kind, and the integers and numbers its rendering picks from."""

    kind: str
    picks: tuple[int, ...]
    numbers: tuple[float, ...]


NUMBERS = [0.0, 1.0, -1.0, 2.0, 0.5, 3.0, -2.5, 0.1, 1 / 3, 7.25, -0.0, 1e-3, 1e4]
KINDS = (
    ["create"] * 4
    + ["factory"] * 2
    + ["binary"] * 6
    + ["unary"] * 2
    + ["reduce"] * 2
    + ["view"] * 2
    + ["matmul"] * 2
    + ["in_place"] * 4
    + ["detach", "requires_grad", "zero_grad", "query"]
    + ["backward"] * 3
)
MAX_STATEMENTS = 20


def draw_program(rng: random.Random) -> list[Statement]:
    """A random program: two tensors made, random statements, a backward (MAX_STATEMENTS in all). Numbers:
    half from NUMBERS (exact and rounding values, signed zeros, a large one), half uniform in [-10, 10]."""

    def number() -> float:
        return rng.choice(NUMBERS) if rng.random() < 0.5 else float(np.float32(rng.uniform(-10, 10)))

    def statement(kind: str) -> Statement:
        return Statement(
            kind, tuple(rng.randrange(256) for _ in range(8)), tuple(number() for _ in range(rng.randrange(7)))
        )

    middle = [statement(rng.choice(KINDS)) for _ in range(rng.randint(1, MAX_STATEMENTS - 3))]
    return [statement("create"), statement("create"), *middle, statement("backward")]


SHAPES = [(), (3,), (2, 3), (1,), (2,), (3, 2), (1, 3), (2, 1), (3, 3), (2, 2, 3), (2, 1, 3)]
DTYPES = ["float32", "float64", "float32", "int64"]  # int64 less often: it stops gradients


class Picker:
    """Draws choices from a statement's integers in order (each modulo the number of choices)."""

    def __init__(self, statement: Statement) -> None:
        self.picks, self.numbers, self.at = statement.picks, statement.numbers, 0

    def index(self, n: int) -> int:
        value = self.picks[self.at % len(self.picks)] + self.at // len(self.picks)
        self.at += 1
        return value % n

    def choice(self, options: Sequence[Any]) -> Any:
        return options[self.index(len(options))]

    def chance(self, one_in: int) -> bool:
        return self.index(one_in) == one_in - 1  # rare options come last, so shrinking removes them

    def number(self, i: int) -> float:
        return self.numbers[i % len(self.numbers)] if self.numbers else 0.0


def literal(number: float, dtype: str) -> str:
    if dtype == "int64":
        return str(int(np.clip(round(number), -(2**20), 2**20)))
    return repr(float(number)) if np.isfinite(number) else f"float('{number}')"


def nested(shape: tuple[int, ...], pick: Picker, dtype: str) -> str:
    flat = [literal(pick.number(i), dtype) for i in range(int(np.prod(shape)))]
    if not shape:
        return flat[0]

    def build(dims: tuple[int, ...], items: list[str]) -> str:
        if len(dims) == 1:
            return "[" + ", ".join(items) + "]"
        step = len(items) // dims[0]
        return "[" + ", ".join(build(dims[1:], items[i * step : (i + 1) * step]) for i in range(dims[0])) + "]"

    return build(shape, flat)


@dataclasses.dataclass
class Env:
    """The torch run's live tensors by name (the rendering reads their shapes, dtypes and flags)."""

    tensors: dict[str, Any]
    count: int = 0

    def new(self) -> str:
        self.count += 1
        return f"t{self.count - 1}"

    def names(self, where: Callable[[Any], bool] = lambda t: True) -> list[str]:
        return [name for name, t in self.tensors.items() if where(t)]


@dataclasses.dataclass
class Line:
    """One rendered statement: its source, the name it binds (if any), and what the shadow does if torch
    runs it without error."""

    source: str
    binds: str | None
    shadow: Callable[[Shadow, Before], None] | None


def CREATE(shadow: Shadow, before: Before) -> None:  # noqa: N802 - a marker: the new tensor's values are given
    raise AssertionError("bound by Shadow.bind_created")


def no_grad_wrapped(pick: Picker, source: str) -> tuple[str, bool]:
    if pick.chance(4):
        return f"with torch.no_grad(): {source}", True
    return source, False


def broadcasts(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    return all(x == y or 1 in (x, y) for x, y in zip(a[::-1], b[::-1], strict=False))


BINARY = {"+": "add", "-": "sub", "*": "mul", "/": "div"}
SPELLED = {"add": "+", "sub": "-", "mul": "*", "div": "/"}


def operand(env: Env, pick: Picker, first: str) -> str:
    """A second operand for `first`: mostly a tensor it broadcasts with, sometimes a number or any tensor."""
    shape = tuple(env.tensors[first].shape)
    if pick.chance(6):
        return first  # x op x: one tensor reached by two edges
    if pick.chance(3):
        number: float = pick.choice([2, -3, 0, 1, 2.5, 0.1, 1 / 3, -0.5, 1e4, 2**64])
        return repr(number)
    fitting = env.names(lambda t: broadcasts(shape, tuple(t.shape)))
    return str(pick.choice(env.names() if pick.chance(8) else fitting))


def is_name(text: str) -> bool:
    return re.fullmatch(r"t\d+", text) is not None


def render(statement: Statement, env: Env, spellings: set[str]) -> Line | None:
    """The statement's line of Python for the current tensors (None: nothing it applies to yet)."""
    pick = Picker(statement)
    kind = statement.kind
    names = env.names()
    if kind == "create":
        shape, dtype = pick.choice(SHAPES), pick.choice(DTYPES)
        requires = dtype != "int64" and not pick.chance(3)
        args = [nested(shape, pick, dtype)]
        if dtype != "float32" or pick.chance(2):
            args.append(f"dtype=torch.{dtype}")
        if requires:
            args.append("requires_grad=True")
        name = env.new()
        return Line(f"{name} = torch.tensor({', '.join(args)})", name, CREATE)
    if kind == "factory":
        name = env.new()
        form = pick.choice(["zeros", "ones", "zeros_like", "ones_like"] if names else ["zeros", "ones"])
        dtype = pick.choice([None, "float32", "float64", "int64"])
        extra = "" if dtype is None else f", dtype=torch.{dtype}"
        if dtype != "int64" and pick.chance(3):
            extra += ", requires_grad=True"
        if form.endswith("_like"):
            source = f"torch.{form}({pick.choice(names)}{extra})"
        else:
            shape = pick.choice(SHAPES)
            sizes = ", ".join(map(str, shape)) if pick.chance(2) and shape else repr(tuple(shape))
            source = f"torch.{form}({sizes}{extra})"
        return Line(f"{name} = {source}", name, CREATE)
    if not names:
        return None
    # mostly a tensor in the graph (requiring grad; for backward, with a grad_fn), else any
    wanted = env.names(
        {
            "backward": lambda t: grad_fn(t) is not None,
            "in_place": lambda t: not (observe(t, "is_leaf") is True and t.requires_grad),  # writable with grad mode on
        }.get(kind, lambda t: t.requires_grad)
    )
    first = pick.choice(wanted if wanted and not pick.chance(6) else names)
    if kind == "binary":
        op = pick.choice(list(BINARY))
        other = operand(env, pick, first)
        spelling = pick.choice(["operator", "reversed", "method", "function", "alpha"])
        alpha = None
        if spelling == "reversed" and not is_name(other):
            expression = f"{other} {op} {first}"
        elif spelling == "method" and "method " + BINARY[op] in spellings:
            expression = f"{first}.{BINARY[op]}({other})"
        elif spelling == "function" and "function " + BINARY[op] in spellings:
            expression = f"torch.{BINARY[op]}({first}, {other})"
        elif spelling == "alpha" and op in "+-" and "alpha" in spellings:
            alpha = pick.choice([2, -1, 0.5])
            expression = f"{first}.{BINARY[op]}({other}, alpha={alpha})"
        else:
            expression = f"{first} {op} {other}"
        reversed_ = expression.startswith(other) and not is_name(other)
        name = env.new()
        source, quiet = no_grad_wrapped(pick, f"{name} = {expression}")
        return Line(source, name, Shadow.binary_op(name, BINARY[op], first, other, reversed_, alpha, quiet))
    if kind == "unary":
        form = pick.choice(["neg", "pow", "neg method", "pow method", "neg function", "pow function", "rpow"])
        exponent = pick.choice([2, 3, 1, 0, -1, -2, 2.0, 0.5, 1.5])
        base = pick.choice([2, 0.5, 3.0, -2.0])
        expression = {
            "rpow": f"({base}) ** {first}" if base < 0 else f"{base} ** {first}",
            "neg": f"-{first}",
            "pow": f"{first} ** {exponent}",
            "neg method": f"{first}.neg()",
            "pow method": f"{first}.pow({exponent})",
            "neg function": f"torch.neg({first})",
            "pow function": f"torch.pow({first}, {exponent})",
        }[form]
        if form.split(" ")[-1] in ("method", "function") and " ".join(form.split(" ")[::-1]) not in spellings:
            expression = f"-{first}" if form.startswith("neg") else f"{first} ** {exponent}"
        name = env.new()
        source, quiet = no_grad_wrapped(pick, f"{name} = {expression}")
        op = "neg" if form.startswith("neg") else ("rpow", base) if form == "rpow" else exponent
        action = Shadow.unary_op(name, first, op, quiet)
        return Line(source, name, action)
    if kind == "reduce":
        op = pick.choice(["sum", "mean"])
        ndim = max(env.tensors[first].dim(), 1)
        dim: Any = pick.choice([None, 0, -1, 1, (0, 1), (0, -1), (), 2])
        if isinstance(dim, int) and pick.chance(2):
            dim = dim % ndim if dim < ndim else dim
        keepdim = pick.chance(3)
        args = [] if dim is None else [repr(dim)]
        if keepdim:
            args.append("keepdim=True" if dim is not None else "dim=None, keepdim=True")
        if pick.chance(3):
            expression = f"torch.{op}({', '.join([first, *args])})"
        else:
            expression = f"{first}.{op}({', '.join(args)})"
        name = env.new()
        source, quiet = no_grad_wrapped(pick, f"{name} = {expression}")
        return Line(source, name, Shadow.reduce_op(name, op, first, dim, keepdim, quiet))
    if kind == "view":
        form = pick.choice(["t()", "T", "transpose", "torch.t", "torch.transpose"])
        d0, d1 = pick.choice([0, 1, -1, 0, 1, 2]), pick.choice([1, 0, -2, -1, 1, 0])
        if form.startswith("torch.") and "function " + form[6:] not in spellings:
            form = form[6:] if form == "torch.transpose" else "t()"
        expression = {
            "t()": f"{first}.t()",
            "T": f"{first}.T",
            "transpose": f"{first}.transpose({d0}, {d1})",
            "torch.t": f"torch.t({first})",
            "torch.transpose": f"torch.transpose({first}, {d0}, {d1})",
        }[form]
        ndim = env.tensors[first].dim()
        if form in ("t()", "torch.t", "T"):
            axes = tuple(reversed(range(ndim)))
        else:
            axes_list = list(range(ndim))
            if ndim and all(-ndim <= d < ndim for d in (d0, d1)):
                axes_list[d0 % ndim], axes_list[d1 % ndim] = axes_list[d1 % ndim], axes_list[d0 % ndim]
            axes = tuple(axes_list)
        name = env.new()
        source, quiet = no_grad_wrapped(pick, f"{name} = {expression}")
        return Line(source, name, Shadow.view_op(name, first, axes, quiet))
    if kind == "matmul":
        low = env.names(lambda t: 1 <= t.dim() <= 2)
        if not low:
            return None
        first = pick.choice(low)
        inner = env.tensors[first].shape[-1]
        fitting = env.names(lambda t: 1 <= t.dim() <= 2 and t.shape[0] == inner)
        up_to_2d = env.names(lambda t: t.dim() <= 2)  # matmul beyond 2-D is out of scope (README)
        other = pick.choice(up_to_2d if pick.chance(6) or not fitting else fitting)
        form = pick.choice(["@", "matmul", "torch.matmul", "mm", "torch.mm", "mv", "dot"])
        if form in ("mv", "dot") and f"method {form}" not in spellings:
            form = "@"
        expression = {
            "@": f"{first} @ {other}",
            "matmul": f"{first}.matmul({other})",
            "torch.matmul": f"torch.matmul({first}, {other})",
            "mm": f"{first}.mm({other})",
            "torch.mm": f"torch.mm({first}, {other})",
            "mv": f"{first}.mv({other})",
            "dot": f"{first}.dot({other})",
        }[form]
        name = env.new()
        source, quiet = no_grad_wrapped(pick, f"{name} = {expression}")
        return Line(source, name, Shadow.matmul_op(name, first, other, quiet))
    if kind == "in_place":
        op = pick.choice([*BINARY, "zero_", "neg_", "**="])
        if op == "zero_" or (op == "neg_" and "method neg_" in spellings):
            source, quiet = no_grad_wrapped(pick, f"{first}.{op}()")
            return Line(source, None, Shadow.in_place_op(first, op.rstrip("_") if op == "neg_" else op, None, quiet))
        if op in ("neg_", "**=") and "in-place pow" not in spellings:
            op = "*"
        if op == "**=":
            exponent = pick.choice([2, 3, -1, 0.5])
            source, quiet = no_grad_wrapped(pick, f"{first} **= {exponent}")
            return Line(source, None, Shadow.in_place_op(first, "**", exponent, quiet))
        other = operand(env, pick, first)
        statement_text = f"{first} {op}= {other}"
        if pick.chance(3):
            statement_text = f"{first}.{BINARY[op]}_({other})"
        source, quiet = no_grad_wrapped(pick, statement_text)
        return Line(source, None, Shadow.in_place_op(first, BINARY[op], other, quiet))
    if kind == "detach":
        name = env.new()
        return Line(f"{name} = {first}.detach()", name, Shadow.detach_op(name, first))
    if kind == "requires_grad":
        form = pick.choice(["requires_grad_()", "requires_grad_(False)", "requires_grad = True"])
        return Line(f"{first}.{form}", None, Shadow.requires_grad_op(first))
    if kind == "zero_grad":
        with_grad = env.names(lambda t: leaf_grad(t) is not None)
        if not with_grad:
            return None
        target = pick.choice(with_grad)
        if pick.chance(3):
            return Line(f"{target}.grad = None", None, Shadow.grad_none(target))
        return Line(f"{target}.grad.zero_()", None, Shadow.grad_zero(target))
    if kind == "query":
        form = pick.choice(
            ["item()", "tolist()", "shape", "size()", "dim()", "numel()", "len", "size(0)", "numpy()", "size(-1)"]
        )
        expression = f"len({first})" if form == "len" else f"{first}.{form}"
        return Line(f"r = {expression}", "r", Shadow.query(first))
    if kind == "backward":
        root = first
        arguments: list[str] = []
        shape = tuple(env.tensors[root].shape)
        gradient: str | None = None
        if pick.chance(3) or env.tensors[root].numel() != 1:
            same = env.names(lambda t: tuple(t.shape) == shape and t.dtype == env.tensors[root].dtype)
            gradient = pick.choice(same) if same and not pick.chance(3) else f"torch.ones_like({root})"
            # a fresh tensor: torch may keep the gradient reaching a leaf without a copy, so .grad could
            # share memory with the tensor passed here (out of scope, README)
            arguments.append(f"{gradient}.detach() * 1" if is_name(gradient) else gradient)
        if pick.chance(2):
            arguments.append("retain_graph=True")
        return Line(f"{root}.backward({', '.join(arguments)})", None, Shadow.backward_op(root, gradient))
    raise AssertionError(kind)


# ================================================================ the shadow interpreter
def dims_of(dim: Any, ndim: int) -> tuple[int, ...]:
    if dim is None or dim == ():
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    return tuple(d % max(ndim, 1) for d in dims) if ndim else ()


class Shadow:
    """The shadow run: a Var per engine tensor name, updated by each statement that torch ran without error."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.vars: dict[str, Var] = {}
        self.reached: set[str] | None = None  # the leaves a backward that failed part-way reached (names)

    def torch_of(self, name: str) -> Any:
        return self.env.tensors[name]

    def value(self, name: str) -> Var:
        return self.vars[name]

    def operand_q(self, text: str, dtype: str) -> tuple[Q, Var | None]:
        if is_name(text):
            var = self.vars[text]
            return cast(var.q, dtype), var
        number = eval(text)  # a Python number: the engines convert it to the result's dtype first
        return given_values(np.array(number).astype(dtype), dtype), None

    def result(self, name: str, q: Q, inputs: Sequence[tuple[Var | None, bool]], backward: Any, quiet: bool) -> Var:
        out = self.torch_of(name)
        q = dataclasses.replace(q, dtype=str(out.dtype).removeprefix("torch."))
        var = Var(q, out)
        if out.requires_grad and grad_fn(out) is not None and not quiet:
            # torch's edges say which inputs a gradient reaches (none, say, for a view made under no_grad that
            # requires grad only through its base)
            edges = [child is not None for child, _ in out.grad_fn.next_functions]
            if len(edges) != len(inputs):
                edges = [True] * len(inputs)
            var.node = Node(
                tuple(
                    None if v is None else handle(v, flag and edge)
                    for (v, flag), edge in zip(inputs, edges, strict=True)
                ),
                backward,
            )
        self.vars[name] = var
        return var

    # -------------------------------------------------------- statements
    def bind_created(self, name: str) -> None:
        t = self.torch_of(name)
        self.vars[name] = Var(given_values(t.detach().numpy(), str(t.dtype).removeprefix("torch.")), t)

    @staticmethod
    def binary_op(name: str, op: str, first: str, other: str, reversed_: bool, alpha: Any, quiet: bool) -> Any:
        def run(shadow: Shadow, before: Before) -> None:
            dtype = str(shadow.torch_of(name).dtype).removeprefix("torch.")
            a, var_a = shadow.operand_q(first, dtype)
            b, var_b = shadow.operand_q(other, dtype)
            if alpha is not None:
                b = mul(b, given_values(np.array(alpha).astype(dtype), dtype))
            q, backward = binary(op, a, b, reversed_, shadow, first, other, dtype, alpha)
            if alpha is not None and not is_name(other):  # torch's own last bit varies here (README)
                q = dataclasses.replace(q, exact=False)
            inputs = [(var_a, requires(before, first)), (var_b, requires(before, other))]
            if reversed_ and op in ("sub", "div"):  # recorded with the tensor as the one input
                inputs = inputs[:1]
            shadow.result(name, q, inputs, backward, quiet)

        return run

    @staticmethod
    def unary_op(name: str, first: str, op: Any, quiet: bool) -> Any:
        def run(shadow: Shadow, before: Before) -> None:
            dtype = str(shadow.torch_of(name).dtype).removeprefix("torch.")
            var = shadow.vars[first]
            q, backward = unary(op, cast(var.q, dtype))
            shadow.result(name, q, [(var, requires(before, first))], backward, quiet)

        return run

    @staticmethod
    def reduce_op(name: str, op: str, first: str, dim: Any, keepdim: bool, quiet: bool) -> Any:
        def run(shadow: Shadow, before: Before) -> None:
            var = shadow.vars[first]
            a = var.q
            dims = dims_of(dim, a.v.ndim)
            q = (reduce_sum if op == "sum" else reduce_mean)(a, dims, keepdim)
            shape, count = a.v.shape, int(np.prod([a.v.shape[d] for d in dims])) if dims else 1

            def backward(g: Q) -> tuple[Q | None, ...]:
                kept = g if keepdim else Q(np.expand_dims(g.v, dims), np.expand_dims(g.b, dims), g.exact, g.dtype)
                spread = expand(kept, shape)
                if op == "mean":
                    spread = div(spread, given_values(np.array(float(count)), g.dtype))
                return (spread,)

            shadow.result(name, q, [(var, requires(before, first))], backward, quiet)

        return run

    @staticmethod
    def view_op(name: str, first: str, axes: tuple[int, ...], quiet: bool) -> Any:
        def run(shadow: Shadow, before: Before) -> None:
            var = shadow.vars[first]
            before_axes = var.axes
            q = permute(var.q, axes)
            inverse = tuple(np.argsort(axes))

            def backward(g: Q) -> tuple[Q | None, ...]:
                return (permute(g, inverse),)

            out = shadow.result(name, q, [(var, requires(before, first))], backward, quiet)
            out.storage, out.base = var.storage, var.base or var
            out.axes = tuple(before_axes[i] for i in axes)
            var.storage.append(out)

        return run

    @staticmethod
    def matmul_op(name: str, first: str, other: str, quiet: bool) -> Any:
        def run(shadow: Shadow, before: Before) -> None:
            var_a, var_b = shadow.vars[first], shadow.vars[other]
            a, b = var_a.q, var_b.q
            q = matmul(a, b)

            def backward(g: Q) -> tuple[Q | None, ...]:
                return matmul_gradients(a, b, g)

            shadow.result(
                name, q, [(var_a, requires(before, first)), (var_b, requires(before, other))], backward, quiet
            )

        return run

    @staticmethod
    def in_place_op(target: str, op: str, other: Any, quiet: bool) -> Any:
        def run(shadow: Shadow, before: Before) -> None:
            var = shadow.vars[target]
            dtype = var.q.dtype
            t = shadow.torch_of(target)
            old_handle = handle(var, requires(before, target))
            inputs: tuple[Handle | None, ...]
            if op in ("zero_", "neg", "**"):
                q, backward = unary(op if op != "**" else other, var.q)
                inputs = (old_handle,)
            else:
                result_dtype = binary_dtype(shadow, target, other)
                a, _ = shadow.operand_q(target, result_dtype)
                b, var_b = shadow.operand_q(other, result_dtype)
                q, backward = binary(op, a, b, False, shadow, target, other, result_dtype, None)
                q = cast(q, dtype)
                inputs = (old_handle, None if var_b is None else handle(var_b, requires(before, other)))
            q = dataclasses.replace(q, dtype=dtype)
            # torch recorded the op (under no_grad, a view's grad_fn may still change: to AsStrided, see write)
            recorded = not quiet and grad_fn(t) is not None and grad_fn(t) is not before[target][1]
            write(shadow, var, q, Node(inputs, backward) if recorded else None, before)

        return run

    @staticmethod
    def detach_op(name: str, first: str) -> Any:
        def run(shadow: Shadow, before: Before) -> None:
            var = shadow.vars[first]
            out = Var(var.q, shadow.torch_of(name), storage=var.storage, axes=var.axes)
            var.storage.append(out)
            shadow.vars[name] = out

        return run

    @staticmethod
    def requires_grad_op(target: str) -> Any:
        def run(shadow: Shadow, before: Before) -> None:
            # flags are read from torch; a view whose base comes to require grad gets a history (AsStrided)
            reroot_views(shadow, shadow.vars[target].storage, before)

        return run

    @staticmethod
    def grad_none(target: str) -> Any:
        def run(shadow: Shadow, before: Before) -> None:
            shadow.vars[target].grad = None

        return run

    @staticmethod
    def grad_zero(target: str) -> Any:
        def run(shadow: Shadow, before: Before) -> None:
            var = shadow.vars[target]
            assert var.grad is not None
            var.grad = zeros(var.grad.v.shape, var.grad.dtype)

        return run

    @staticmethod
    def query(first: str) -> Any:
        def run(shadow: Shadow, before: Before) -> None:
            pass

        return run

    @staticmethod
    def backward_op(root: str, gradient: str | None) -> Any:
        def run(shadow: Shadow, before: Before) -> None:
            var = shadow.vars[root]
            if gradient is None or gradient.startswith("torch.ones_like"):
                g = given_values(np.ones(var.q.v.shape), var.q.dtype)
            else:
                g = cast(shadow.vars[gradient].q, var.q.dtype)
            start = handle(var, True)
            assert start is not None
            for leaf_id, arrived in run_backward(start, g).items():
                name, leaf = next((n, v) for n, v in shadow.vars.items() if id(v) == leaf_id)
                if shadow.reached is not None and name not in shadow.reached:
                    continue
                if leaf.torch.requires_grad and observe(leaf.torch, "is_leaf") is True:
                    arrived = cast(arrived, leaf.q.dtype)
                    leaf.grad = arrived if leaf.grad is None else add(leaf.grad, arrived)

        return run


def unary(op: Any, a: Q) -> tuple[Q, Callable[[Q], tuple[Q | None, ...]]]:
    """The quantity of `-a`, `a.zero_()` or `a ** op` (op a number), and its backward (torch's formulas)."""
    if op == "neg":
        return neg(a), lambda g: (neg(g),)
    if op == "zero_":
        return zeros(a.v.shape, a.dtype), lambda g: (zeros(g.v.shape, g.dtype),)
    if isinstance(op, tuple):  # ("rpow", base): base ** a, and torch's backward grad * (result * log(base))
        result = exp_base(op[1], a)
        log_base = given_values(np.full(a.v.shape, np.log(abs(op[1]) if op[1] > 0 else np.nan)), a.dtype)
        log_base = dataclasses.replace(rounded(log_base.v, log_base.b, False, a.dtype), exact=False)
        return result, lambda g: (mul(g, mul(result, log_base)),)

    def power_backward(g: Q) -> tuple[Q | None, ...]:
        if op == 0:
            return (zeros(g.v.shape, g.dtype),)
        return (mul(g, mul(given_values(np.full(a.v.shape, op), g.dtype), power(a, op - 1))),)

    return power(a, op), power_backward


def binary_dtype(shadow: Shadow, target: str, other: str) -> str:
    """The dtype `target op other` computes in (an in-place op computes in it, then casts to the target)."""
    from minigrad import ops

    a = shadow.vars[target].q
    sample_a = np.zeros(a.v.shape, a.dtype)
    if is_name(other):
        b = shadow.vars[other].q
        sample_b: Any = np.zeros(b.v.shape, b.dtype)
    else:
        sample_b = eval(other)
    return str(ops.result_dtype(sample_a, sample_b))


def binary(
    op: str, a: Q, b: Q, reversed_: bool, shadow: Shadow, first: str, other: str, dtype: str, alpha: Any
) -> tuple[Q, Callable[[Q], tuple[Q | None, ...]]]:
    """The forward quantity of `a op b` (or `b op a` when reversed) and its backward (one gradient per
    tensor operand, in the order the engines record: the tensor first)."""
    shape_a, shape_b = a.v.shape, b.v.shape
    dtype_a = shadow.vars[first].q.dtype
    dtype_b = shadow.vars[other].q.dtype if is_name(other) else None

    def to_a(g: Q) -> Q | None:
        if dtype_a == "int64":  # an integer tensor gets no gradient
            return None
        return cast(unbroadcast(g, shape_a), dtype_a)

    def to_b(g: Q) -> Q | None:
        if dtype_b in (None, "int64"):  # a number or an integer tensor gets no gradient
            return None
        if alpha is not None:
            g = mul(g, given_values(np.array(alpha).astype(g.dtype), g.dtype))
        return cast(unbroadcast(g, shape_b), dtype_b)

    if dtype in ("int64",) and op == "div":
        a, b, dtype = cast(a, "float32"), cast(b, "float32"), "float32"
    if op == "add":
        return add(a, b), lambda g: (to_a(g), to_b(g))
    if op == "sub":
        if reversed_:
            return add(b, a, -1.0), lambda g: (to_a(neg(g)),)
        return add(a, b, -1.0), lambda g: (to_a(g), None if dtype_b is None else to_b(neg(g)))
    if op == "mul":
        return mul(a, b), lambda g: (to_a(mul(g, b)), None if dtype_b is None else to_b(mul(g, a)))
    if reversed_:  # number / tensor: torch computes reciprocal(tensor) * number
        one = given_values(np.ones(()), a.dtype)
        reciprocal = div(one, a)

        def reciprocal_backward(g: Q) -> tuple[Q | None, ...]:
            g = mul(g, b)  # MulBackward0 to the reciprocal...
            return (to_a(neg(mul(g, mul(reciprocal, reciprocal)))),)  # ...then ReciprocalBackward0

        return mul(reciprocal, b), reciprocal_backward
    return div(a, b), lambda g: (
        to_a(div(g, b)),
        None if dtype_b is None else to_b(neg(mul(g, div(div(a, b), b)))),
    )


def matmul_gradients(a: Q, b: Q, g: Q) -> tuple[Q | None, Q | None]:
    """torch's matmul backward for the 1-D and 2-D cases."""
    if a.v.ndim == 2 and b.v.ndim == 2:
        return matmul(g, permute(b, (1, 0))), matmul(permute(a, (1, 0)), g)
    if a.v.ndim == 2:  # matrix @ vector (mv)
        return outer(g, b), matmul(permute(a, (1, 0)), g)
    if b.v.ndim == 1:  # dot
        return mul(expand(g, b.v.shape), b), mul(expand(g, a.v.shape), a)
    # vector @ matrix: unsqueeze, mm, squeeze
    row = Q(g.v[None, :], g.b[None, :], g.exact, g.dtype)
    column = Q(a.v[:, None], a.b[:, None], a.exact, a.dtype)
    grad_a = matmul(row, permute(b, (1, 0)))
    return Q(grad_a.v[0], grad_a.b[0], False, g.dtype), matmul(column, row)


def write(shadow: Shadow, var: Var, q: Q, node: Node | None, before: Before) -> None:
    """An in-place write to `var` (recorded as `node`, or None): every tensor sharing its storage sees the new
    values. A recorded write gives `var` its new history, or for a view its base (torch's CopySlices: `node`
    inside the view's layout); then each view whose grad_fn torch changed reaches its base's history as it
    is now (AsStridedBackward0)."""
    in_first_layout = relayout(q, var.axes, tuple(range(q.v.ndim)))
    for other in var.storage:
        other.q = dataclasses.replace(permute(in_first_layout, other.axes), exact=q.exact)
    base = var.base
    if node is not None and base is None:
        var.node = node
    elif node is not None and base is not None:
        base.node = relayout_node(node, base.axes, var.axes)
    reroot_views(shadow, var.storage, before)


def reroot_views(shadow: Shadow, storage: list[Var], before: Before) -> None:
    """Each view in `storage` whose grad_fn torch changed (rebuilt as AsStridedBackward0 once its memory was
    written or its base came to require grad) reaches its base's history as it is now."""
    for view in storage:
        name = next(n for n, v in shadow.vars.items() if v is view)
        base = view.base
        if base is None or grad_fn(view.torch) is None or grad_fn(view.torch) is before[name][1]:
            continue  # torch left its history as it was
        source = handle(base, True)
        if source is not None:
            view.node = relayout_node(source, view.axes, base.axes)


def relayout(q: Q, from_axes: tuple[int, ...], to_axes: tuple[int, ...]) -> Q:
    """`q`, laid out as a tensor of the same storage with axes `from_axes`, in the layout of one with `to_axes`."""
    return permute(permute(q, tuple(np.argsort(from_axes))), to_axes)


def relayout_node(source: Handle, from_axes: tuple[int, ...], to_axes: tuple[int, ...]) -> Node:
    """A node passing its gradient to `source`, from the layout with `from_axes` to the one with `to_axes`."""
    return Node((source,), lambda g: (relayout(g, from_axes, to_axes),))


# ================================================================ running and comparing
class Mismatch(AssertionError):  # noqa: N818 - what it reports
    """The engine differs from torch; the message names the statement, what differs, and the program
    (`lines`: the program's rendered lines, up to the one that differs)."""

    lines: list[Line]


@dataclasses.dataclass
class Outcome:
    error: tuple[str, str] | None
    warnings: list[str]


def execute(source: str, namespace: dict[str, Any]) -> Outcome:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            exec(source, namespace)
        except Exception as error:  # every error is compared with torch's
            return Outcome((type(error).__name__, str(error)), warned(caught))
    return Outcome(None, warned(caught))


def warned(caught: list[warnings.WarningMessage]) -> list[str]:
    return [f"{w.category.__name__}: {w.message}" for w in caught]


def bits_equal(a: Array, b: Array) -> bool:
    if a.dtype.kind != "f":
        return bool(np.array_equal(a, b))
    same = (a == b) & (np.signbit(a) == np.signbit(b))
    return bool(np.all(same | (np.isnan(a) & np.isnan(b))))


def within(a: Array, b: Array, bound: Array) -> Array:
    """Elementwise: |a − b| ≤ bound, with non-finite results agreeing in kind, and no constraint where the
    bound is infinite or NaN."""
    with np.errstate(all="ignore"):
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        finite = np.isfinite(a64) & np.isfinite(b64)
        close = np.abs(a64 - b64) <= bound
        same_kind = (a64 == b64) | (np.isnan(a64) & np.isnan(b64))
        vacuous = ~np.isfinite(bound)
        result: Array = vacuous | np.where(finite, close, same_kind)
        return result


def observe(t: Any, attribute: str) -> Any:
    """`t.attribute`, or ("raises", message) where torch refuses it (a view made in no_grad whose base was
    modified in place with grad mode on has no grad_fn, is_leaf or grad)."""
    try:
        return getattr(t, attribute)
    except RuntimeError as error:
        return ("raises", in_minigrads_words(str(error)))


def grad_fn(t: Any) -> Any:
    """t.grad_fn, or None where torch refuses to give one (the comparison reports that refusal)."""
    node = observe(t, "grad_fn")
    return None if isinstance(node, tuple) else node


def leaf_grad(t: Any) -> Any:
    """A leaf's .grad (None for a non-leaf: reading it there only warns)."""
    return observe(t, "grad") if observe(t, "is_leaf") is True else None


def graph(t: Any, names: dict[int, str]) -> list[Any]:
    """The grad_fn graph as a list of nodes in depth-first order: name, edges (child index, input_nr), and for
    AccumulateGrad the name of the tensor it accumulates into."""
    root = observe(t, "grad_fn")
    if root is None or isinstance(root, tuple):
        return []
    order: dict[int, int] = {}
    nodes: list[Any] = []
    stack = [root]
    found = [root]
    order[id(root)] = 0
    while stack:
        node = stack.pop()
        for child, _ in node.next_functions:
            if child is not None and id(child) not in order:
                order[id(child)] = len(found)
                found.append(child)
                stack.append(child)
    for node in found:
        edges = [(None if c is None else order[id(c)], nr) for c, nr in node.next_functions]
        variable = getattr(node, "variable", None)
        nodes.append((node.name(), edges, None if variable is None else names.get(id(variable), "?")))
    return nodes


def snapshot(t: Any, names: dict[int, str]) -> dict[str, Any]:
    """What is compared exactly, besides the values: flags, version, graph, and the .grad's own."""
    grad = leaf_grad(t)
    real_grad = grad is not None and not isinstance(grad, tuple)
    return {
        "type": type(t).__name__,
        "dtype": repr(t.dtype),
        "shape": tuple(t.shape),
        "requires_grad": t.requires_grad,
        "is_leaf": observe(t, "is_leaf"),
        "_version": t._version,
        "grad_fn": graph(t, names) if grad_fn(t) is not None else observe(t, "grad_fn"),
        "grad": (repr(grad.dtype), tuple(grad.shape), grad.requires_grad, grad.grad_fn is None) if real_grad else grad,
        "grad._version": grad._version if real_grad else None,
    }


def values_of(t: Any) -> Array:
    return np.array(t.detach().numpy())


class Run:
    """One program on torch and on the engine, statement by statement."""

    def __init__(self, engine: ModuleType) -> None:
        import torch

        self.torch, self.engine = torch, engine
        self.env = Env({})
        self.shadow = Shadow(self.env)
        self.spaces: dict[str, dict[str, Any]] = {
            "torch": {"torch": torch, "np": np},
            "engine": {"torch": engine, "np": np},
        }
        self.lines: list[Line] = []
        self.spellings = available_spellings(engine)

    def program(self) -> str:
        body = "\n".join(line.source for line in self.lines)
        return f"import torch  # or: import minigrad as torch\n{body}"

    def fail(self, what: str) -> NoReturn:
        mismatch = Mismatch(f"{what}\nafter line {len(self.lines)} of this program:\n\n{self.program()}\n")
        mismatch.lines = list(self.lines)
        raise mismatch

    def step(self, statement: Statement | Line) -> None:
        line = statement if isinstance(statement, Line) else render(statement, self.env, self.spellings)
        if line is None:
            return
        self.lines.append(line)
        torch_space, engine_space = self.spaces["torch"], self.spaces["engine"]
        before = {name: (t.requires_grad, grad_fn(t)) for name, t in self.env.tensors.items()}
        grads_before = {name: grad_state(t) for name, t in self.env.tensors.items()}
        theirs = execute(line.source, torch_space)
        ours = execute(line.source, engine_space)
        self.compare_outcomes(theirs, ours)
        if theirs.error is None and line.binds is not None and line.binds != "r":
            self.env.tensors[line.binds] = torch_space[line.binds]
            if line.shadow is CREATE:
                self.shadow.bind_created(line.binds)
            elif line.shadow is not None:
                line.shadow(self.shadow, before)
        elif theirs.error is None and line.shadow is not None:
            line.shadow(self.shadow, before)
        elif theirs.error is not None and ".backward(" in line.source:
            self.resync_partial_backward(line, before, grads_before)
        if line.binds == "r" and theirs.error is None:
            self.compare_query(torch_space.pop("r"), engine_space.pop("r"), line)
        self.compare_all()

    def resync_partial_backward(self, line: Line, before: Before, grads_before: dict[str, Any]) -> None:
        """torch's backward may fail part-way (a saved tensor modified in place, the graph freed) after filling
        some leaves' grads. A leaf's AccumulateGrad runs once all of its gradient has arrived, so those leaves
        take all that the shadow's backward gives them; the others keep theirs."""
        reached = {
            n for n, t in self.env.tensors.items() if grad_state(t) != grads_before[n] and leaf_grad(t) is not None
        }
        if reached and line.shadow is not None:
            self.shadow.reached = reached
            try:
                line.shadow(self.shadow, before)
            finally:
                self.shadow.reached = None

    def compare_outcomes(self, theirs: Outcome, ours: Outcome) -> None:
        name = self.engine.__name__.split(".")[0]
        if theirs.error is not None:
            expected = (theirs.error[0], in_minigrads_words(theirs.error[1]))
            if ours.error != expected:
                self.fail(
                    f"torch raised {expected}; {name} {'raised ' + repr(ours.error) if ours.error else 'did not'}"
                )
        elif ours.error is not None:
            self.fail(f"torch ran it; {name} raised {ours.error}")
        # torch warns of some things once per process (deprecations): the engine need not echo those,
        # but must not warn where torch is silent (numpy's RuntimeWarnings on division by zero, overflow...)
        expected_warnings = [in_minigrads_words(w) for w in theirs.warnings]
        extra = [w for w in ours.warnings if w not in expected_warnings]
        if extra:
            self.fail(f"{name} warns where torch does not: {extra}")

    def compare_query(self, theirs: Any, ours: Any, line: Line) -> None:
        if isinstance(theirs, np.ndarray):
            if not isinstance(ours, np.ndarray) or theirs.dtype != ours.dtype or theirs.shape != ours.shape:
                self.fail(f"{line.source}: torch gives {theirs!r}, the engine {ours!r}")
            return  # the values are the tensor's, compared below
        if isinstance(theirs, tuple):  # a Size
            if tuple(theirs) != tuple(ours) or repr(theirs) != repr(ours):
                self.fail(f"{line.source}: torch gives {theirs!r}, the engine {ours!r}")
            return
        if type(theirs) is not type(ours):
            self.fail(f"{line.source}: torch gives {theirs!r} ({type(theirs).__name__}), the engine {ours!r}")
        queried = self.shadow.vars[re.findall(r"t\d+", line.source)[0]].q
        if (isinstance(theirs, int) or queried.exact) and repr(theirs) != repr(ours):  # repr: nan, -0.0 as such
            self.fail(f"{line.source}: torch gives {theirs!r}, the engine {ours!r}")
        # an inexact item() or tolist() holds the tensor's values, compared with their bound below

    def compare_all(self) -> None:
        engine_space = self.spaces["engine"]
        torch_names = {id(t): n for n, t in self.env.tensors.items()}
        engine_names = {id(engine_space[n]): n for n in self.env.tensors}
        for name, theirs in self.env.tensors.items():
            ours = engine_space[name]
            expected, got = snapshot(theirs, torch_names), snapshot(ours, engine_names)
            expected_graph, got_graph = expected.pop("grad_fn"), got.pop("grad_fn")
            if expected != got:
                diff = {k: (expected[k], got[k]) for k in expected if expected[k] != got[k]}
                self.fail(f"{name}: (torch, engine) differ: {diff}")
            if expected_graph != got_graph:
                self.fail(f"{name}.grad_fn graphs differ:\n torch  {expected_graph}\n engine {got_graph}")
            var = self.shadow.vars[name]
            self.compare_values(f"{name}", theirs, ours, var.q)
            grad_t, grad_e = leaf_grad(theirs), leaf_grad(ours)
            if grad_t is not None and not isinstance(grad_t, tuple):
                if var.grad is None:
                    self.fail(f"{name}.grad: the shadow has no gradient where torch has one (a harness bug)")
                self.compare_values(f"{name}.grad", grad_t, grad_e, var.grad)

    def compare_values(self, label: str, theirs: Any, ours: Any, q: Q) -> None:
        expected, got = values_of(theirs), values_of(ours)
        if q.exact:
            if not bits_equal(expected, got):
                self.fail(
                    f"{label}: values differ (IEEE fixes them to the bit):\n torch  {expected!r}\n engine {got!r}"
                )
            if repr_with_values(theirs, expected) != shown(ours):
                self.fail(
                    f"{label}: repr differs:\n torch  {repr_with_values(theirs, expected)}\n engine {shown(ours)}"
                )
            return
        if not np.all(within(expected, got, 2 * q.b)):
            self.fail(
                f"{label}: values differ by more than the bound:\n torch  {expected!r}\n engine {got!r}\n"
                f" bound  {2 * q.b!r}"
            )
        if not np.all(within(expected, q.v, 2 * q.b)):
            self.fail(
                f"{label}: torch is not within the bound of the float64 shadow (a harness bug):\n"
                f" torch {expected!r}\n shadow {q.v!r}\n bound {2 * q.b!r}"
            )
        if shown(ours) != repr_with_values(theirs, got):
            self.fail(f"{label}: repr differs:\n torch  {repr_with_values(theirs, got)}\n engine {shown(ours)}")


def grad_state(t: Any) -> Any:
    grad = leaf_grad(t)
    return grad if grad is None or isinstance(grad, tuple) else (id(grad), grad._version, values_of(grad).tobytes())


TORCH_REPRS: dict[tuple[Any, ...], str] = {}  # repr_with_values's memo


def repr_with_values(t: Any, values: Array) -> str:
    """torch's repr of `t` holding `values` (its own, or the engine's: values within the bound may print
    differently from torch's own in the last digit). Memoised: torch prints a CPU tensor from its values, dtype,
    grad_fn and requires_grad alone (torch/_tensor_str.py, _str_intern), and most tensors print the same after
    each statement, and on each engine a program is run against; printing is half of a run's time."""
    import torch

    node = observe(t, "grad_fn")
    node_name = node if node is None or isinstance(node, tuple) else (type(node).__name__, node.name())
    key = (values.tobytes(), values.shape, repr(t.dtype), t.requires_grad, node_name)
    if key not in TORCH_REPRS:
        if len(TORCH_REPRS) >= 100_000:  # a long run's memory stays bounded
            TORCH_REPRS.clear()
        saved = t.detach().clone()
        t.data.copy_(torch.from_numpy(values))
        try:
            TORCH_REPRS[key] = shown(t)
        finally:
            t.data.copy_(saved)
    return TORCH_REPRS[key]


def shown(t: Any) -> str:
    """repr(t), or the error it raises (as for the grad_fn of some views: see observe)."""
    try:
        return repr(t)
    except RuntimeError as error:
        return f"raises {in_minigrads_words(str(error))}"


def available_spellings(engine: ModuleType) -> set[str]:
    """The spellings beyond the operators that the engine offers (all of them, once issue 8's are in)."""
    found = set()
    for op in ("add", "sub", "mul", "div", "neg", "pow", "matmul", "mm", "mv", "dot", "t", "transpose"):
        if hasattr(engine, op):
            found.add(f"function {op}")
        if hasattr(engine.Tensor, op):
            found.add(f"method {op}")
    for method in ("neg_", "clone"):
        if hasattr(engine.Tensor, method):
            found.add(f"method {method}")
    if hasattr(engine.Tensor, "__ipow__"):
        found.add("in-place pow")
    with contextlib.suppress(Exception):
        if engine.ones(1).add(engine.ones(1), alpha=2) is not None:
            found.add("alpha")
    return found


Program = Sequence[Statement | Line]  # statements, or lines already rendered (when shrinking a rendered program)


def run_program(program: Program, engine: ModuleType = minigrad) -> Run:
    """Run a program on torch and `engine`, comparing after each statement (raises Mismatch)."""
    run = Run(engine)
    with np.errstate(all="ignore"), contextlib.redirect_stdout(io.StringIO()):
        for statement in program:
            run.step(statement)
    return run


def program_seed(seed: int, index: int) -> int:
    return seed * 1_000_003 + index


def signature(mismatch: Mismatch) -> str:
    """What kind of difference it is (its first line, tensor names and numbers left out): shrinking keeps it."""
    return re.sub(r"t\d+|-?\d+(\.\d+)?(e[-+]?\d+)?", "#", str(mismatch).split("\n", 1)[0])


def failure(program: Program, engine: ModuleType) -> Mismatch | None:
    try:
        run_program(program, engine)
    except Mismatch as mismatch:
        return mismatch
    return None


def shrink(program: Sequence[Statement], engine: ModuleType, kind: str) -> tuple[list[Line], Mismatch]:
    """A smaller program with the same kind of difference: statements removed while the difference stays,
    each statement's integers set to 0 and its numbers cut where it stays; then the rendered lines removed
    one at a time (a line that uses a removed tensor raises NameError on both engines)."""

    def same(candidate: Program) -> Mismatch | None:
        found = failure(candidate, engine) if candidate else None
        return found if found is not None and signature(found) == kind else None

    def remove_items(items: list[Any], best: Mismatch) -> tuple[list[Any], Mismatch]:
        progress = True
        while progress:
            progress = False
            for i in reversed(range(len(items))):
                found = same(items[:i] + items[i + 1 :])
                if found is not None:
                    items, best, progress = items[:i] + items[i + 1 :], found, True
        return items, best

    best = same(program)
    assert best is not None, "the difference did not recur on a second run"
    statements, best = remove_items(list(program), best)
    for i in range(len(statements)):
        for j in [*range(len(statements[i].picks)), None]:
            statement = statements[i]
            if j is None:
                simpler = dataclasses.replace(statement, numbers=statement.numbers[:1])
            else:
                simpler = dataclasses.replace(statement, picks=(*statement.picks[:j], 0, *statement.picks[j + 1 :]))
            if simpler != statement:
                candidate = [*statements[:i], simpler, *statements[i + 1 :]]
                found = same(candidate)
                if found is not None:
                    statements, best = candidate, found
    return remove_items(best.lines, best)


def bug_table(programs: int = 400, seed: int = 0) -> str:
    """The README's table: for each seeded engine bug, the programs until the fuzz caught it (counting only
    programs minigrad passes) and the program shrunk."""
    from buggy_engines import ENGINE_BUGS

    rows = ["| seeded bug | programs until caught (seed 0) | shrunk program |", "|---|---|---|"]
    passes = [failure(draw_program(random.Random(program_seed(seed, i))), minigrad) is None for i in range(programs)]
    for bug in ENGINE_BUGS:
        engine, caught = bug.engine(), "not caught"
        for index in range(programs):
            program = draw_program(random.Random(program_seed(seed, index)))
            found = failure(program, engine) if passes[index] else None
            if found is not None:
                lines, _ = shrink(program, engine, signature(found))
                caught = f"{index + 1} | `{'; '.join(line.source for line in lines)}`"
                break
        rows.append(f"| {bug.name} | {caught} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(bug_table())
