"""Autograd, view and in-place semantics, each program run on torch and on minigrad and compared.

Every program below is a function of the library (`lib` is `torch` or `minigrad`) that returns what it made.
Both runs are described the same way and must agree: each tensor's values (bitwise: these programs only add
small integers or compute elementwise, where IEEE fixes every bit), dtype, shape, requires_grad, is_leaf,
its grad_fn graph (node names and edges), _version, .grad (described the same way) and repr; each error's type
and message; the numpy warnings raised. Nothing expected is written here: torch gives it at test time.
Most programs are the repros of issue 8 (wrong values, views, in-place, autograd semantics).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np
import pytest
from buggy_engines import VIEW_AND_IN_PLACE_BUGS, Variant

import minigrad

torch = pytest.importorskip("torch")

Program = Callable[[ModuleType], dict[str, Any]]
PROGRAMS: dict[str, Program] = {}
ANOMALY_HINT = " Hint: enable anomaly detection"  # minigrad has no anomaly mode (README)


def program(fn: Program) -> Program:
    PROGRAMS[fn.__name__] = fn
    return fn


# ---------------------------------------------------------------- describing what a program made
def message(error: BaseException) -> str:
    text = str(error).split(ANOMALY_HINT)[0]
    return text.replace("torch.", "minigrad.").replace("torch::", "minigrad::")


def attempt(fn: Callable[[], Any]) -> Any:
    """Run a statement that may raise; an error becomes its type and message, so the program can go on."""
    try:
        return fn()
    except Exception as error:
        return ("raised", type(error).__name__, message(error))


def graph(node: Any, depth: int = 8) -> Any:
    """A grad_fn's name and, recursively, its edges' (node, input number)."""
    if node is None:
        return None
    name = node.name().replace("torch::autograd::", "")
    if depth == 0:
        return name
    return (name, tuple((graph(child, depth - 1), index) for child, index in node.next_functions))


def is_a(value: Any, name: str) -> bool:
    """An instance of torch's or of a minigrad's class `name` (a seeded-bug minigrad has classes of its own)."""
    return any(
        cls.__name__ == name and cls.__module__.split(".")[0] in ("torch", "minigrad") for cls in type(value).__mro__
    )


def describe(value: Any) -> Any:
    if is_a(value, "Tensor"):
        data = value.detach().numpy()
        return {
            "array": (type(data).__name__, data.dtype.str, data.shape, data.tobytes()),
            "dtype": str(value.dtype),
            "shape": tuple(value.shape),
            "requires_grad": value.requires_grad,
            "is_leaf": value.is_leaf,
            "grad_fn": attempt(lambda: graph(value.grad_fn)),
            "version": value._version,
            "grad": describe(value.grad) if value.is_leaf else None,  # torch warns on a non-leaf's .grad
            "repr": attempt(lambda: repr(value)),
        }
    if isinstance(value, np.ndarray):
        return (type(value).__name__, value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, tuple | list):
        return tuple(describe(v) for v in value)
    if isinstance(value, dict):
        return {k: describe(v) for k, v in value.items()}
    if is_a(value, "Size"):
        return ("Size", tuple(value))
    if is_a(value, "dtype"):
        return str(value)
    if hasattr(value, "next_functions"):  # a graph node
        return graph(value)
    return value


def observe(prog: Program, lib: ModuleType) -> dict[str, Any]:
    """What `prog` makes with `lib`: its results described, or its error, and the warnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            made = describe(prog(lib))
        except Exception as error:
            made = ("raised", type(error).__name__, message(error))
    return {"made": made, "warnings": [f"{w.category.__name__}: {w.message}" for w in caught]}


def assert_same(prog: Program) -> None:
    expected, got = observe(prog, torch), observe(prog, minigrad)
    assert got == expected, f"{prog.__name__}:\n minigrad {got}\n torch    {expected}"


# ---------------------------------------------------------------- 1. 0-d results are arrays
@program
def negating_a_0d_tensor(lib: ModuleType) -> dict[str, Any]:
    y = -lib.tensor(-9.27)
    made = {"y": y, "y * y": y * y, "numpy": y.numpy(), "+ float64": y + lib.ones(2, dtype=lib.float64)}
    y += 1
    made["y += 1"] = y.clone() if hasattr(y, "clone") else y * 1
    y.zero_()
    made["zeroed"] = y
    return made


@program
def every_op_on_0d_tensors_gives_arrays(lib: ModuleType) -> dict[str, Any]:
    a, b = lib.tensor(3.0, requires_grad=True), lib.tensor(-1.5, requires_grad=True)
    results = {
        "a + b": a + b,
        "a - b": a - b,
        "a * b": a * b,
        "a / b": a / b,
        "-a": -a,
        "a ** 2": a**2,
        "a ** 0.5": a**0.5,
        "2 / a": 2 / a,
        "2 - a": 2 - a,
        "a.sum()": a.sum(),
        "a.mean()": a.mean(),
        "a.t()": a.t(),
        "a.sum(0)": a.sum(0),
        "vector @ vector": lib.ones(3) @ lib.ones(3),
    }
    total = sum(results.values(), lib.tensor(0.0))
    total.backward()
    return {**results, "total": total, "a": a, "b": b}


@program
def backward_through_a_negated_0d_tensor(lib: ModuleType) -> dict[str, Any]:
    x = lib.tensor(-9.27, requires_grad=True)
    z = (-x) / 0.5
    z.backward()
    return {"x": x, "z": z}


# ---------------------------------------------------------------- 2. a view whose base is modified in place
@program
def view_of_a_base_modified_in_place(lib: ModuleType) -> dict[str, Any]:
    w = lib.ones(2, 3, requires_grad=True)
    h = w * 2
    v = h.t()
    h *= 3
    v.sum().backward()
    return {"w": w, "h": h, "v": v}


@program
def view_of_a_base_modified_under_no_grad(lib: ModuleType) -> dict[str, Any]:
    w = lib.ones(2, 3, requires_grad=True)
    h = w * 2
    v = h.t()
    with lib.no_grad():
        h *= 3
    v.sum().backward()
    return {"w": w, "h": h, "v": v}


@program
def view_of_a_base_changed_through_detach(lib: ModuleType) -> dict[str, Any]:
    w = lib.ones(2, 3, requires_grad=True)
    h = w * 2
    v = h.t()
    h.detach().mul_(3)
    (v * v).sum().backward()
    return {"w": w, "h": h, "v": v}


@program
def view_of_a_leaf_modified_under_no_grad(lib: ModuleType) -> dict[str, Any]:
    w = lib.ones(2, 3, requires_grad=True)
    v = w.t()
    with lib.no_grad():
        v.mul_(2)
    v.sum().backward()
    return {"w": w, "v": v}


@program
def view_made_under_no_grad_then_base_modified(lib: ModuleType) -> dict[str, Any]:
    w = lib.ones(2, 3, requires_grad=True)
    h = w * 2
    with lib.no_grad():
        v = h.t()
    h *= 3
    return {"grad_fn": attempt(lambda: v.grad_fn), "requires_grad": v.requires_grad, "h": h}


# ---------------------------------------------------------------- 3. in place on a view: CopySlices
@program
def in_place_on_a_view_of_a_tensor_needing_no_grad(lib: ModuleType) -> dict[str, Any]:
    w = lib.ones(3, 2, requires_grad=True)
    a = lib.zeros(2, 3)
    v = a.t()
    v += w
    made = {"a": a, "v": v}
    (a * lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
    return {**made, "w": w, "second backward": attempt(lambda: a.sum().backward())}


@program
def in_place_multiply_on_a_view_of_a_non_leaf(lib: ModuleType) -> dict[str, Any]:
    w = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    h = w * 1
    v = h.t()
    v *= w.t()
    (h * h).sum().backward()
    return {"w": w, "h": h, "v": v}


@program
def in_place_on_a_view_of_a_view(lib: ModuleType) -> dict[str, Any]:
    a = lib.zeros(2, 3)
    v = a.t()
    u = v.t()
    w = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    u += w
    u.mul_(2)
    (a * a).sum().backward()
    return {"a": a, "v": v, "u": u, "w": w}


@program
def in_place_on_permuted_transposed_and_zeroed_views(lib: ModuleType) -> dict[str, Any]:
    w = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    y = w * 1
    u = y.T
    u *= 2
    y.transpose(1, 0).sub_(w.t())
    made = {"y": y, "u": u}
    z = w * 3
    z.t().zero_()
    (y * y + z).sum().backward()
    return {**made, "z": z, "w": w}


@program
def in_place_on_views_refused_as_torch_refuses(lib: ModuleType) -> dict[str, Any]:
    w = lib.ones(2, 3, requires_grad=True)
    a = lib.zeros(2, 3)
    with lib.no_grad():
        v = a.t()
    b = lib.ones(2, 3)
    u = b.t()
    b.requires_grad_()
    return {
        "view of a leaf": attempt(lambda: w.t().add_(1)),
        "view made under no_grad": attempt(lambda: v.add_(w.t())),
        "view made before requires_grad_": attempt(lambda: u.add_(1)),
        "a": a,
        "b": b,
        "w": w,
    }


# ---------------------------------------------------------------- 4, 5, 13: what backward uses
@program
def requires_grad_turned_off_after_the_graph_was_made(lib: ModuleType) -> dict[str, Any]:
    w = lib.tensor(2.0, requires_grad=True)
    y = w * 3
    w.requires_grad_(False)
    y.backward()
    return {"w": w, "y": y}


@program
def requires_grad_set_on_views_whose_base_was_modified(lib: ModuleType) -> dict[str, Any]:
    # torch's setter and requires_grad_() read the grad_fn field as it is, not as reading grad_fn rebuilds it
    x = lib.ones(2, 2, 3, requires_grad=True)
    y = x + x
    with lib.no_grad():
        made_without_grad = y.transpose(0, 1)
    made_with_grad = y.transpose(0, 1)
    z = lib.zeros(2, 3)
    of_a_base_needing_none = z.t()
    y += x
    z += lib.ones(2, 3, requires_grad=True)
    return {
        "no_grad view = True": attempt(lambda: setattr(made_without_grad, "requires_grad", True)),
        "no_grad view _(False)": attempt(lambda: made_without_grad.requires_grad_(False)),
        "view = True": attempt(lambda: setattr(made_with_grad, "requires_grad", True)),
        "view _(False)": attempt(lambda: made_with_grad.requires_grad_(False)),
        "view of z = True": attempt(lambda: setattr(of_a_base_needing_none, "requires_grad", True)),
        "view of z _(False)": attempt(lambda: of_a_base_needing_none.requires_grad_(False)),
        "views": (made_without_grad.requires_grad, made_with_grad, of_a_base_needing_none),
        "y": y,
        "z": z,
    }


@program
def a_leaf_moved_into_the_graph_interior(lib: ModuleType) -> dict[str, Any]:
    # the graph reaches x's AccumulateGrad, but x has since become an op's output (in place)
    x = lib.tensor(1.0, requires_grad=True)
    w = lib.tensor(2.0, requires_grad=True)
    y = x * 3 + w * 2
    x.requires_grad_(False)
    x += w
    return {"backward": attempt(lambda: y.backward()), "x": x, "w": w}


@program
def ops_on_a_view_made_under_no_grad(lib: ModuleType) -> dict[str, Any]:
    # the view requires grad through its base, but its edge is None: torch computes, and saves for, only the
    # gradients an edge takes, so backward twice through mul is no error; it converts numbers before it reads
    # a grad_fn
    x = lib.tensor(-2.5, requires_grad=True)
    with lib.no_grad():
        v = x.t()
    square, a = v * v, lib.ones(2, 3)
    u = a.t()  # made before a required grad
    a.requires_grad_()
    tripled = u * 3
    backwards = [attempt(lambda: square.backward()) for _ in range(2)]
    backwards += [attempt(lambda: tripled.sum().backward()) for _ in range(2)]
    # torch's pow and div save their input and divisor whatever the edges: a second backward finds them freed
    power, quotient = v**2, v / lib.tensor(2.0)
    backwards += [attempt(lambda: power.backward()) for _ in range(2)]
    backwards += [attempt(lambda: quotient.backward()) for _ in range(2)]
    # mm saves the other operand only for a gradient an edge takes: none for the view's, so y's change is no error
    matrix = lib.ones(2, 2, requires_grad=True)
    with lib.no_grad():
        view_of_matrix = matrix.t()
    y = -x * lib.ones(2, 2)
    product = y @ view_of_matrix
    y *= 2
    backwards.append(attempt(lambda: product.sum().backward()))
    with lib.no_grad():
        w = x.t()
    x.detach().add_(1)  # w's base modified: reading w's grad_fn now raises
    return {
        "backwards": backwards,
        "square": square,
        "tripled": tripled,
        "x": x,
        "a": a,
        "w + 2**64": attempt(lambda: w + 2**64),
        "2**64 - w": attempt(lambda: 2**64 - w),
        "w * 2.5": attempt(lambda: w * 2.5),
    }


@program
def view_of_a_no_grad_view_whose_base_was_modified(lib: ModuleType) -> dict[str, Any]:
    # reading its grad_fn raises, worded for a view with a grad_fn of its own (a view of a view)
    x = lib.ones(3, 2, requires_grad=True)
    y = x * 2
    with lib.no_grad():
        v = y.t()
    w = v.T
    y += 1
    return {"w.grad_fn": attempt(lambda: w.grad_fn), "v.grad_fn": attempt(lambda: v.grad_fn), "y": y}


@program
def dimensions_checked_after_autograd(lib: ModuleType) -> dict[str, Any]:
    # torch checks mm's, mv's, dot's and t()'s dimensions in the kernel, after refusing a view made under no_grad
    x = lib.zeros(3, 3, requires_grad=True)
    y = -x
    with lib.no_grad():
        v = y.t()
    y += x
    vector, z = lib.ones(3), lib.zeros(2, 1, 3, requires_grad=True)
    with lib.no_grad():
        cube = z.transpose(0, 1)
    z.detach().add_(1)
    return {
        "mm": attempt(lambda: v.mm(vector)),
        "mv": attempt(lambda: v.mv(x)),
        "dot": attempt(lambda: vector.dot(v)),
        "t() of 3-D": attempt(lambda: cube.t()),
        "shapes, then dtypes": [
            attempt(lambda: vector.dot(lib.ones(2, 2, dtype=lib.float64))),
            attempt(lambda: x.mv(lib.ones(2, 2, dtype=lib.float64))),
            attempt(lambda: vector.mm(x)),
            attempt(lambda: x.mm(vector)),
        ],
    }


@program
def multiply_in_place_into_a_narrower_dtype(lib: ModuleType) -> dict[str, Any]:
    # torch's gradient for y is grad * x's old value, both float32 (x's dtype), then cast to float64
    y = lib.tensor([7.063610076904297], dtype=lib.float64, requires_grad=True)
    w = lib.tensor([-3.3638288974761963], requires_grad=True)
    x = w * 1
    x *= y
    x.backward(lib.tensor([-3.3638288974761963]))
    return {"y": y, "w": w, "x": x}


@program
def alpha_checked_after_the_shapes(lib: ModuleType) -> dict[str, Any]:
    integers, floats = lib.ones(2, 3, dtype=lib.int64), lib.ones(2)
    return {
        "int64, alpha=0.5": attempt(lambda: integers.sub(lib.ones(2, dtype=lib.int64), alpha=0.5)),
        "alpha=1e50": attempt(lambda: floats.add(lib.ones(3), alpha=1e50)),
        "alpha=True": attempt(lambda: integers.add(lib.ones(2), alpha=True)),
    }


@program
def saved_cast_then_modified_in_place(lib: ModuleType) -> dict[str, Any]:
    w = lib.ones(3, dtype=lib.float64, requires_grad=True)
    x = lib.ones(3)
    y = x * w
    with lib.no_grad():
        x *= 5
    return {"backward": attempt(lambda: y.sum().backward()), "w": w, "x": x}


@program
def multiply_and_divide_in_place_by_a_tensor_needing_grad(lib: ModuleType) -> dict[str, Any]:
    made = {}
    for name in ("*=", "/="):
        z = lib.tensor([2.0, 4.0], requires_grad=True)
        x = lib.tensor([3.0, 5.0], requires_grad=True)
        y = x * 1
        if name == "*=":
            y *= z
        else:
            y /= z
        (y * y).sum().backward()
        made[name] = {"x": x, "y": y, "z": z}
    return made


@program
def divide_in_place_by_a_tensor_of_another_dtype_needing_grad(lib: ModuleType) -> dict[str, Any]:
    # z is cast to y's dtype, so the op watches its cast operands: y's saved copy is not y any more
    z = lib.tensor(4.0, dtype=lib.float64, requires_grad=True)
    y = lib.tensor([-2.5, 3.0])
    y /= z
    return {"backward": attempt(lambda: y.backward(lib.ones(2))), "y": y, "z": z}


@program
def in_place_on_an_overlapping_view_made_under_no_grad(lib: ModuleType) -> dict[str, Any]:
    # torch checks autograd's rules (a view made under no_grad) before the memory overlap
    x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    with lib.no_grad():
        v = x.t()
    return {"in place": attempt(lambda: v.add_(x)), "x": x, "v": v}


@program
def in_place_on_a_leaf_with_an_int_beyond_64_bits(lib: ModuleType) -> dict[str, Any]:
    # torch converts the number before it checks autograd's rules (a leaf requiring grad)
    x = lib.tensor(-1.0, requires_grad=True)
    return {"in place": attempt(lambda: x.add_(2**64)), "x": x}


@program
def multiply_in_place_by_itself(lib: ModuleType) -> dict[str, Any]:
    x = lib.tensor([3.0, 5.0], requires_grad=True)
    y = x * 1
    y *= y
    return {"backward": attempt(lambda: y.sum().backward()), "x": x, "y": y}


# ---------------------------------------------------------------- 6. torch's order of gradient sums
@program
def a_leaf_reached_three_ways(lib: ModuleType) -> dict[str, Any]:
    x = lib.tensor(4.3278937339782715, requires_grad=True)
    y = x * x + x * 1.9
    y.backward()
    return {"x": x, "y": y}


# ---------------------------------------------------------------- 7, 8, 9, 10, 11
@program
def reductions_over_dim_none_keep_dims(lib: ModuleType) -> dict[str, Any]:
    x = lib.ones(2, 3, requires_grad=True)
    return {
        "sum": x.sum(dim=None, keepdim=True),
        "mean": x.mean(dim=None, keepdim=True),
        "sum(dim=None)": x.sum(dim=None),
        "sum()": x.sum(),
        "lib.sum": lib.sum(x),
    }


@program
def views_require_grad_through_their_base(lib: ModuleType) -> dict[str, Any]:
    w = lib.ones(2, 3, requires_grad=True)
    with lib.no_grad():
        v = w.t()
    a = lib.ones(2, 3)
    u = a.t()
    a.requires_grad_()
    y = (v * 2).sum() + (u * 3).sum()
    y.backward()
    return {"v": v, "u": u, "y": y, "w": w, "a": a, "0-d t().t()": lib.tensor(1.0).t().t()}


@program
def in_place_from_an_overlapping_view(lib: ModuleType) -> dict[str, Any]:
    a = lib.tensor([[1.0, 2.0], [3.0, 4.0]])
    b = a.t()
    c = lib.ones(2, 3)
    # the same bytes with the same strides: one layout to torch, so the shapes are what it refuses
    column, column_3d, row_3d = lib.ones(2, 1), lib.ones(2, 1, 3), lib.ones(1, 2, 1)
    return {
        "b += a": attempt(lambda: b.add_(a)),
        "shape and overlap": attempt(lambda: c.t().add_(c)),
        "same strides, shapes differ": attempt(lambda: column.t().add_(column)),
        "same strides, 3-D": attempt(lambda: column_3d.transpose(0, 1).add_(column_3d)),
        "other strides, one shape": attempt(lambda: row_3d.transpose(0, 2).add_(row_3d)),
        "a += a": a.add_(a),
        "a": a,
        "b": b,
    }


@program
def backward_errors_in_torch_order(lib: ModuleType) -> dict[str, Any]:
    return {
        "no grad, not scalar": attempt(lambda: lib.ones(2, 3).backward()),
        "no grad, scalar": attempt(lambda: lib.ones(()).backward()),
        "grad, not scalar": attempt(lambda: lib.ones(2, requires_grad=True).backward()),
    }


@program
def a_failing_backward_keeps_what_it_accumulated(lib: ModuleType) -> dict[str, Any]:
    a = lib.tensor(2.0, requires_grad=True)
    b = lib.tensor(1.0, requires_grad=True)
    y = a * a + b * 2
    z = a * a + b
    y.backward()
    z.backward()
    return {"again y": attempt(y.backward), "again z": attempt(z.backward), "a": a, "b": b}


@program
def versions_of_products_and_grads(lib: ModuleType) -> dict[str, Any]:
    w = lib.ones(3, requires_grad=True)
    (w * 2).sum().backward()
    first = w.grad._version
    (w * 2).sum().backward()
    return {"first": first, "w": w, "1-D @ 2-D": lib.ones(3) @ lib.ones(3, 2), "2-D @ 1-D": lib.ones(2, 3) @ w}


@program
def grad_versions_where_the_gradient_is_a_view_or_a_sum(lib: ModuleType) -> dict[str, Any]:
    # torch takes a lone view of the caller's gradient as the .grad (version 0), sums out of place into a tensor
    # others hold (version 0), and in place into one it alone holds (version 1)
    def version(make: Callable[[Any], Any], *gradient: Any, shape: tuple[int, ...] = ()) -> int:
        x = lib.ones(shape, requires_grad=True)
        make(x).backward(*gradient)
        return int(x.grad._version)

    return {
        "t() of 0-d": version(lambda x: x.t()),
        "t() of 1-D, given": version(lambda x: x.t(), lib.ones(3), shape=(3,)),
        "t() of 2-D": version(lambda x: x.t().sum(), shape=(2, 3)),
        "t() of 2-D, given": version(lambda x: x.t(), lib.ones(3, 2), shape=(2, 3)),
        "x + x": version(lambda x: x + x),
        "x - x": version(lambda x: x - x),
        "add(x, alpha=2)": version(lambda x: x.add(x, alpha=2)),
        "x * 2 + x * 3": version(lambda x: x * 2 + x * 3),
        "x.t() + x": version(lambda x: x.t() + x),
        "(x.t() * 1 + x).t()": version(lambda x: (x.t() * 1 + x).t()),
        # torch lays an elementwise result out as its first operand; numpy, in C order where operands disagree
        "(x ** 2).t(), given": version(lambda x: (x**2).t(), lib.ones(3, 3), shape=(3, 3)),
        "x.t() ** 0, given": version(lambda x: x.t() ** 0, lib.ones(3, 2).t().detach() * 1, shape=(3, 2)),
        # reductions and a number's power write a new C-ordered tensor; sum_to of a 0-d target is a new tensor;
        # sum over () expands directly; as_strided_backward returns a view
        "2 ** x.t(), given": version(lambda x: 2 ** x.t(), lib.ones(3, 2).t().detach() * 1, shape=(3, 2)),
        "x.transpose(0, 2).sum(1), given": version(
            lambda x: -x.transpose(0, 2).sum(1) + 2, lib.ones(3, 2), shape=(2, 1, 3)
        ),
        "x.sum(())": version(lambda x: x.sum(()), shape=(1,)),
        "int + x + x, given": version(lambda x: lib.zeros(2, 1, 3, dtype=lib.int64) + x + x, lib.ones(2, 1, 3)),
        "x.sum(0) / itself": version(lambda x: x.sum(0) / x.sum(0), shape=(1,)),
        # a gradient sent along two edges is held until the other edge's node has run
        "(x * 0 + x) / 1, given": version(lambda x: x * 0 + x, lib.ones(2, 1, 3), shape=(2, 1, 3)),
        # zero_'s gradient keeps the grad's strides; add with alpha is laid out as its first operand
        "(x + 2).zero_().sum()": version(lambda x: (x + 2).zero_().sum(), shape=(1,)),
        "(x - x).zero_().t(), given": version(lambda x: (x - x).zero_().t(), lib.ones(3, 1), shape=(1, 3)),
        "x.t().add(int, alpha=-1), given": version(
            lambda x: x.t(), lib.ones(3, 2).t().add(lib.tensor(8), alpha=-1), shape=(3, 2)
        ),
        # torch's mm gives a column-major input its gradient in column-major order
        "x.t() @ x.t(), given": version(lambda x: x.t() @ x.t(), lib.ones(3, 3), shape=(3, 3)),
        "x @ x, given": version(lambda x: x @ x, lib.ones(3, 3), shape=(3, 3)),
        "x.t() * x, given": version(lambda x: (x.t() * x).t(), lib.ones(3, 3), shape=(3, 3)),
        # torch's expand keeps a size-1 dim's stride
        "sum(1) of (2, 1), given": version(lambda x: x.sum(1), lib.ones(2), shape=(2, 1)),
        "sum(-1) of (1,)": version(lambda x: -x.sum(-1).sum(), shape=(1,)),
        # torch's views keep their base (and so its memory) alive: no sum into them in place; sum_to over leading
        # dims is a view, over size-1 dims not
        "x * 2 + x * ones(2, 2, 3)": version(lambda x: (x * 2 + x * lib.ones(2, 2, 3)).sum(), shape=(2, 3)),
        "x * ones(2, 2, 3) + x * 2": version(lambda x: (x * lib.ones(2, 2, 3) + x * 2).sum(), shape=(2, 3)),
        "x * ones(2, 2) twice": version(lambda x: (x * lib.ones(2, 2) + x * lib.ones(2, 2)).sum(), shape=(2, 1)),
        "(x.t() + x) + x, given": version(lambda x: x.t() + x + x, lib.ones(2, 2), shape=(2, 1)),
        "x * 2 + (x.t() * 1).t()": version(lambda x: (x * 2 + (x.t() * 1).t()).sum(), shape=(2, 3)),
        "x * ones(2, 2) + x.t() * ones(2, 2)": version(
            lambda x: (x * lib.ones(2, 2) + x.t() * lib.ones(2, 2)).sum(), shape=(2, 1)
        ),
    }


@program
def grad_versions_through_a_rebuilt_view(lib: ModuleType) -> dict[str, Any]:
    x = lib.ones(1, 3, requires_grad=True)
    y = x.add(x, alpha=2)
    view = y.t()
    y += 2
    view.backward(view.detach() * 1)
    a = lib.tensor(10000.0, requires_grad=True)
    b, c = (lib.ones(2, 1, 3, dtype=lib.float64, requires_grad=True) for _ in range(2))
    ((b + c) * a).backward(b.detach() * 1)
    # CopySlices and AsStrided write the gradient in the base's layout (here a transposed one)
    z = lib.ones(2, 3, requires_grad=True)
    base = lib.tensor(0) + z.t()
    view_of_base = base.t()
    base += z.t()
    view_of_base.backward(z.detach() * 1)
    return {
        "x": x,
        "x.grad version": int(x.grad._version),
        "a": a,
        "b": b,
        "c": c,
        "c.grad version": int(c.grad._version),
        "z": z,
        "z.grad version": int(z.grad._version),
    }


@program
def inputs_sharing_one_array(lib: ModuleType) -> dict[str, Any]:
    # x.detach() shares x's array: each saved operand is still the input it was given as
    x = lib.ones(2, 3, requires_grad=True)
    y = x.detach()
    y /= x
    x2 = lib.ones(3, requires_grad=True)
    z = x2.detach() * x2
    x2.detach().add_(1)
    return {"x / x.detach(), in place": attempt(lambda: y.sum().backward()), "z": attempt(lambda: z.sum().backward())}


@program
def a_saved_output_modified_in_place(lib: ModuleType) -> dict[str, Any]:
    # pow of a number and pow of a tensor save their result: torch checks its version, naming the node that saved it
    x = lib.tensor([2.0, 3.0], requires_grad=True)
    y = 2**x
    y += x
    z = x * 1
    z **= x  # in place: the saved result is z, at its new version
    w = z * 1
    z *= 2
    return {"2 ** x, then +=": attempt(lambda: y.sum().backward()), "**=, then *=": attempt(lambda: w.sum().backward())}


@program
def numpy_warnings_stay_silent(lib: ModuleType) -> dict[str, Any]:
    x = lib.tensor([0.0, 1.0, -1.0, 3e38], requires_grad=True)
    inf = lib.tensor([float("inf")] * 4)
    y = x / 0 + x * 10 + (inf - inf) + 1 / x + x**-1 + (x * 1e38).sum() + x.mean()
    y.sum().backward()
    return {"y": y, "x": x}


@program
def found_by_long_fuzz_runs_of_seeds_5_to_10(lib: ModuleType) -> dict[str, Any]:
    # seed 5, program 3944: the expand of t4's gradient (a view of it) holds it, so torch adds the gradient
    # arriving through the sum into a new tensor, not into that one in place
    t1 = lib.tensor([-9.896270751953125], requires_grad=True)
    t4 = t1 + t1.sum(0, keepdim=True)
    (t4 @ t4 + 2).backward()
    # seed 6, program 7663: a float64 gradient of a float32 0-d input is cast, not summed (-0.0 stays -0.0)
    t0 = lib.tensor(0.0, dtype=lib.float64, requires_grad=True)
    divisor = lib.tensor(2.0, requires_grad=True)
    (t0 / divisor).backward()
    # seed 8, program 2741: div's divisor, cast to float64, is saved and checked even though no edge takes a
    # gradient (the dividend requires grad only through a view made under no_grad)
    x = lib.tensor(0.001, dtype=lib.float64, requires_grad=True)
    scale = lib.tensor(-2.5)
    with lib.no_grad():
        view = x.t()
    y = view / scale + x
    scale += 2
    # seed 5, program 8481: t()'s gradient is a view of its 0-d grad (which numpy computes as a scalar), so the
    # second contribution to a's gradient is added into a new tensor
    a = lib.tensor(5.054423809051514, requires_grad=True)
    (-a / a.t()).backward()
    # seed 8, program 2768: a broadcast float64 gradient cast to float32 is C-ordered, the leaf's own layout
    b = lib.tensor([-2.5], dtype=lib.float64, requires_grad=True)
    c = lib.tensor([[0.001, 0.001], [0.001, 0.001], [0.001, 0.001]], requires_grad=True)
    total = (c + b).sum(0)
    total.backward(total.detach() * 1)
    # seed 10, program 112: t.t() + u, t transposed and broadcast, is laid out by torch's TensorIterator (its
    # dims ordered by t's strides where t is not broadcast): so is -u's gradient, and u's .grad is a copy
    t = lib.ones(3, 2, requires_grad=True)
    u = lib.tensor([[[3.0] * 3] * 2] * 2, requires_grad=True)
    negated = -u
    with lib.no_grad():
        transposed = t.t()
    negated.backward((transposed + negated).detach() * 1)
    return {
        "u": u,
        "u.grad version": int(u.grad._version),
        "t1": t1,
        "t1.grad version": int(t1.grad._version),
        "divisor": divisor,
        "backward after the divisor changed": attempt(lambda: y.backward()),
        "a": a,
        "a.grad version": int(a.grad._version),
        "c": c,
        "c.grad version": int(c.grad._version),
    }


# ---------------------------------------------------------------- the tests (after every program is registered)
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_same_as_torch(name: str) -> None:
    assert_same(PROGRAMS[name])


def backward_in_creation_order(engine: ModuleType) -> None:
    """The ready queue runs the node made first, not last (torch's order reversed)."""
    engine.autograd.Node.__lt__ = lambda self, other: self.sequence_nr < other.sequence_nr


def in_place_on_a_view_forgets_the_base(engine: ModuleType) -> None:
    """An in-place op on a view records the op on the view alone, as if it were not a view."""

    def set_history(self: Any, node: Any) -> None:
        self._grad_fn, self._requires_grad = node, True

    engine.Tensor._set_history = set_history


def in_place_saves_the_overwritten_value(engine: ModuleType) -> None:
    """`y *= z` saves y's array itself, which the op then overwrites, rather than a copy of its old value
    (the ops never learn which array an in-place op writes into)."""
    engine.ops.autograd = SimpleNamespace(writing_into=None)


SEEDED = [
    *VIEW_AND_IN_PLACE_BUGS,
    Variant("backward runs the earliest node first", backward_in_creation_order),
    Variant("in place on a view forgets the base", in_place_on_a_view_forgets_the_base),
    Variant("in place saves the overwritten value", in_place_saves_the_overwritten_value),
]


@pytest.mark.parametrize("bug", SEEDED, ids=lambda bug: bug.name)
def test_a_seeded_bug_is_caught(bug: Variant) -> None:
    engine = bug.engine()
    caught = [name for name, prog in sorted(PROGRAMS.items()) if observe(prog, engine) != observe(prog, torch)]
    assert caught, f"no program tells the seeded bug ({bug.name}) from torch"


def warning_prone_step() -> None:
    """Every kind of numpy warning, in forward and backward: x / 0, 0 / 0, overflow in mul, add, pow, sum
    (forward, and backward's sum over a broadcast dim), inf - inf, a negative number to a fractional power,
    1 / 0; an outer product (mv's backward) that overflows."""
    x = minigrad.tensor([0.0, 1.0, -1.0, 3e38], requires_grad=True)
    big = minigrad.tensor([[3e38], [3e38]], requires_grad=True)
    inf = minigrad.tensor([float("inf")] * 4)
    y = x / 0 + x * 1e38 + (x + 3e38) + x**200 + (inf - inf) + x**0.5 + 1 / x + (x * 1e38).sum()
    z = (big + x).sum() + (big * x).sum() + minigrad.mv(big * x, x).sum() * 1e30
    (y.sum() + z).backward()


def test_numpy_warnings_are_silent_at_no_cost_per_op() -> None:
    """With minigrad's warnings filter first (no filter added since import), ops skip numpy's error state:
    the filter alone must silence them, and every other warning is an error here, so a warning raised in
    numpy's own Python code (ndarray.sum, np.outer) would fail. The user's numpy code still warns."""
    with warnings.catch_warnings():
        warnings.filters[:] = [minigrad.autograd.OWN_WARNINGS_IGNORED, ("error", None, Warning, None, 0)]  # type: ignore[index]
        warnings._filters_mutated()  # type: ignore[attr-defined]
        warning_prone_step()
        with pytest.raises(RuntimeWarning, match="divide by zero"):
            np.float32(1) / np.float32(0)


def test_numpy_warnings_are_silent_under_a_later_error_filter() -> None:
    """A filter added after minigrad's comes first (simplefilter, pytest's, importing torch): the next op puts
    minigrad's first again, which silences minigrad's numpy warnings only; the user's still raise."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert warnings.filters[0] is not minigrad.autograd.OWN_WARNINGS_IGNORED
        warning_prone_step()
        assert warnings.filters[0] is minigrad.autograd.OWN_WARNINGS_IGNORED
        with pytest.raises(RuntimeWarning, match="divide by zero"):
            np.float32(1) / np.float32(0)
