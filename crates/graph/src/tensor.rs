//! `Tensor<T>`: an immutable, row-major, contiguous array of any rank with cheap clones, and the
//! shape arithmetic (broadcasting, reductions over axes, permutations) the graph's ops need.

use crate::dims::{self, Dims};
use crate::error::{GraphError, unwrap_or_panic};
use crate::pool::{self, Shared};
use nabla_kernels::Element;
use std::fmt;
use std::sync::Arc;

/// A row-major, contiguous array of any rank (rank 0 is a scalar).
///
/// Cloning shares the data (an `Arc`): tensors are immutable values, and every operation makes a
/// new one.
///
/// ```
/// use nabla_graph::Tensor;
/// let t = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
/// assert_eq!(t.shape(), &[2, 3]);
/// assert_eq!(t.get(&[1, 2]), 6.0);
/// assert_eq!(Tensor::scalar(2.5f32).item(), 2.5);
/// ```
#[derive(Clone)]
pub struct Tensor<T> {
    data: Storage<T>,
    shape: Arc<[usize]>,
}

/// A tensor's elements: one element inline (no allocation: scalar graphs are mostly these),
/// or a shared buffer.
#[derive(Clone)]
enum Storage<T> {
    One(T),
    Many(Shared<T>),
}

impl<T: Element> Storage<T> {
    fn from_vec(v: Vec<T>) -> Self {
        if v.len() == 1 {
            Storage::One(v[0])
        } else {
            Storage::Many(Shared::new(v))
        }
    }
}

impl<T> std::ops::Deref for Storage<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        match self {
            Storage::One(x) => std::slice::from_ref(x),
            Storage::Many(v) => v,
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Tensor<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tensor{:?} {:?}", self.shape, &*self.data)
    }
}

impl<T: PartialEq> PartialEq for Tensor<T> {
    fn eq(&self, other: &Self) -> bool {
        same_dims(&self.shape, &other.shape) && *self.data == *other.data
    }
}

/// Whether two shapes are equal (a plain loop: shapes are short, and slice equality on `usize`
/// becomes a `memcmp` call that dominated small-tensor graphs).
#[inline]
pub(crate) fn same_dims(a: &[usize], b: &[usize]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// Number of elements of a shape.
pub(crate) fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// Row-major strides of a shape.
pub(crate) fn strides(shape: &[usize]) -> Dims {
    let mut s = Dims::filled(shape.len(), 1);
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// The numpy broadcast of two shapes.
pub(crate) fn broadcast_shapes(
    op: &'static str,
    a: &[usize],
    b: &[usize],
) -> Result<Dims, GraphError> {
    let r = a.len().max(b.len());
    let mut out = Dims::filled(r, 0);
    for i in 0..r {
        let da = if i + a.len() >= r {
            a[i + a.len() - r]
        } else {
            1
        };
        let db = if i + b.len() >= r {
            b[i + b.len() - r]
        } else {
            1
        };
        out[i] = match (da, db) {
            _ if da == db => da,
            (1, _) => db,
            (_, 1) => da,
            _ => {
                return Err(GraphError::ShapeMismatch {
                    op,
                    lhs: a.to_vec(),
                    rhs: b.to_vec(),
                });
            }
        };
    }
    Ok(out)
}

/// Strides that read a tensor of `shape` as if it had the broadcast shape `out` (0 along
/// broadcast axes).
fn broadcast_strides(shape: &[usize], out: &[usize]) -> Dims {
    let own = strides(shape);
    let lead = out.len() - shape.len();
    (0..out.len())
        .map(|i| {
            if i < lead || shape[i - lead] == 1 {
                0
            } else {
                own[i - lead]
            }
        })
        .collect()
}

/// Below this many elements a repeating operand is tiled up to it, so that kernel calls are long.
const TILE: usize = 1024;

/// `kernel` over a broadcast where one operand has the output's shape and the other only
/// repeats along leading axes (a bias row, a scalar): the short operand is tiled to at least
/// [`TILE`] elements and the kernel runs block by block, without per-element index arithmetic.
/// `None` for any other broadcast.
fn zip_repeating<T: Element>(
    shape: &[usize],
    a: &Tensor<T>,
    b: &Tensor<T>,
    kernel: fn(&[T], &[T], &mut [T]),
) -> Option<Vec<T>> {
    let n = numel(shape);
    let (full, part, part_first) = if same_dims(&a.shape, shape) {
        (a, b, false)
    } else if same_dims(&b.shape, shape) {
        (b, a, true)
    } else {
        return None;
    };
    // `part`, without its leading 1s, must be the trailing axes of `shape`.
    let dims: &[usize] = &part.shape[part.shape.iter().take_while(|&&d| d == 1).count()..];
    let m = part.len();
    if m == 0 || n == 0 || !shape.ends_with(dims) {
        return None;
    }
    let reps = TILE.div_ceil(m).min(n / m);
    let mut tiled = pool::with_capacity(m * reps);
    for _ in 0..reps {
        tiled.extend_from_slice(&part.data);
    }
    // Every element is written by the kernel below (the chunks of `full` cover all `n`).
    let mut out = pool::for_overwrite(n);
    for (o, x) in out
        .chunks_mut(tiled.len())
        .zip(full.data.chunks(tiled.len()))
    {
        let t = &tiled[..x.len()];
        if part_first {
            kernel(t, x, o);
        } else {
            kernel(x, t, o);
        }
    }
    pool::give_back(tiled);
    Some(out)
}

/// Calls `f(offsets)` for every index of `shape` in row-major order, where `offsets[t]` is the
/// linear offset of that index under `strides[t]`. Iterative (an odometer), no recursion.
fn for_each_offset<const N: usize>(
    shape: &[usize],
    strides: [&[usize]; N],
    mut f: impl FnMut([usize; N]),
) {
    let n = numel(shape);
    if n == 0 {
        return;
    }
    let r = shape.len();
    let mut idx = Dims::filled(r, 0);
    let mut off = [0usize; N];
    for _ in 0..n {
        f(off);
        // Increment the odometer, updating offsets incrementally.
        for d in (0..r).rev() {
            idx[d] += 1;
            for t in 0..N {
                off[t] += strides[t][d];
            }
            if idx[d] < shape[d] {
                break;
            }
            for t in 0..N {
                off[t] -= strides[t][d] * shape[d];
            }
            idx[d] = 0;
        }
    }
}

impl<T: Element> Tensor<T> {
    /// A tensor of `shape` holding `data` in row-major order.
    ///
    /// # Errors
    /// [`GraphError::ShapeMismatch`] if `data.len()` is not the product of `shape`.
    pub fn from_vec(data: Vec<T>, shape: &[usize]) -> Result<Self, GraphError> {
        if data.len() != numel(shape) {
            return Err(GraphError::ShapeMismatch {
                op: "Tensor::from_vec",
                lhs: vec![data.len()],
                rhs: shape.to_vec(),
            });
        }
        Ok(Tensor {
            data: Storage::from_vec(data),
            shape: dims::shared(shape),
        })
    }

    /// [`Tensor::from_vec`], panicking on a length mismatch.
    ///
    /// # Panics
    /// If `data.len()` is not the product of `shape`.
    #[track_caller]
    pub fn new(data: Vec<T>, shape: &[usize]) -> Self {
        unwrap_or_panic(Self::from_vec(data, shape))
    }

    /// A rank-0 tensor.
    pub fn scalar(x: T) -> Self {
        thread_local! {
            static RANK0: Arc<[usize]> = Arc::from(&[][..]);
        }
        Tensor {
            data: Storage::One(x),
            shape: RANK0.with(Arc::clone),
        }
    }

    /// A rank-1 tensor.
    pub fn vector(data: &[T]) -> Self {
        Self::new(data.to_vec(), &[data.len()])
    }

    /// Every element `value`.
    pub fn full(shape: &[usize], value: T) -> Self {
        if numel(shape) == 1 {
            return Tensor {
                data: Storage::One(value),
                shape: dims::shared(shape),
            };
        }
        Self::new(pool::filled(numel(shape), value), shape)
    }

    /// Zeros.
    pub fn zeros(shape: &[usize]) -> Self {
        Self::full(shape, T::ZERO)
    }

    /// Ones.
    pub fn ones(shape: &[usize]) -> Self {
        Self::full(shape, T::ONE)
    }

    /// The `n x n` identity.
    pub fn eye(n: usize) -> Self {
        let mut d = pool::filled(n * n, T::ZERO);
        for i in 0..n {
            d[i * n + i] = T::ONE;
        }
        Self::new(d, &[n, n])
    }

    /// `0, 1, ..., n-1`.
    pub fn arange(n: usize) -> Self {
        Self::new((0..n).map(|i| T::from_f64(i as f64)).collect(), &[n])
    }

    /// `n` evenly spaced values from `start` to `end` inclusive (`n = 1` gives `start`); the
    /// first is exactly `start` and the last exactly `end` (as numpy: `start + step (n - 1)`
    /// can miss `end` by a rounding, e.g. `linspace(-2, 3, 78)`).
    pub fn linspace(start: f64, end: f64, n: usize) -> Self {
        let step = if n > 1 {
            (end - start) / (n - 1) as f64
        } else {
            0.0
        };
        Self::new(
            (0..n)
                .map(|i| {
                    T::from_f64(if n > 1 && i == n - 1 {
                        end
                    } else {
                        start + step * i as f64
                    })
                })
                .collect(),
            &[n],
        )
    }

    /// Uniform values in `[lo, hi)` from a seeded generator (xorshift64*; the same seed gives the
    /// same tensor on every platform).
    pub fn rand_uniform(shape: &[usize], lo: f64, hi: f64, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        Self::new(
            (0..numel(shape))
                .map(|_| T::from_f64(lo + (hi - lo) * rng.next_f64()))
                .collect(),
            shape,
        )
    }

    /// Standard normal values from a seeded generator (Box-Muller on [`Tensor::rand_uniform`]'s
    /// generator).
    pub fn randn(shape: &[usize], seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let data = (0..numel(shape))
            .map(|_| {
                let u1 = 1.0 - rng.next_f64(); // (0, 1]: log is finite
                let u2 = rng.next_f64();
                T::from_f64((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos())
            })
            .collect();
        Self::new(data, shape)
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The shape, shared (no allocation).
    pub(crate) fn dims(&self) -> Arc<[usize]> {
        self.shape.clone()
    }

    /// The rank (number of axes).
    pub fn rank(&self) -> usize {
        self.shape.len()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The elements, row-major.
    pub fn data(&self) -> &[T] {
        &self.data
    }

    /// The elements, writable, when no other tensor shares them (`None` otherwise): lets a
    /// rule that owns its input reuse the buffer for its output.
    pub(crate) fn unique_data_mut(&mut self) -> Option<&mut [T]> {
        match &mut self.data {
            Storage::One(x) => Some(std::slice::from_mut(x)),
            Storage::Many(v) => v.get_mut(),
        }
    }

    /// The elements as a new `Vec`.
    pub fn to_vec(&self) -> Vec<T> {
        self.data.to_vec()
    }

    /// Element at a multi-index.
    ///
    /// # Panics
    /// If the index has the wrong rank or is out of bounds.
    #[track_caller]
    pub fn get(&self, index: &[usize]) -> T {
        assert_eq!(
            index.len(),
            self.rank(),
            "index {index:?} for a tensor of shape {:?}",
            self.shape
        );
        let st = strides(&self.shape);
        let mut off = 0;
        for (d, (&i, &n)) in index.iter().zip(self.shape.iter()).enumerate() {
            assert!(
                i < n,
                "index {index:?} out of bounds for shape {:?}",
                self.shape
            );
            off += i * st[d];
        }
        self.data[off]
    }

    /// The value of a one-element tensor.
    ///
    /// # Panics
    /// If the tensor does not have exactly one element.
    #[track_caller]
    pub fn item(&self) -> T {
        assert_eq!(
            self.len(),
            1,
            "item() of a tensor of shape {:?}",
            self.shape
        );
        self.data[0]
    }

    /// The same data under another shape with as many elements.
    ///
    /// # Errors
    /// [`GraphError::ShapeMismatch`] if the element counts differ.
    pub fn reshape(&self, shape: &[usize]) -> Result<Self, GraphError> {
        if numel(shape) != self.len() {
            return Err(GraphError::ShapeMismatch {
                op: "reshape",
                lhs: self.shape.to_vec(),
                rhs: shape.to_vec(),
            });
        }
        Ok(Tensor {
            data: self.data.clone(),
            shape: dims::shared(shape),
        })
    }

    /// Applies a slice kernel `y = f(x)` to every element.
    pub(crate) fn map_kernel(&self, f: fn(&[T], &mut [T])) -> Self {
        if let Storage::One(x) = self.data {
            let mut y = [T::ZERO];
            f(&[x], &mut y);
            return self.same_shape_one(y[0]);
        }
        let mut out = pool::for_overwrite(self.len());
        f(&self.data, &mut out);
        self.same_shape(out)
    }

    /// Applies a scalar function to every element.
    pub(crate) fn map(&self, f: impl Fn(T) -> T) -> Self {
        if let Storage::One(x) = self.data {
            return self.same_shape_one(f(x));
        }
        let mut out = pool::with_capacity(self.len());
        out.extend(self.data.iter().map(|&x| f(x)));
        self.same_shape(out)
    }

    /// `data` under this tensor's shape, sharing the shape (no allocation for it).
    fn same_shape(&self, data: Vec<T>) -> Self {
        debug_assert_eq!(data.len(), self.len());
        Tensor {
            data: Storage::from_vec(data),
            shape: self.shape.clone(),
        }
    }

    /// The element of a tensor that holds one element inline (every one-element tensor the graph
    /// makes), else `None`.
    #[inline]
    pub(crate) fn as_one(&self) -> Option<T> {
        match self.data {
            Storage::One(x) => Some(x),
            Storage::Many(_) => None,
        }
    }

    /// `x` as a one-element tensor of `shape`, sharing it.
    ///
    /// Panics (a broken invariant of the caller) if `shape` has other than one element.
    pub(crate) fn one_with_dims(x: T, shape: Arc<[usize]>) -> Self {
        assert_eq!(numel(&shape), 1, "one element under shape {shape:?}");
        Tensor {
            data: Storage::One(x),
            shape,
        }
    }

    /// A one-element tensor of this (one-element) tensor's shape.
    fn same_shape_one(&self, x: T) -> Self {
        Tensor {
            data: Storage::One(x),
            shape: self.shape.clone(),
        }
    }

    /// `f(a, b)` elementwise under numpy broadcasting; `kernel` is used when the shapes agree.
    pub(crate) fn zip(
        op: &'static str,
        a: &Self,
        b: &Self,
        kernel: fn(&[T], &[T], &mut [T]),
        f: impl Fn(T, T) -> T,
    ) -> Result<Self, GraphError> {
        if same_dims(&a.shape, &b.shape) {
            if let (Storage::One(x), Storage::One(y)) = (&a.data, &b.data) {
                // Each of + - * / is correctly rounded on every path: the same bits as the kernel.
                return Ok(a.same_shape_one(f(*x, *y)));
            }
            let mut out = pool::for_overwrite(a.len());
            kernel(&a.data, &b.data, &mut out);
            return Ok(a.same_shape(out));
        }
        let shape = broadcast_shapes(op, &a.shape, &b.shape)?;
        if let Some(out) = zip_repeating(&shape, a, b, kernel) {
            return Ok(Tensor::new(out, &shape));
        }
        let (sa, sb) = (
            broadcast_strides(&a.shape, &shape),
            broadcast_strides(&b.shape, &shape),
        );
        let mut out = pool::with_capacity(numel(&shape));
        for_each_offset(&shape, [&sa, &sb], |[i, j]| {
            out.push(f(a.data[i], b.data[j]))
        });
        Ok(Tensor::new(out, &shape))
    }

    /// This tensor repeated to a broadcast-compatible larger shape.
    pub(crate) fn broadcast_to(&self, shape: &[usize]) -> Result<Self, GraphError> {
        let target = broadcast_shapes("broadcast_to", &self.shape, shape)?;
        if *target != *shape {
            return Err(GraphError::ShapeMismatch {
                op: "broadcast_to",
                lhs: self.shape.to_vec(),
                rhs: shape.to_vec(),
            });
        }
        if same_dims(&self.shape, shape) {
            return Ok(self.clone());
        }
        // Fast paths without the index walk: one element filled everywhere (the adjoint of a
        // sum), or whole copies of the data along new leading axes.
        let n = numel(shape);
        if let Storage::One(x) = self.data {
            return Ok(Tensor::new(pool::filled(n, x), shape));
        }
        let lead = shape.len() - self.rank();
        if same_dims(&self.shape, &shape[lead..]) {
            let mut out = pool::with_capacity(n);
            for _ in 0..n / self.len().max(1) {
                out.extend_from_slice(&self.data);
            }
            return Ok(Tensor::new(out, shape));
        }
        let st = broadcast_strides(&self.shape, shape);
        let mut out = pool::with_capacity(numel(shape));
        for_each_offset(shape, [&st], |[i]| out.push(self.data[i]));
        Ok(Tensor::new(out, shape))
    }

    /// Folds over `axes` (sorted, unique, in range) from `init`, keeping them as length-1 axes
    /// if `keepdim`: the one reduction walk that sum and max share.
    fn reduce_axes(
        &self,
        axes: &[usize],
        keepdim: bool,
        init: T,
        fold: impl Fn(T, T) -> T,
    ) -> Self {
        let kept: Dims = self
            .shape
            .iter()
            .enumerate()
            .map(|(d, &n)| if axes.contains(&d) { 1 } else { n })
            .collect();
        let mut out = pool::filled(numel(&kept), init);
        let own = strides(&self.shape);
        let ost: Dims = strides(&kept)
            .iter()
            .enumerate()
            .map(|(d, &s)| if axes.contains(&d) { 0 } else { s })
            .collect();
        for_each_offset(&self.shape, [&own, &ost], |[i, o]| {
            out[o] = fold(out[o], self.data[i])
        });
        let shape: Dims = if keepdim {
            kept
        } else {
            self.shape
                .iter()
                .enumerate()
                .filter(|(d, _)| !axes.contains(d))
                .map(|(_, &n)| n)
                .collect()
        };
        Tensor::new(out, &shape)
    }

    /// Sums over `axes` (sorted, unique, in range), keeping them as length-1 axes if `keepdim`.
    pub(crate) fn sum_axes(&self, axes: &[usize], keepdim: bool) -> Self {
        let lead = axes.len();
        if lead < self.rank() && axes.iter().enumerate().all(|(i, &d)| i == d) {
            // The leading axes (a bias gradient): row after row added with the kernel, in the
            // same order as the general walk, so the same bits.
            let row = numel(&self.shape[lead..]);
            let mut out = pool::filled(row, T::ZERO);
            if row > 0 {
                for r in self.data.chunks_exact(row) {
                    nabla_kernels::add_assign(&mut out, r);
                }
            }
            let shape: Dims = (0..self.rank())
                .filter_map(|d| match (d < lead, keepdim) {
                    (true, true) => Some(1),
                    (true, false) => None,
                    (false, _) => Some(self.shape[d]),
                })
                .collect();
            return Tensor::new(out, &shape);
        }
        if axes.len() == self.rank() && !self.is_empty() {
            // The whole tensor: the kernels' blocked, thread-count-independent sum.
            let total = Tensor::scalar(nabla_kernels::sum(&self.data));
            let shape = Dims::filled(if keepdim { self.rank() } else { 0 }, 1);
            return unwrap_or_panic(total.reshape(&shape));
        }
        self.reduce_axes(axes, keepdim, T::ZERO, |acc, x| acc + x)
    }

    /// Sums a broadcast result back down to `shape` (the adjoint of broadcasting to this shape).
    pub(crate) fn sum_to(&self, shape: &[usize]) -> Self {
        if same_dims(&self.shape, shape) {
            return self.clone();
        }
        let lead = self.rank() - shape.len();
        let axes: Dims = (0..self.rank())
            .filter(|&d| d < lead || (shape[d - lead] == 1 && self.shape[d] != 1))
            .collect();
        let summed = self.sum_axes(&axes, true);
        unwrap_or_panic(summed.reshape(shape))
    }

    /// Maximum over `axes`, keeping them as length-1 axes if `keepdim` (NaN propagates).
    pub(crate) fn max_axes(&self, axes: &[usize], keepdim: bool) -> Self {
        self.reduce_axes(axes, keepdim, T::NEG_INFINITY, |m, x| {
            if x > m || x.is_nan() { x } else { m }
        })
    }

    /// Elements `start..end` along `axis` (bounds checked by the caller).
    pub(crate) fn slice_axis(&self, axis: usize, start: usize, end: usize) -> Self {
        let mut shape = Dims::from_slice(&self.shape);
        shape[axis] = end - start;
        let st = strides(&self.shape);
        let offset = start * st[axis];
        let mut out = pool::with_capacity(numel(&shape));
        for_each_offset(&shape, [&st], |[i]| out.push(self.data[offset + i]));
        Tensor::new(out, &shape)
    }

    /// This tensor placed at `start..` along `axis` of zeros whose `axis` has length `len`.
    pub(crate) fn pad_axis(&self, axis: usize, start: usize, len: usize) -> Self {
        let mut shape = Dims::from_slice(&self.shape);
        shape[axis] = len;
        let st = strides(&shape);
        let offset = start * st[axis];
        let mut out = pool::filled(numel(&shape), T::ZERO);
        let mut k = 0;
        for_each_offset(&self.shape, [&st], |[o]| {
            out[offset + o] = self.data[k];
            k += 1;
        });
        Tensor::new(out, &shape)
    }

    /// The two tensors joined along `axis` (other axes equal; checked by the caller).
    pub(crate) fn concat(&self, other: &Self, axis: usize) -> Self {
        let mut shape = Dims::from_slice(&self.shape);
        shape[axis] += other.shape[axis];
        let outer: usize = shape[..axis].iter().product();
        let (ra, rb) = (self.len() / outer.max(1), other.len() / outer.max(1));
        let mut out = pool::with_capacity(numel(&shape));
        for o in 0..outer {
            out.extend_from_slice(&self.data[o * ra..(o + 1) * ra]);
            out.extend_from_slice(&other.data[o * rb..(o + 1) * rb]);
        }
        Tensor::new(out, &shape)
    }

    /// Rows `indices` (axis 0; bounds checked by the caller).
    pub(crate) fn index_select(&self, indices: &[usize]) -> Self {
        let row = self.len() / self.shape[0].max(1);
        let mut shape = Dims::from_slice(&self.shape);
        shape[0] = indices.len();
        let mut out = pool::with_capacity(indices.len() * row);
        for &i in indices {
            out.extend_from_slice(&self.data[i * row..(i + 1) * row]);
        }
        Tensor::new(out, &shape)
    }

    /// Row `k` of this tensor added into row `indices[k]` of zeros with `rows` rows.
    pub(crate) fn index_add(&self, indices: &[usize], rows: usize) -> Self {
        let row = self.len() / self.shape[0].max(1);
        let mut shape = Dims::from_slice(&self.shape);
        shape[0] = rows;
        let mut out = pool::filled(rows * row, T::ZERO);
        for (k, &i) in indices.iter().enumerate() {
            nabla_kernels::add_assign(
                &mut out[i * row..(i + 1) * row],
                &self.data[k * row..(k + 1) * row],
            );
        }
        Tensor::new(out, &shape)
    }

    /// Axes permuted: axis `d` of the result is axis `perm[d]` of this tensor.
    pub(crate) fn permute(&self, perm: &[usize]) -> Self {
        let shape: Dims = perm.iter().map(|&p| self.shape[p]).collect();
        let own = strides(&self.shape);
        let st: Dims = perm.iter().map(|&p| own[p]).collect();
        let mut out = pool::with_capacity(self.len());
        for_each_offset(&shape, [&st], |[i]| out.push(self.data[i]));
        Tensor::new(out, &shape)
    }
}

/// xorshift64* (Vigna): small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(
            &*broadcast_shapes("t", &[2, 1, 3], &[4, 1]).unwrap(),
            &[2, 4, 3]
        );
        assert_eq!(&*broadcast_shapes("t", &[], &[5]).unwrap(), &[5]);
        assert!(broadcast_shapes("t", &[2, 3], &[4]).is_err());
        let a = Tensor::<f64>::new(vec![1.0, 2.0, 3.0], &[3, 1]);
        let b = Tensor::<f64>::new(vec![10.0, 20.0], &[2]);
        let c = Tensor::zip("add", &a, &b, nabla_kernels::add, |x, y| x + y).unwrap();
        assert_eq!(c.shape(), &[3, 2]);
        assert_eq!(c.data(), &[11.0, 21.0, 12.0, 22.0, 13.0, 23.0]);
        assert_eq!(c.sum_to(&[2]).data(), &[36.0, 66.0]);
        assert_eq!(c.sum_to(&[3, 1]).data(), &[32.0, 34.0, 36.0]);
    }

    #[test]
    fn reductions_and_permutations() {
        let t = Tensor::<f64>::new((0..24).map(f64::from).collect(), &[2, 3, 4]);
        let s = t.sum_axes(&[1], false);
        assert_eq!(s.shape(), &[2, 4]);
        assert_eq!(s.get(&[1, 2]), 14.0 + 18.0 + 22.0);
        assert_eq!(t.sum_axes(&[0, 1, 2], false).item(), 276.0);
        assert_eq!(t.max_axes(&[2], true).shape(), &[2, 3, 1]);
        let p = t.permute(&[2, 0, 1]);
        assert_eq!(p.shape(), &[4, 2, 3]);
        assert_eq!(p.get(&[3, 1, 2]), t.get(&[1, 2, 3]));
        assert_eq!(
            Tensor::<f32>::linspace(0.0, 1.0, 5).data(),
            &[0.0, 0.25, 0.5, 0.75, 1.0]
        );
        assert_eq!(Tensor::<f64>::randn(&[3], 7), Tensor::<f64>::randn(&[3], 7));
    }

    type Kernel = fn(&[f64], &[f64], &mut [f64]);
    type Scalar = fn(f64, f64) -> f64;

    /// The broadcast of `a op b` by index arithmetic alone (the reference for the fast paths).
    fn broadcast_reference(a: &Tensor<f64>, b: &Tensor<f64>, f: fn(f64, f64) -> f64) -> Vec<f64> {
        let shape = broadcast_shapes("ref", &a.shape, &b.shape).unwrap();
        let (sa, sb) = (
            broadcast_strides(&a.shape, &shape),
            broadcast_strides(&b.shape, &shape),
        );
        let mut out = Vec::new();
        for_each_offset(&shape, [&sa, &sb], |[i, j]| {
            out.push(f(a.data[i], b.data[j]))
        });
        out
    }

    proptest::proptest! {
        /// A repeating operand (trailing axes, leading 1s, a scalar) on either side gives the
        /// same bits as index arithmetic: the kernels round + - * / correctly, like the scalar ops.
        #[test]
        fn repeating_broadcasts_match_index_arithmetic(
            dims in proptest::collection::vec(1usize..6, 1..4),
            keep in 0usize..4,
            ones in 0usize..3,
            part_first: bool,
            op in 0usize..4,
            seed in 0u64..1000,
        ) {
            let keep = keep.min(dims.len());
            let part_dims: Vec<usize> =
                std::iter::repeat_n(1, ones).chain(dims[dims.len() - keep..].iter().copied()).collect();
            let full = Tensor::<f64>::randn(&dims, seed);
            let part = Tensor::<f64>::randn(&part_dims, seed + 1);
            let ops: [(Kernel, Scalar); 4] = [
                (nabla_kernels::add, |x, y| x + y),
                (nabla_kernels::sub, |x, y| x - y),
                (nabla_kernels::mul, |x, y| x * y),
                (nabla_kernels::div, |x, y| x / y),
            ];
            let (kernel, f) = ops[op];
            let (a, b) = if part_first { (&part, &full) } else { (&full, &part) };
            let got = Tensor::zip("t", a, b, kernel, f).unwrap();
            let want = broadcast_reference(a, b, f);
            proptest::prop_assert_eq!(got.len(), want.len());
            for (g, w) in got.data().iter().zip(&want) {
                proptest::prop_assert_eq!(g.to_bits(), w.to_bits());
            }
        }

        /// Summing leading axes row by row gives the general walk's bits.
        #[test]
        fn leading_axis_sums_match_the_general_walk(
            dims in proptest::collection::vec(1usize..6, 2..4),
            lead in 1usize..3,
            keepdim: bool,
            seed in 0u64..1000,
        ) {
            let lead = lead.min(dims.len() - 1);
            let t = Tensor::<f64>::randn(&dims, seed);
            let axes: Vec<usize> = (0..lead).collect();
            let fast = t.sum_axes(&axes, keepdim);
            let walk = t.reduce_axes(&axes, keepdim, 0.0, |acc, x| acc + x);
            proptest::prop_assert_eq!(fast.shape(), walk.shape());
            for (g, w) in fast.data().iter().zip(walk.data()) {
                proptest::prop_assert_eq!(g.to_bits(), w.to_bits());
            }
        }
    }
}
