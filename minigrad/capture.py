"""Capture a training step once, then replay it as a flat list of numpy calls.

    @minigrad.capture
    def step():
        loss = minigrad.sum((x @ w.t() + b - y) ** 2)
        loss.backward()
        with minigrad.no_grad():
            w -= w.grad * 1e-5
            w.grad.zero_()
        return loss

    for i in range(900):
        loss = step()       # the first call records, later calls replay
    print(step.tape)        # the recorded numpy calls, in order, named by the graph node that made each one

Recording. A call with no recording that applies runs the step eagerly, as minigrad always runs, with every
tensor the step can reach by name (see Guards) holding a `TracedArray`: a view of its own array whose numpy
calls come to the recording first, through numpy's own hooks (`__array_ufunc__`, `__array_function__`). Each
call is run with `out=` into a buffer the recording allocates, after checking that it gives the very bits the
call gives without `out=`, and appended to the tape with the graph node (or Tensor method) that made it, found
on the call stack. Results of traced calls are traced too, so the tape holds every forward op, the backward
pass exactly as the engine ran it (its node order, the sums of gradients, the unbroadcast sums, accumulation
into `.grad`), the in-place updates and `zero_()`. Nothing in minigrad's ops changes for this. Three
functions would turn a traced array back into a plain one (`np.asarray`, `np.array`, and `ops.expand`, which
uses numpy's ndarray constructor): while recording, capture stands in for them.

Replay. Later calls run the tape: numpy calls with prebound arguments and `out=` buffers allocated once. No
Tensor, no graph node, no op dispatch. Buffers whose lifetimes within a step don't overlap share memory. The
tensors the step leaves behind are the same objects every step, updated in place, as CUDA Graphs' static
outputs: w, b and their grads (as in eager), and also the tensor the step returns (eager makes a new one each
call: keep `loss.item()`, not `loss`). Version counters advance as eager advances them.

Guards. Before each replay, cheap checks that the recording still applies: grad mode; every name the step's
code reads (globals, closure cells, default arguments, and attributes and items of what they hold, down a
few levels) still holds the same object, or an equal number or string; each tensor the step used still has
the same array (shape, dtype), the same `.grad` (or none), the same requires_grad, and no graph. If one fails,
the step runs eagerly again and is re-recorded (what eager would do is always right; it is only slower once).
Recording again on every call means the step changes what it reads each time (a counter, say): a warning
names it.

What capture can't see, and how it refuses. A recording holds numpy calls, not Python: inside the step,
reading a tensor's values (`.item()`, `.tolist()`, `bool()`, printing), creating a tensor (`minigrad.tensor`,
`zeros`, `randn`, `from_numpy`), or using one the step reaches in a way the guards don't follow raises
`CaptureError` while recording; so does keeping a tensor the step computed anywhere but in its return value.
Python side effects (printing, appending to a list) happen only while recording. Numbers the step reads
from deeper than DEEPEST attributes or items, or from containers longer than MOST_ITEMS, are not guarded.
"""

from __future__ import annotations

import contextlib
import dis
import functools
import sys
import types
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from minigrad import autograd, ops
from minigrad.autograd import Array, Node
from minigrad.tensor import Tensor

MISSING = object()
OUT = object()  # in a recorded call's arguments: the new buffer it writes
SCALARS = (int, float, complex, str, bytes, type(None))
LIBRARIES = ("numpy", "minigrad", "builtins")  # their functions' names aren't followed (they read no user tensors)
MOST_ITEMS = 64  # containers longer than this are guarded by identity only
DEEPEST = 4  # how many attributes or items deep the search for names goes
MOST_SLOTS = 4096  # and how many places it looks at in all


class CaptureError(RuntimeError):
    """The step does something a recording can't hold, or a replay can't repeat."""


class CaptureWarning(UserWarning):
    """The step is recorded again on every call: it changes what its guards watch."""


# ---------------------------------------------------------------- traced arrays
class TracedArray(np.ndarray):
    """A numpy array (a view of the real one) whose numpy calls are recorded while `recording` is set."""

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if recording is None:  # a traced array that outlived its recording behaves as a plain one
            return getattr(ufunc, method)(*map(plain, inputs), **kwargs)
        return recording.ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if recording is None:
            return func(*map(plain, args), **kwargs)
        return recording.function(func, args, kwargs)

    def astype(self, dtype: Any, order: Any = "K", casting: Any = "unsafe", subok: Any = True, copy: Any = True) -> Any:
        if recording is None or (not copy and self.dtype == dtype):
            return super().astype(dtype, order, casting, subok, copy)
        return recording.copy(self, lambda source: source.astype(dtype, order))

    def copy(self, order: Any = "C") -> Any:
        if recording is None:
            return super().copy(order)
        return recording.copy(self, lambda source: source.copy(order))

    def fill(self, value: Any) -> None:
        if recording is None:
            return super().fill(value)
        recording.call(np.ndarray.fill, (self, value), writes=self)

    def __setitem__(self, key: Any, value: Any) -> None:
        if recording is None:
            return super().__setitem__(key, value)
        recording.call(np.ndarray.__setitem__, (self, key, value), writes=self)

    def __getitem__(self, key: Any) -> Any:
        item = super().__getitem__(key)
        is_view = isinstance(item, np.ndarray) and np.may_share_memory(plain(item), plain(self))
        if recording is not None and not is_view:
            raise recording.reading("indexing to a value")
        return item


def refusing(name: str) -> Callable[..., Any]:
    """An ndarray method that hands values to Python, refused while recording."""
    method = getattr(np.ndarray, name)

    def read(self: TracedArray, *args: Any, **kwargs: Any) -> Any:
        if recording is not None:
            raise recording.reading(f"{name.strip('_')}()")
        return method(self, *args, **kwargs)

    return read


for _name in ("item", "tolist", "tobytes", "__bool__", "__float__", "__int__", "__index__", "__iter__", "__repr__",
              "__str__"):  # fmt: skip
    setattr(TracedArray, _name, refusing(_name))


def plain(x: Any) -> Any:
    """An ndarray of the same memory, untraced (anything else as it is)."""
    return x.view(np.ndarray) if isinstance(x, TracedArray) else x


def result_into(out: Array, function: Callable[..., Any], *args: Any) -> None:
    """A numpy function without out=, recorded: its result copied into the buffer."""
    np.copyto(out, function(*args))


def same_bits(a: Array, b: Array) -> bool:
    """Whether two arrays of one dtype and layout hold the same bits (-0.0 is not 0.0, and a NaN is itself)."""
    as_integers = f"u{a.itemsize}" if a.itemsize in (1, 2, 4, 8) else None
    if as_integers is None or not a.ndim:
        return a.tobytes() == b.tobytes()
    return bool(np.array_equal(a.view(as_integers), b.view(as_integers)))


def bounds(array: Array) -> tuple[int, int]:
    """The lowest and one past the highest address of an array's elements."""
    low = high = array.__array_interface__["data"][0]
    for size, stride in zip(array.shape, array.strides, strict=True):
        if size == 0:
            return low, low
        if stride > 0:
            high += (size - 1) * stride
        else:
            low += (size - 1) * stride
    return low, high + array.itemsize


class Region:
    """Memory the recording knows: a buffer a recorded call made (`buffer` is its index), or the array of a
    tensor the step reached by name (`name`), or a constant an op made from Python numbers."""

    def __init__(self, array: Array, name: str, buffer: int | None = None, constant: bool = False) -> None:
        self.array: Array | None = array  # a plain ndarray (a buffer's is dropped once the tape has its memory)
        self.name, self.buffer, self.constant = name, buffer, constant
        self.shape, self.strides = array.shape, array.strides
        self.start, self.end = bounds(array)  # where its memory begins, and ends


@dataclass(frozen=True, eq=False)
class Operand:
    """An array argument of a recorded call: a view (shape, strides, byte offset) of a region."""

    region: Region
    offset: int
    shape: tuple[int, ...]
    strides: tuple[int, ...]
    dtype: np.dtype[Any]
    view: Array | None = field(default=None, compare=False)  # the array itself, for memory outside the buffers

    def __str__(self) -> str:
        whole = self.offset == 0 and self.shape == self.region.shape and self.strides == self.region.strides
        return f"{self.region.name}{list(self.shape)}" + ("" if whole else " view")


@dataclass(eq=False)
class Call:
    """One numpy call of the tape: `function(*args, **kwargs)`, arrays as Operands."""

    function: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    origin: str  # the graph node (MmBackward0...) or Tensor method (zero_...) whose code made the call
    phase: str  # forward, backward, or no_grad
    writes: Operand | None  # the array it writes (its out=), if any
    defines: int | None = None  # the buffer it allocated, if it did
    constant: bool = False  # it only fills a new buffer with a number

    def __str__(self) -> str:
        function: Any = self.function
        owner = getattr(function, "__self__", None)
        if isinstance(function, np.ufunc):
            name = function.__name__
        elif isinstance(owner, np.ufunc):  # ufunc.reduce
            name = f"{owner.__name__}.{function.__name__}"
        else:
            name = getattr(function, "__qualname__", None) or function.__name__
        words = [str(a) if isinstance(a, Operand) else repr(a) for a in self.args]
        words += [f"{k}={v}" for k, v in self.kwargs.items()]
        return f"{name}({', '.join(words)})"


# ---------------------------------------------------------------- recording
recording: Recording | None = None  # the recording in progress (capture does not nest)


class Recording:
    """What one eager run of the step did, as numpy calls on known memory."""

    def __init__(self) -> None:
        self.regions: list[Region] = []
        self.buffers: list[Array] = []
        self.calls: list[Call] = []
        self.before: dict[int, tuple[Array, Array]] = {}  # a copy of each tensor's array the step writes, to undo

    # -- memory
    def region_of(self, array: Array) -> Operand:
        low, high = bounds(array)
        for region in self.regions:
            if region.start <= low and high <= region.end:
                offset = array.__array_interface__["data"][0] - region.start
                view = None if region.buffer is not None else array  # a view of a buffer would keep it alive
                return Operand(region, offset, array.shape, array.strides, array.dtype, view)
        raise CaptureError(
            f"capture: a numpy call (in {self.origin()[0]}) uses an array of shape {list(array.shape)} that the "
            "recording did not see made: from a tensor the step reaches in a way capture doesn't follow (give it a "
            "global or closure name, or make it an attribute of one), or from numpy data the step used directly."
        )

    def describe(self, value: Any, written: bool = False) -> Any:
        if not isinstance(value, np.ndarray):
            return value
        operand = self.region_of(plain(value))
        if written and operand.region.constant:
            raise CaptureError("capture: an op writes in place into a constant it made; a replay couldn't repeat that")
        return operand

    def adopt(self, array: Array, name: str) -> TracedArray:
        self.regions.append(Region(array, name))
        return array.view(TracedArray)

    def constant(self, array: Array) -> Array:
        self.regions.append(Region(array, "const", constant=True))
        return array.view(TracedArray)

    # -- where a call comes from
    @staticmethod
    def origin() -> tuple[str, str]:
        """The graph node or Tensor method whose code is running, and the phase: forward, backward, no_grad."""
        frame = sys._getframe(1)
        found = None
        backward = False
        while frame is not None:
            if frame.f_code is autograd.run_backward.__code__:
                backward = True
                found = found or "backward: summing gradients"
            owner = frame.f_locals.get("self")
            backward = backward or (isinstance(owner, Tensor) and frame.f_code.co_name == "backward")
            if found is None and isinstance(owner, Node):
                found = type(owner).__name__
            elif found is None and isinstance(owner, Tensor):
                found = {"_accumulate_grad": "AccumulateGrad", "backward": "backward: the root gradient"}.get(
                    frame.f_code.co_name, f"Tensor.{frame.f_code.co_name}"
                )
            frame = frame.f_back  # type: ignore[assignment]
        phase = "backward" if backward else "forward" if autograd._grad_enabled else "no_grad"
        return found or "the step", phase

    # -- recorded calls
    def call(self, function: Callable[..., Any], args: tuple[Any, ...], writes: Any, **kwargs: Any) -> Any:
        """Run a call that writes into an array that exists already (out=, setitem, fill), and record it."""
        target = self.describe(writes, written=True)
        if target.region.buffer is None and id(target.region) not in self.before:
            array = target.region.array
            assert array is not None
            self.before[id(target.region)] = (array, array.copy())
        origin, phase = self.origin()
        described = tuple(self.describe(a) for a in args)
        self.calls.append(
            Call(function, described, {k: self.describe(v) for k, v in kwargs.items()}, origin, phase, target)
        )
        return function(*map(plain, args), **{k: plain(v) for k, v in kwargs.items()})

    def new(
        self,
        eager: Callable[[], Any],
        function: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any] | None = None,
        constant: bool = False,
    ) -> TracedArray:
        """A call that makes a new array. `eager()` runs it as the op wrote it; the recorded call is
        `function(*args, **kwargs)` with OUT standing for a new buffer of the same layout. Both are run, and must
        give the same bits."""
        result = ORIGINAL_ASARRAY(eager())
        buffer = np.empty_like(result)
        index = len(self.buffers)
        self.buffers.append(buffer)
        self.regions.append(Region(buffer, f"%{index}", buffer=index))
        args = tuple(buffer if a is OUT else a for a in args)
        kwargs = {k: buffer if v is OUT else v for k, v in (kwargs or {}).items()}
        origin, phase = self.origin()
        described = tuple(self.describe(a) for a in args)
        recorded = Call(
            function,
            described,
            {k: self.describe(v) for k, v in kwargs.items()},
            origin,
            phase,
            self.describe(buffer),
            index,
            constant,
        )
        self.calls.append(recorded)
        function(*map(plain, args), **{k: plain(v) for k, v in kwargs.items()})
        if not same_bits(result, buffer):
            raise CaptureError(f"capture: {recorded} gives other bits than the op's own call; it can't be replayed")
        return buffer.view(TracedArray)

    def copy(self, source: Any, eager: Callable[[Array], Any]) -> TracedArray:
        """A copy or cast of `source` (astype, copy, np.array): recorded as np.copyto, which converts each
        element as they do."""
        return self.new(lambda: eager(plain(source)), np.copyto, (OUT, source), {"casting": "unsafe"})

    def ufunc(self, ufunc: np.ufunc, method: str, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if method not in ("__call__", "reduce") or ufunc.nout != 1:
            raise CaptureError(f"capture can't record numpy's {ufunc.__name__}.{method}")
        function = ufunc if method == "__call__" else ufunc.reduce
        out = kwargs.pop("out", None)
        if out is not None:  # in place: `a += b`, `a *= 2`
            self.call(function, inputs, writes=out[0], out=out[0], **kwargs)
            return out[0]
        return self.new(lambda: function(*map(plain, inputs), **kwargs), function, inputs, {**kwargs, "out": OUT})

    def function(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """numpy functions: those that read only shapes and dtypes, or make views, pass through; fills, copies,
        outer products and np.where are recorded; anything else is refused (never run untraced: it might
        write into an array)."""
        if func in (np.result_type, np.shape, np.ndim, np.size, np.can_cast, np.shares_memory, np.may_share_memory):
            return func(*map(plain, args), **kwargs)  # questions about shapes, dtypes or memory, not arithmetic
        if func in (np.ones_like, np.zeros_like) and not kwargs:
            value = 1 if func is np.ones_like else 0
            return self.new(lambda: func(plain(args[0])), np.ndarray.fill, (OUT, value), constant=True)
        if func is np.copy and not kwargs:
            return self.copy(args[0], np.copy)
        if func is np.outer and not kwargs:
            return self.new(lambda: np.outer(*map(plain, args)), np.outer, (*args, OUT))
        if func is np.where and len(args) == 3 and not kwargs:  # it has no out=: its result is copied into one
            return self.new(lambda: np.where(*map(plain, args)), result_into, (OUT, np.where, *args))
        if func in (np.expand_dims, np.squeeze, np.broadcast_to, np.transpose, np.reshape, np.broadcast_arrays):
            made = func(*map(plain, args), **kwargs)
            views = made if func is np.broadcast_arrays else [made]
            if not all(any(np.may_share_memory(v, plain(a)) for a in args) for v in views):
                raise CaptureError(f"capture: numpy.{func.__name__} copied instead of making a view")
            traced = [v.view(TracedArray) for v in views]
            return traced if func is np.broadcast_arrays else traced[0]
        raise CaptureError(f"capture can't record numpy.{func.__name__} (called in {self.origin()[0]})")

    def reading(self, what: str) -> CaptureError:
        return CaptureError(
            f"capture: the step reads a tensor's values ({what}) in {self.origin()[0]} while being recorded. A replay "
            "runs no Python, so whatever that value decides (a branch, a print) would not be redone: read values "
            "after the step returns."
        )

    # -- numpy's asarray and array, while recording: they would strip the tracing
    def asarray(self, a: Any, dtype: Any = None, *args: Any, **kwargs: Any) -> Any:
        if isinstance(a, TracedArray):
            return a if dtype is None or a.dtype == dtype else a.astype(dtype)
        made = ORIGINAL_ASARRAY(a, dtype, *args, **kwargs)  # a number made an array (a constant), or untraced data
        return self.constant(made) if not isinstance(a, np.ndarray) else made

    def array(self, a: Any, dtype: Any = None, *args: Any, copy: bool = True, order: Any = "K", **kwargs: Any) -> Any:
        if isinstance(a, TracedArray) and not args and not kwargs:
            return a.astype(a.dtype if dtype is None else dtype, order, copy=copy)
        made = ORIGINAL_ARRAY(a, dtype, *args, copy=copy, order=order, **kwargs)
        return self.constant(made) if not isinstance(a, np.ndarray) else made


ORIGINAL_ASARRAY, ORIGINAL_ARRAY = np.asarray, np.array


@contextlib.contextmanager
def standing_in(current: Recording) -> Iterator[None]:
    """Make `current` the recording, and stand in for the three functions that would hand back a plain array
    made from a traced one: numpy's asarray and array, and ops.expand (numpy's ndarray constructor, which it
    uses, can't make a subclass)."""
    global recording
    saved = np.asarray, np.array, ops.expand
    expand = ops.expand
    recording = current
    np.asarray, np.array = current.asarray, current.array  # type: ignore[assignment]
    ops.expand = lambda *args: expand(*args).view(TracedArray)
    try:
        yield
    finally:
        recording = None
        np.asarray, np.array, ops.expand = saved


def refuse_inside_recording() -> None:
    """Called by the tensor factories: a tensor made from data inside a recorded step would be frozen."""
    if recording is not None:
        raise CaptureError(
            "capture: the step creates a tensor from data (minigrad.tensor, zeros, ones, randn, from_numpy...) while "
            "being recorded. A replay would reuse this one tensor's values on every call: create it outside the step."
        )


# ---------------------------------------------------------------- what the step reaches by name
@dataclass(frozen=True)
class Slot:
    """A place the step's code reads: a global, a closure cell, a default, an attribute or an item."""

    get: Callable[[], Any]
    name: str


@functools.lru_cache(maxsize=1024)
def read_names(code: types.CodeType) -> tuple[tuple[str, str], ...]:
    """The globals and closure variables a code object (and the functions nested in it) reads."""
    names: dict[tuple[str, str], None] = {}
    for instruction in dis.get_instructions(code):
        if instruction.opname in ("LOAD_GLOBAL", "LOAD_NAME"):
            names["global", instruction.argval] = None
        elif instruction.opname in ("LOAD_DEREF", "LOAD_CLASSDEREF"):
            names["cell", instruction.argval] = None
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names.update(dict.fromkeys(read_names(constant)))
    return tuple(names)


def item(container: Any, key: Any) -> Any:
    try:
        return container[key]
    except (IndexError, KeyError):
        return MISSING


def default(function: types.FunctionType, index: int) -> Any:
    return item(function.__defaults__ or (), index)


def is_library(thing: Any) -> bool:
    return str(getattr(thing, "__module__", "") or "").split(".")[0] in LIBRARIES


def places(thing: Any, name: str) -> Iterator[tuple[Slot, Any]]:
    """The slots directly inside `thing` the step may read: for a function, the names its code reads."""
    if isinstance(thing, types.MethodType):
        yield Slot(functools.partial(getattr, thing, "__self__"), "self"), thing.__self__  # as the code names it
        thing = thing.__func__
    if isinstance(thing, types.FunctionType):
        if is_library(thing):
            return
        cells = dict(zip(thing.__code__.co_freevars, thing.__closure__ or (), strict=True))
        for kind, key in read_names(thing.__code__):
            if kind == "global" and key in thing.__globals__:
                slot = Slot(functools.partial(thing.__globals__.get, key, MISSING), key)
                yield slot, thing.__globals__[key]
            elif kind == "cell" and key in cells:
                try:
                    yield Slot(functools.partial(getattr, cells[key], "cell_contents"), key), cells[key].cell_contents
                except ValueError:  # a cell not filled yet
                    continue
        for i, value in enumerate(thing.__defaults__ or ()):
            yield Slot(functools.partial(default, thing, i), f"{name}'s default {i}"), value
        return
    if isinstance(thing, list | tuple | dict) and len(thing) <= MOST_ITEMS:
        pairs: Any = thing.items() if isinstance(thing, dict) else enumerate(thing)
        for key, value in pairs:
            yield Slot(functools.partial(item, thing, key), f"{name}[{key!r}]"), value
        return
    if hasattr(thing, "__dict__") and not isinstance(thing, type | types.ModuleType) and not is_library(type(thing)):
        for key, value in list(vars(thing).items())[:MOST_ITEMS]:
            yield Slot(functools.partial(item, vars(thing), key), f"{name}.{key}"), value
        for key, method in vars(type(thing)).items():
            if isinstance(method, types.FunctionType):
                yield Slot(functools.partial(getattr, type(thing), key), f"{type(thing).__name__}.{key}"), method


def reachable(step: Callable[[], Any]) -> list[tuple[Slot, Any]]:
    """Every slot the step can read, breadth first down to DEEPEST levels, each object followed once."""
    found: list[tuple[Slot, Any]] = []
    seen = {id(step)}
    level = [(step, getattr(step, "__name__", "step"))]
    for _ in range(DEEPEST):
        following = []
        for thing, name in level:
            for slot, value in places(thing, name):
                if len(found) == MOST_SLOTS:
                    return found
                found.append((slot, value))
                if id(value) not in seen and not isinstance(value, (*SCALARS, Tensor, np.ndarray)):
                    seen.add(id(value))
                    following.append((value, slot.name))
        level = following
    return found


# ---------------------------------------------------------------- guards
@dataclass(frozen=True)
class Guard:
    """A slot must still hold `expected`: the same object, or an equal number or string; for a tensor, the
    same `tensor_state` too."""

    slot: Slot
    expected: Any
    state: tuple[Any, ...] | None = None

    def holds(self) -> bool:
        value = self.slot.get()
        if value is not self.expected:
            return type(value) is type(self.expected) and isinstance(value, SCALARS) and value == self.expected
        return self.state is None or tensor_state(value) == self.state

    def change(self) -> str:
        """What changed, in words (for a guard that no longer holds)."""
        value = self.slot.get()
        if value is not self.expected:
            if isinstance(self.expected, SCALARS):
                return f"{self.slot.name} is {value!r}, not {self.expected!r}"
            return f"{self.slot.name} is another object"
        now = tensor_state(value)
        assert self.state is not None
        changed = [what for what, a, b in zip(TENSOR_STATE, now, self.state, strict=True) if a != b]
        return f"{self.slot.name}'s {' and '.join(changed)} changed"


TENSOR_STATE = ("array", "shape", "dtype", "requires_grad", "graph (it is not a leaf)", ".grad", ".grad's array")


def tensor_state(tensor: Tensor) -> tuple[Any, ...]:
    """What a recording relies on in a tensor it reads (TENSOR_STATE names each part)."""
    grad = tensor.grad
    return (
        id(tensor._data),
        tensor._data.shape,
        tensor._data.dtype,
        tensor._requires_grad,
        tensor.grad_fn is None,
        id(grad),
        None if grad is None else id(grad._data),
    )


# ---------------------------------------------------------------- the tape
class Tape:
    """A recording, planned for replay: numpy calls bound to buffers allocated once, and what the step does
    to the tensors it leaves behind (version counters, .grad)."""

    def __init__(
        self,
        recording: Recording,
        pinned: set[int],
        guards: list[Guard],
        grad_mode: bool,
        effects: list[Callable[[], None]],
        result: Any,
    ) -> None:
        self.calls = recording.calls
        self.guards, self.grad_mode, self.effects, self.result = guards, grad_mode, effects, result
        self.hoisted, self.memory = plan(recording, pinned)
        self.replay_calls = [bind(call, self.memory) for call in self.calls if call not in self.hoisted]

    def changed(self) -> str | None:
        """What no longer holds, in words (None: the recording applies)."""
        if autograd._grad_enabled is not self.grad_mode:
            return "grad mode changed"
        for guard in self.guards:
            if not guard.holds():
                return guard.change()
        return None

    def replay(self) -> Any:
        for function, args in self.replay_calls:
            function(*args)
        for effect in self.effects:
            effect()
        return self.result

    def __str__(self) -> str:
        lines = [
            f"{len(self.replay_calls)} numpy calls per replay, into {self.memory.arrays} arrays "
            f"({self.memory.nbytes:,} bytes) allocated once; %N is the N-th buffer the recording made"
        ]
        phase = None
        for number, call in enumerate(self.calls, 1):
            if call.phase != phase:
                phase = call.phase
                lines.append(f"{phase}:")
            note = "   (once, when the tape is built: a constant)" if call in self.hoisted else ""
            lines.append(f"  {number:3}  {call.origin:<32} {call}{note}")
        return "\n".join(lines)

    __repr__ = __str__


def bind(call: Call, memory: Memory) -> tuple[Callable[..., Any], tuple[Any, ...]]:
    """The call with its arguments bound to memory, positional where numpy allows (keywords cost time)."""
    args = tuple(memory.concrete(a) for a in call.args)
    kwargs = {k: memory.concrete(v) for k, v in call.kwargs.items()}
    function = call.function
    if isinstance(function, np.ufunc) and list(kwargs) == ["out"]:
        return function, (*args, kwargs["out"])
    if getattr(function, "__name__", "") == "reduce" and kwargs.pop("where", True) is True and "initial" not in kwargs:
        axis, dtype, keepdims = kwargs.pop("axis", 0), kwargs.pop("dtype", None), kwargs.pop("keepdims", False)
        out = kwargs.pop("out")
        if not kwargs:
            return function, (*args, axis, dtype, out, keepdims)
    return (functools.partial(function, **kwargs) if kwargs else function), args


@dataclass
class Memory:
    """The arrays a replay writes: each buffer the recording made, or one it shares memory with."""

    physical: dict[int, Array]

    @property
    def arrays(self) -> int:
        return len({id(a) for a in self.physical.values()})

    @property
    def nbytes(self) -> int:
        return sum({id(a): a.nbytes for a in self.physical.values()}.values())

    def concrete(self, value: Any) -> Any:
        if not isinstance(value, Operand):
            return value
        if value.view is not None:
            return value.view
        assert value.region.buffer is not None
        raw = self.physical[value.region.buffer].ravel(order="K").view(np.uint8)
        return np.ndarray(value.shape, value.dtype, raw, value.offset, value.strides)


def plan(recording: Recording, pinned: set[int]) -> tuple[list[Call], Memory]:
    """Give each buffer its memory: a buffer no longer used reuses the memory of one of the same layout whose
    last use came earlier. Pinned buffers (what the step leaves behind) keep their own. A constant fill of a
    buffer nothing else writes runs once, now."""
    calls, buffers = recording.calls, recording.buffers
    operands = [[a for a in (*c.args, *c.kwargs.values(), c.writes) if isinstance(a, Operand)] for c in calls]
    writers: dict[int, int] = {}
    last: dict[int, int] = {}
    for i, (call, used) in enumerate(zip(calls, operands, strict=True)):
        for operand in used:
            if operand.region.buffer is not None:
                last[operand.region.buffer] = i
        if call.writes is not None and call.writes.region.buffer is not None:
            writers[call.writes.region.buffer] = writers.get(call.writes.region.buffer, 0) + 1
    hoisted = [c for c in calls if c.constant and c.defines is not None and writers[c.defines] == 1]
    pinned = pinned | {c.defines for c in hoisted if c.defines is not None}
    physical: dict[int, Array] = {}
    free: dict[tuple[Any, ...], list[Array]] = {}
    ends: dict[int, list[int]] = {}
    for buffer, i in last.items():
        ends.setdefault(i, []).append(buffer)
    for i, call in enumerate(calls):
        if call.defines is not None:
            array = buffers[call.defines]
            pool = free.get((array.shape, array.dtype.str, array.strides), [])
            physical[call.defines] = pool.pop() if pool and call.defines not in pinned else array
        for buffer in ends.get(i, ()):
            if buffer not in pinned:
                array = buffers[buffer]
                free.setdefault((array.shape, array.dtype.str, array.strides), []).append(physical[buffer])
    memory = Memory(physical)
    for region in recording.regions:
        if region.buffer is not None:
            region.array = None  # only the memory the tape uses stays alive
    for call in hoisted:
        call.function(*(memory.concrete(a) for a in call.args))
    return hoisted, memory


# ---------------------------------------------------------------- recording a step
@dataclass
class Adopted:
    """A tensor the step reaches by name, as it was when the recording began."""

    tensor: Tensor
    name: str
    array: Array
    grad: Tensor | None
    state: tuple[Any, ...]
    requires_grad: bool
    grad_fn: Node | None
    traced: TracedArray  # what the tensor holds while the step is recorded


def adopt(tensor: Tensor, name: str, current: Recording, adopted: dict[int, Adopted]) -> None:
    """Have the tensor (and its grad) hold a traced view of its array while the step is recorded."""
    while tensor is not None and id(tensor) not in adopted:
        if isinstance(tensor._data, TracedArray):
            raise CaptureError(f"capture: {name} is being recorded already")
        traced = current.adopt(tensor._data, name)
        entry = Adopted(tensor, name, tensor._data, tensor.grad, tensor_state(tensor), tensor._requires_grad,
                        tensor.grad_fn, traced)  # fmt: skip
        adopted[id(tensor)] = entry
        tensor._data = traced
        tensor, name = tensor.grad, f"{name}.grad"  # type: ignore[assignment]


def record(step: Callable[[], Any]) -> tuple[Tape, Any]:
    """Run the step once eagerly with its tensors traced; return the planned tape and the step's result."""
    global recording
    if recording is not None:
        raise CaptureError("capture: a captured step can't be called while another one is being recorded")
    found = reachable(step)
    current = Recording()
    adopted: dict[int, Adopted] = {}
    counters: dict[int, tuple[list[int], int]] = {}
    try:
        for slot, value in found:
            if isinstance(value, Tensor):
                adopt(value, slot.name, current, adopted)
        for entry in adopted.values():
            counters.setdefault(
                id(entry.tensor._version_counter), (entry.tensor._version_counter, entry.tensor._version)
            )
        grad_mode = autograd._grad_enabled
        with standing_in(current):
            result = step()
    except CaptureError:
        undo(current, adopted, counters)
        raise
    except BaseException:  # the step's own error, as eager would raise it: leave no traced grads behind
        for entry in adopted.values():
            if entry.tensor.grad is not None:
                entry.tensor.grad._data = plain(entry.tensor.grad._data)
        raise
    finally:
        for entry in adopted.values():
            if entry.tensor._data is entry.traced:
                entry.tensor._data = entry.array
    try:
        return finish(current, found, adopted, counters, grad_mode, result), result
    except CaptureError:
        undo(current, adopted, counters)
        raise


def undo(current: Recording, adopted: dict[int, Adopted], counters: dict[int, tuple[list[int], int]]) -> None:
    """Put back what the step changed before capture refused it: nothing is left half-updated."""
    for array, before in current.before.values():
        np.copyto(array, before)
    for entry in adopted.values():
        entry.tensor.grad = entry.grad
    for counter, start in counters.values():
        counter[0] = start


def finish(
    current: Recording,
    found: list[tuple[Slot, Any]],
    adopted: dict[int, Adopted],
    counters: dict[int, tuple[list[int], int]],
    grad_mode: bool,
    result: Any,
) -> Tape:
    """Check what the step left behind, and turn the recording into a tape."""
    if result is None or isinstance(result, Tensor):
        outputs = [] if result is None else [result]
    elif isinstance(result, tuple | list) and all(isinstance(t, Tensor) for t in result):
        outputs = list(result)
    else:
        raise CaptureError("capture: the step must return None, a tensor, or a tuple or list of tensors")
    used = {id(o.region.array) for c in current.calls for o in (*c.args, *c.kwargs.values(), c.writes)
            if isinstance(o, Operand)}  # fmt: skip
    pinned: set[int] = set()
    effects: list[Callable[[], None]] = []
    kept: set[int] = set()

    def left_behind(tensor: Tensor, what: str) -> None:
        """A tensor the step made and leaves behind: its buffer is kept, and replays update it in place."""
        if id(tensor) in kept:  # a new grad the step also returns
            return
        kept.add(id(tensor))
        if not isinstance(tensor._data, TracedArray):
            raise CaptureError(f"capture: {what} is a tensor the recording did not see made")
        buffer = current.region_of(plain(tensor._data)).region.buffer
        if buffer is None:
            raise CaptureError(f"capture: {what} shares memory with a tensor the step read")
        pinned.add(buffer)
        tensor._data = plain(tensor._data)
        counter = tensor._version_counter
        effects.append(functools.partial(counter.__setitem__, 0, counter[0]))

    for entry in adopted.values():
        tensor = entry.tensor
        if tensor._requires_grad != entry.requires_grad or tensor.grad_fn is not entry.grad_fn:
            raise CaptureError(f"capture: the step changes requires_grad or grad_fn of {entry.name}; a replay can't")
        if tensor.grad_fn is not None and id(entry.array) in used:
            raise CaptureError(
                f"capture: the step uses {entry.name}, which has a graph built outside the step (grad_fn="
                f"{type(tensor.grad_fn).__name__}); a replay can't backpropagate into it. Detach it, or compute it "
                "inside the step."
            )
        if tensor.grad is not entry.grad:
            if tensor.grad is not None and id(tensor.grad) not in adopted:
                left_behind(tensor.grad, f"{entry.name}.grad")
            effects.append(functools.partial(setattr, tensor, "grad", tensor.grad))
    for number, output in enumerate(outputs):
        if id(output) in adopted:
            continue
        node = output.grad_fn
        if node is not None and getattr(node, "_saved", None) is not None:
            raise CaptureError(
                "capture: the step returns a tensor whose graph it did not backpropagate; a replay builds no graph. "
                "Call backward() inside the step, or return a detached tensor."
            )
        left_behind(output, f"the step's result {number}")
    kept_elsewhere(current, pinned)
    for counter, start in counters.values():
        if counter[0] != start:
            effects.append(functools.partial(bump, counter, counter[0] - start))
    guards = []
    for slot, value in found:
        if isinstance(value, Tensor):
            entry = adopted[id(value)]
            if id(entry.array) in used or value.grad is not entry.grad:
                guards.append(Guard(slot, value, entry.state))
        elif not isinstance(value, np.ndarray):
            guards.append(Guard(slot, value))
    return Tape(current, pinned, guards, grad_mode, effects, result)


def bump(counter: list[int], by: int) -> None:
    counter[0] += by


def kept_elsewhere(current: Recording, pinned: set[int]) -> None:
    """Refuse a step that keeps a tensor it computed anywhere but in its result: a replay would not store a
    new one. Nothing but the recording's own list should hold a buffer the step doesn't leave behind; a
    view kept anywhere (a list, a global, a graph not backpropagated) holds it too."""
    for attempt in (1, 2):
        # Each buffer is held by the recording's list and its Region, and here by getrefcount's argument.
        held = [i for i in range(len(current.buffers)) if i not in pinned and sys.getrefcount(current.buffers[i]) > 3]
        if not held:
            return
        if attempt == 1:
            import gc

            gc.collect()  # a reference cycle may hold one for a moment
    shape = list(current.buffers[held[0]].shape)
    raise CaptureError(
        f"capture: the step keeps a tensor it computed (shape {shape}) somewhere other than its result (a list, a "
        "global, an attribute, a graph it didn't backpropagate). A replay runs no Python, so it would not store "
        "the new one: return it instead."
    )


# ---------------------------------------------------------------- the decorator
class Captured:
    """A step function, recorded on its first call and replayed on later ones (see the module's docstring)."""

    def __init__(self, step: Callable[[], Any]) -> None:
        functools.update_wrapper(self, step)
        self.step = step
        self.name: str = getattr(step, "__name__", "step")
        self._tape: Tape | None = None
        self.recordings = 0  # how many times the step has been recorded
        self.why_recorded: list[str] = []  # for each recording after the first, the guard that failed
        self._recorded_in_a_row = 0

    def __call__(self) -> Any:
        tape = self._tape
        if tape is not None:
            changed = tape.changed()
            if changed is None:
                self._recorded_in_a_row = 0
                return tape.replay()
            self.why_recorded.append(changed)
            self._recorded_in_a_row += 1
        self._tape = None  # its buffers go before the new recording makes its own
        self._tape, result = record(self.step)
        self.recordings += 1
        if self._recorded_in_a_row == 3:
            warnings.warn(
                f"capture: {self.name} was recorded again on each of its last 3 calls, the latest because "
                f"{self.why_recorded[-1]}. A step that changes what it reads replays nothing.",
                CaptureWarning,
                stacklevel=2,
            )
        return result

    @property
    def tape(self) -> Tape:
        if self._tape is None:
            raise RuntimeError("capture: the step has not been recorded yet: call it once")
        return self._tape

    def reset(self) -> None:
        """Forget the recording: the next call records again."""
        self._tape = None


def capture(step: Callable[[], Any]) -> Captured:
    """Record `step` (a function of no arguments) on its first call and replay it on later ones."""
    return Captured(step)
