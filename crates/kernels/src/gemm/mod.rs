//! General matrix multiplication: `C = act(alpha * op(A) * op(B) + beta * C + bias)`.
//!
//! nabla's own GEMM, in the BLIS scheme: the depth is cut into blocks of `KC`, B into panels of
//! `NC` columns packed once per depth block (`pack.rs`; a row-major B is read in place when A has
//! few row panels, or packed by the micro-kernel as it first reads it), A into blocks of `MC`
//! rows packed per task (a row-major A is read in place), and a register-tile micro-kernel
//! (`kernel.rs`) sweeps each A block against each `NR`-wide sliver of the B panel. `op(X)` is
//! any strided view ([`MatRef::t`] transposes for free).
//!
//! # Contract
//! * Shapes: `op(A)` is `m x k`, `op(B)` is `k x n`, `C` is `m x n`; anything else is
//!   [`KernelError::ShapeMismatch`] naming both shapes (the panicking forms panic with it).
//! * `beta == 0` never reads C: C may hold NaN or garbage. `alpha == 0` (or `k == 0`) does not
//!   read A or B (as BLAS): C becomes `act(beta * C + bias)`.
//! * Accuracy: each `C[i][j]` is a sum of `k` products accumulated in `T` in a fixed order, so
//!   `|C - C_exact| <= k * eps * sum_p |A[i][p]| |B[p][j]|` (plus the epilogue's own bound).
//! * Matrix-vector products: when C is one column (`n == 1`) or one row (`m == 1`) and there
//!   is no bias or activation, nothing is packed: a vector kernel computes
//!   `y = alpha * M x + beta * y` (a row of C as `C^T = op(B)^T op(A)^T`) in the form `M`'s
//!   layout allows: dot products of unit-stride rows (four rows per pass over `x`, e.g. `A x`
//!   with a row-major A), axpys over unit-stride columns (a chunk of rows held in registers,
//!   e.g. `A^T x`), or, when neither axis is unit-stride, each row copied to a buffer first. A
//!   strided `x` is copied once. Same contract as above (accuracy bound, `beta == 0` never
//!   reads C, thread-count independence: rows go in fixed blocks of 256). On the 1000 x 100
//!   f64 product this is about 4x matrixmultiply, near the L2 read bandwidth.
//! * Few rows against a transposed weight: `A W^T` with A row-major, `W` row-major, at most
//!   32 rows and a depth of at least 40 per row (no bias or activation) is computed as dot
//!   products of A's rows with `W`'s rows (`dot.rs`), without the transposing pack of `W`: the
//!   `dY W^T` of a small batch. Same contract; `8x4096x4096` `f32` 6.7 -> 3.2 ms. When A's rows
//!   fill the vectors of the micro-kernel's panels (at least 16 rows and 3/4 of the lanes), the
//!   product runs instead as `C^T = W A^T` on the micro-kernel, W's rows read in place:
//!   `f32` `16x4096x4096` 5.2 -> 3.9 ms, `32x4096x4096` 9.2 -> 7.2 ms.
//! * Few rows against a row-major B: 2 to 4 rows of A at any size, 1 or 5 to 8 rows when B
//!   holds more than 4 MiB, up to 32 rows (in passes of 8) when B holds 4 MiB times the square
//!   of the passes (the `x W` of a small batch through a large layer): B is streamed
//!   (`stream.rs`), the micro-kernel's product running along 8 rows of B at a time, left to
//!   right, adding into C's rows, instead of along `NR`-wide panels whose every depth is a new
//!   page. Same contract, but for `alpha`, folded into A's elements (one more rounding per
//!   product unless `alpha` is 1); `f32` `8x4096x4096` 6.8 -> 3.1 ms, `4x1024x1024` -36%,
//!   `16x4096x4096` 10.3 -> 6.5 ms.
//! * Threads: blocks are fixed by the shape and ISA, never by the thread count, so results are
//!   bit-identical on 1 or many threads. Work under [`PAR_THRESHOLD_FLOPS`] never touches the
//!   rayon pool; [`crate::parallel`] controls the rest.
//!
//! ```
//! use nabla_kernels::gemm::{gemm, MatMut, MatRef};
//! let a = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]; // 2x3
//! let b = [1.0f32, 0.0, 0.0, 1.0, 1.0, 1.0]; // 3x2
//! let mut c = [f32::NAN; 4];                  // beta = 0: never read
//! gemm(1.0, MatRef::row_major(&a, 2, 3), MatRef::row_major(&b, 3, 2), 0.0, MatMut::row_major(&mut c, 2, 2));
//! assert_eq!(c, [4.0, 5.0, 10.0, 11.0]);
//! ```

mod copy;
mod dot;
mod gemv;
mod kernel;
mod pack;
mod scratch;
mod stream;
mod view;

pub use copy::{copy_matrix, try_copy_matrix};
pub use view::{MatMut, MatRef, Strided};

use crate::element::Element;
use crate::error::{KernelError, unwrap_or_panic};
use crate::isa::{self, Isa};
use crate::parallel::should_split;
use crate::simd::{Simd, SimdOp};
use kernel::{Bias, CPtr, Update};
use rayon::prelude::*;

/// The activations the fused epilogue applies (forward only; see [`crate::activation`] for
/// their definitions and accuracy).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Activation {
    /// `x`.
    #[default]
    Identity,
    /// `max(0, x)` (NaN propagates).
    Relu,
    /// `x * Phi(x)`, the exact (erf) form.
    Gelu,
    /// `1 / (1 + exp(-x))`.
    Sigmoid,
    /// `tanh(x)`.
    Tanh,
}

/// What is added and applied after the product: `C = act(alpha*AB + beta*C + bias)`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Epilogue<'a, T> {
    /// A row vector of length `n` added to every row of C (as a layer's bias), or `None`.
    pub bias: Option<&'a [T]>,
    /// The activation applied last.
    pub act: Activation,
}

impl<'a, T> Epilogue<'a, T> {
    /// No bias, identity activation: plain GEMM.
    pub fn none() -> Self {
        Epilogue {
            bias: None,
            act: Activation::Identity,
        }
    }
    /// `act(AB + bias)`: the fused dense-layer epilogue.
    pub fn bias_act(bias: &'a [T], act: Activation) -> Self {
        Epilogue {
            bias: Some(bias),
            act,
        }
    }
}

/// Below this many flops (`2*m*n*k`) a GEMM runs on the calling thread only. Measured on the
/// `gemm` bench: at 128^3 (4.2 MFLOP) one AVX-512 core takes about 40 us, about what a rayon
/// fork-join round trip costs on a busy two-core machine.
pub const PAR_THRESHOLD_FLOPS: usize = 8 << 20;

/// `C = alpha * op(A) * op(B) + beta * C`.
///
/// # Panics
/// If the shapes do not agree (the message names both); see [`try_gemm`].
#[track_caller]
pub fn gemm<T: Element>(alpha: T, a: MatRef<'_, T>, b: MatRef<'_, T>, beta: T, c: MatMut<'_, T>) {
    unwrap_or_panic(try_gemm_with(alpha, a, b, beta, c, Epilogue::none()))
}

/// [`gemm`] returning an error instead of panicking.
///
/// # Errors
/// [`KernelError::ShapeMismatch`] when `op(A)`, `op(B)` and `C` do not form an `m x k`,
/// `k x n`, `m x n` triple.
pub fn try_gemm<T: Element>(
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    c: MatMut<'_, T>,
) -> Result<(), KernelError> {
    try_gemm_with(alpha, a, b, beta, c, Epilogue::none())
}

/// `C = act(A * B + bias)` in one pass over C: the dense layer `y = act(x W + b)`.
///
/// # Panics
/// If the shapes do not agree or `bias.len() != n`.
///
/// ```
/// use nabla_kernels::gemm::{gemm_bias_act, Activation, MatMut, MatRef};
/// let x = [1.0f64, -2.0]; // 1x2
/// let w = [1.0f64, 1.0, 1.0, 1.0]; // 2x2
/// let mut y = [0.0; 2];
/// gemm_bias_act(MatRef::row_major(&x, 1, 2), MatRef::row_major(&w, 2, 2), &[0.5, 2.0], Activation::Relu, MatMut::row_major(&mut y, 1, 2));
/// assert_eq!(y, [0.0, 1.0]);
/// ```
#[track_caller]
pub fn gemm_bias_act<T: Element>(
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    bias: &[T],
    act: Activation,
    c: MatMut<'_, T>,
) {
    unwrap_or_panic(try_gemm_with(
        T::ONE,
        a,
        b,
        T::ZERO,
        c,
        Epilogue::bias_act(bias, act),
    ))
}

/// The general form: `C = act(alpha * op(A) * op(B) + beta * C + bias)`.
///
/// # Errors
/// [`KernelError::ShapeMismatch`] for incompatible shapes; [`KernelError::LengthMismatch`] when
/// the bias length is not `n`.
pub fn try_gemm_with<T: Element>(
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    c: MatMut<'_, T>,
    epilogue: Epilogue<'_, T>,
) -> Result<(), KernelError> {
    T::gemm(alpha, a, b, beta, c, epilogue)
}

/// [`try_gemm_with`]'s body, for [`Element`]'s per-type instance (so that the driver is
/// compiled once, in this crate: see the `sealed` module of `element.rs`). It checks the
/// shapes itself, since that method can be reached from outside through a generic `T`.
pub(crate) fn checked_gemm<T: Element>(
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    c: MatMut<'_, T>,
    epilogue: Epilogue<'_, T>,
) -> Result<(), KernelError> {
    check_shapes("gemm", &a, &b, &c, epilogue.bias)?;
    let bias = epilogue.bias.map_or(Bias::None, Bias::PerColumn);
    run(isa::active(), alpha, a, b, beta, c, bias, epilogue.act);
    Ok(())
}

/// `C_t = alpha * op(A_t) * op(B_t) + beta * C_t` for `t < batch`, where matrix `t` of each
/// operand starts `t * stride` elements after the view's first element.
///
/// Small problems run one per task across threads; large ones run in turn, each threaded.
///
/// # Errors
/// Shape errors as [`try_gemm`]; [`KernelError::OutOfBounds`] when the last matrix of a batch
/// reaches past its slice; [`KernelError::Invalid`] when C's stride makes batch entries overlap.
pub fn try_gemm_batched<T: Element>(
    batch: usize,
    alpha: T,
    a: Strided<MatRef<'_, T>>,
    b: Strided<MatRef<'_, T>>,
    beta: T,
    c: Strided<MatMut<'_, T>>,
) -> Result<(), KernelError> {
    T::gemm_batched(batch, alpha, a, b, beta, c)
}

/// [`try_gemm_batched`]'s body, for [`Element`]'s per-type instance (see [`checked_gemm`]).
pub(crate) fn checked_gemm_batched<T: Element>(
    batch: usize,
    alpha: T,
    a: Strided<MatRef<'_, T>>,
    b: Strided<MatRef<'_, T>>,
    beta: T,
    c: Strided<MatMut<'_, T>>,
) -> Result<(), KernelError> {
    let Strided {
        mat: a,
        stride: a_stride,
    } = a;
    let Strided {
        mat: b,
        stride: b_stride,
    } = b;
    let Strided {
        mat: c,
        stride: c_stride,
    } = c;
    check_shapes("gemm_batched", &a, &b, &c, None)?;
    if batch == 0 {
        return Ok(());
    }
    let last = batch - 1;
    let view_end = |len_of_first: usize, stride: usize, len: usize| -> Result<(), KernelError> {
        let needed = last
            .checked_mul(stride)
            .and_then(|o| o.checked_add(len_of_first))
            .unwrap_or(usize::MAX);
        if len_of_first > 0 && needed > len {
            return Err(KernelError::OutOfBounds {
                op: "gemm_batched",
                needed,
                len,
            });
        }
        Ok(())
    };
    let extent = |rows: usize, cols: usize, rs: usize, cs: usize| {
        if rows == 0 || cols == 0 {
            0
        } else {
            (rows - 1) * rs + (cols - 1) * cs + 1
        }
    };
    let (ea, eb, ec) = (
        extent(a.rows, a.cols, a.rs, a.cs),
        extent(b.rows, b.cols, b.rs, b.cs),
        extent(c.rows, c.cols, c.rs, c.cs),
    );
    view_end(ea, a_stride, a.data.len())?;
    view_end(eb, b_stride, b.data.len())?;
    view_end(ec, c_stride, c.data.len())?;
    if batch > 1 && ec > 0 && c_stride < ec {
        return Err(KernelError::Invalid {
            op: "gemm_batched",
            reason: format!(
                "C stride {c_stride} is shorter than one C ({ec} elements): batch entries overlap"
            ),
        });
    }
    let isa = isa::active();
    let (m, k, n) = (a.rows, a.cols, b.cols);
    fn view<'x, T>(x: &MatRef<'x, T>, t: usize, stride: usize) -> MatRef<'x, T> {
        MatRef {
            data: &x.data[t * stride..],
            ..*x
        }
    }
    let (c_shape, c_strides) = (c.shape(), (c.rs, c.cs));
    let one = |t: usize, cdata: &mut [T]| {
        let ct = MatMut {
            data: cdata,
            rows: c_shape.0,
            cols: c_shape.1,
            rs: c_strides.0,
            cs: c_strides.1,
        };
        run(
            isa,
            alpha,
            view(&a, t, a_stride),
            view(&b, t, b_stride),
            beta,
            ct,
            Bias::None,
            Activation::Identity,
        );
    };
    let cdata = c.data;
    let per_matrix = 2 * m * n * k;
    if batch > 1
        && per_matrix < PAR_THRESHOLD_FLOPS
        && should_split(per_matrix * batch, PAR_THRESHOLD_FLOPS)
    {
        // Entries are disjoint (checked above): hand each task its own chunk of C.
        cdata
            .par_chunks_mut(c_stride.max(1))
            .take(batch)
            .enumerate()
            .for_each(|(t, chunk)| {
                crate::isa::with_isa(isa, || one(t, chunk)).expect("isa checked")
            });
    } else {
        for (t, chunk) in cdata.chunks_mut(c_stride.max(1)).take(batch).enumerate() {
            one(t, chunk);
        }
    }
    Ok(())
}

/// [`try_gemm_batched`], panicking on error.
///
/// # Panics
/// On the errors [`try_gemm_batched`] returns.
#[track_caller]
pub fn gemm_batched<T: Element>(
    batch: usize,
    alpha: T,
    a: Strided<MatRef<'_, T>>,
    b: Strided<MatRef<'_, T>>,
    beta: T,
    c: Strided<MatMut<'_, T>>,
) {
    unwrap_or_panic(try_gemm_batched(batch, alpha, a, b, beta, c))
}

fn check_shapes<T>(
    op: &'static str,
    a: &MatRef<'_, T>,
    b: &MatRef<'_, T>,
    c: &MatMut<'_, T>,
    bias: Option<&[T]>,
) -> Result<(), KernelError> {
    if a.cols != b.rows {
        return Err(KernelError::ShapeMismatch {
            op,
            lhs: a.shape(),
            rhs: b.shape(),
        });
    }
    if c.rows != a.rows || c.cols != b.cols {
        return Err(KernelError::ShapeMismatch {
            op,
            lhs: (a.rows, b.cols),
            rhs: c.shape(),
        });
    }
    if let Some(bias) = bias
        && bias.len() != c.cols
    {
        return Err(KernelError::LengthMismatch {
            op,
            expected: c.cols,
            got: bias.len(),
        });
    }
    Ok(())
}

/// Blocking parameters of one path and element type.
#[derive(Clone, Copy, Debug)]
struct Blocking {
    mr: usize,
    nr: usize,
    kc: usize,
    mc: usize,
    nc: usize,
}

/// The register tile `(MR, NV)`: `MR` rows by `NV` vectors, by register file (the element size
/// does not change it). The one place the tile shape is decided.
///
/// * 32 registers (AVX-512): 8 rows x 2 vectors = 16 accumulators; per depth 2 vector loads of
///   B and 8 A elements folded into their FMAs as embedded broadcasts. On this machine's core
///   (AMD Zen 5: two 512-bit FMA pipes), `cargo xtask perf --filter gemm/f32`, fraction of the
///   FMA peak, 16 x 1 -> 8 x 2: 64^3 75.4% -> 89.3%, 256^3 80.3% -> 93.6%, 1024^3 81.2% ->
///   91.5%, `256x784x512` `A*B^T` 88.0% -> 94.3%. 16 x 1 (one broadcast per FMA) ran out of
///   load slots; 12 x 2 leaves ragged tiles at 64 to 512 rows (73-92%). f64 measured 8 x 2 best
///   of 8x1, 8x2, 12x1, 16x1 and 24x1 on an earlier machine; on this one (builds alternated,
///   fraction of the FMA peak, caches swept between runs) 12 x 2 lost (1024^3 90.6-91.4% ->
///   87.8-88.6%, 256^3 93.7-94.6% -> 90.8-91.5%, 64^3 72-76% -> 61-65%) and 8 x 3 tied at
///   1024^3, gained 1-2% at 512^3, and lost at 256^3 (-> 90.2-90.4%) and 64^3 (-> 54-55%),
///   though both load fewer bytes of A or B per multiply-add.
/// * 16 registers (AVX2, SSE2, scalar): 6 rows x 2 vectors = 12 accumulators.
const fn tile_shape(registers: usize) -> (usize, usize) {
    if registers >= 32 { (8, 2) } else { (6, 2) }
}

/// The lanes of a path's vector for `T`.
struct Lanes;
impl<T: Element> SimdOp<T> for Lanes {
    type Output = usize;
    #[inline(always)]
    fn run<S: Simd<T>>(self, _s: S) -> usize {
        S::LANES
    }
}

struct ShapeOf;
impl<T: Element> SimdOp<T> for ShapeOf {
    type Output = (usize, usize);
    #[inline(always)]
    fn run<S: Simd<T>>(self, _s: S) -> (usize, usize) {
        {
            let (mr, nv) = tile_shape(S::REGISTERS);
            (mr, nv * S::LANES)
        }
    }
}

/// A C larger than this (bytes, the L2 size) is prefetched into L2 tile by tile, at the start
/// of each micro-kernel call, so that its update does not wait for C from L3 or DRAM. perf put
/// 9.5% of a 1024^3 f32 product on the first instruction after the update's load of C. Best of
/// 4 interleaved runs, one core, fraction of the FMA peak, without -> with: f32 1024^3 83.0% ->
/// 85.5%, 2048^3 75.8% -> 79.8%; f64 512^3 83.6% -> 86.1%, 1024^3 80.8% -> 83.8%. Into L1
/// (`prefetcht0`) it gained nothing at 1024^3, and for C within L2 (64^3 to 256^3) the hints
/// cost about 1.5%.
const C_PREFETCH_BYTES: usize = 1 << 20;

/// Target size of a packed A block (bytes). 512 KiB (64 `f64` rows of a 1024-deep block, so
/// each B panel brought from L3 serves twice the tiles) measured no better: `f64` 1024^3 equal,
/// 512^3 and `256x784x512` within +-2% (interleaved medians, one core). A read in place takes
/// [`in_place_a_block_bytes`] instead.
const A_BLOCK_BYTES: usize = 256 << 10;

/// Target size of a block of A read in place: half of this core's L2, between
/// [`A_BLOCK_BYTES`] and 1 MiB (that default where the CPU does not report its L2). On the AMD
/// Zen 5 core (1 MiB L2) that is 512 KiB, which measured even with 256 KiB there (see
/// [`A_BLOCK_BYTES`]). On the Intel Xeon (Sapphire Rapids class, 2 MiB L2) each B panel, which
/// comes from a slow shared L3 there, then serves 4 times the tiles; one core, median times in
/// one process, 256 KiB -> 1 MiB alternating: `f64` `256x784x512` -10%, `A*B^T` -7%, 1024^3
/// -4%, 512^3 -1.5%; `f32` `256x784x512` -4%, `A*B^T` -3%, `128x784x512` -3%, 512^3 even.
/// Packed blocks (`A^T B`) keep [`A_BLOCK_BYTES`]: 1 MiB cost them 3% (`f64` `100x1000x100`,
/// `f32` `784x128x512`).
fn in_place_a_block_bytes() -> usize {
    crate::cache::l2_bytes().map_or(A_BLOCK_BYTES, |l2| (l2 / 2).clamp(A_BLOCK_BYTES, 1 << 20))
}

/// Target size of a packed B block (`KC x NC` elements, bytes): the block every A block
/// sweeps, so it should stay in L3 while they do. When `NC` was 4096 columns for both types,
/// the `f64` block of a 2048-wide product was 16 MiB and every A block streamed it from DRAM:
/// `f64` 2048^3 ran at 59-62% of the FMA peak. Interleaved medians (scratch program, one core,
/// AVX-512), 4096 columns -> this budget: `f64` 2048^3 203 -> 140 ms (61.7% -> 89.4%), 1024^3
/// -2.0% and +0.8% (512 columns either way at `KC` deep: 8 -> 4 MiB), 512^3 +0.7% (unchanged:
/// 512 columns); `f32` `4096x1024x4096` 153.7 -> 133.4 ms (81.4% -> 93.8%), 2048^3 -2.1%.
/// Half the budget lost 0.7-2.2% (`f64` 2048^3 and 1024^3, `f32` 2048^3), twice it lost 2.1-2.4%
/// (`f32` 2048^3 and `4096x1024x4096`).
const B_BLOCK_BYTES: usize = 4 << 20;

/// Depth of a block: each micro-kernel call multiplies `KC` depths. Deep blocks make few passes
/// over C (each pass loads and stores it) and long micro-kernel calls; the B micro-panel
/// (`KC x NR`, 64 KB in f32) then streams from L2 next to the A panel instead of sitting in L1,
/// which this core's L2 sustains. Best of 3 interleaved runs, one core, fraction of the FMA
/// peak, `KC` 256 -> 1024 (A block 384 -> 256 KiB): f32 1024^3 87.4% -> 93.9%, 512^3 92.6% ->
/// 94.3%, `256x784x512` `A*B^T` 91.1% -> 95.6%, `32x784x512` 92.8% -> 97.7%; f64 512^3 90.8% ->
/// 92.6%, 1024^3 86.7% -> 91.7%, `500x1000x500` 87.1% -> 91.1%; `784x128x512` unchanged.
/// `KC` 512 and 768 fall in between.
const KC: usize = 1024;

/// The blocking of a product of depth `k` whose A is read in place (`a_in_place`, see
/// [`read_a_in_place`]) or packed.
fn blocking<T: Element>(isa: Isa, k: usize, a_in_place: bool) -> Blocking {
    let (mr, nr) = T::dispatch(isa, ShapeOf);
    let kc = KC;
    // Rows: a packed A block (MC rows of a depth block) takes a quarter of a 1 MiB L2, one read
    // in place half of this core's L2 (`in_place_a_block_bytes`). Read in place, a block
    // shallower than `KC` gets more rows, up to that size: interleaved medians, one core,
    // AVX-512, `MC` from `KC` -> from the depth: f32 512^3 -0.3%, `500x100x500` -1.0%,
    // `2000x64x2000` -1.7%; f64 512^3 -0.9%, `500x100x500` -2.0%, `2000x64x2000` 4521 -> 4235
    // us; none slower, AVX2 likewise. Packed (`A^T B`: `784x128x512`, `512x128x512`) it cost
    // 14% in f32, so packed blocks keep the `KC`-deep size.
    let (depth, a_block) = if a_in_place {
        (k.clamp(1, kc), in_place_a_block_bytes())
    } else {
        (kc, A_BLOCK_BYTES)
    };
    let mc = ((a_block / (depth * size_of::<T>())) / mr).max(1) * mr;
    // Columns: as many whole panels as keep the packed B block within `B_BLOCK_BYTES`.
    let nc = nr * (B_BLOCK_BYTES / (k.clamp(1, kc) * size_of::<T>() * nr)).max(1);
    Blocking { mr, nr, kc, mc, nc }
}

/// Computes one product after validation: the driver.
#[allow(clippy::too_many_arguments)]
fn run<T: Element>(
    isa: Isa,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    c: MatMut<'_, T>,
    bias: Bias<'_, T>,
    act: Activation,
) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    if m == 0 || n == 0 {
        return;
    }
    // C is computed in the orientation whose rows are unit-stride, the axis the micro-kernel
    // writes along (a column-major C as C^T = op(B)^T op(A)^T), except `A W^T` with A's rows
    // filling the vectors: that runs as `C^T = W A^T`, the micro-kernel reading W's rows in
    // place as A panels and packing A^T as B panels (see `dot::rows_fill_vectors`). The test
    // after a flip is the negation of the one that flipped, so it flips at most once.
    let plain = matches!(bias, Bias::None) && act == Activation::Identity;
    let as_w_at = |a: &MatRef<'_, T>, b: &MatRef<'_, T>| {
        plain && dot::suits(a, b) && dot::rows_fill_vectors(a.rows, T::dispatch(isa, Lanes))
    };
    let flip = if c.cs != 1 && c.rs == 1 && m > 1 {
        !as_w_at(&b.t(), &a.t())
    } else {
        c.cs == 1 && as_w_at(&a, &b)
    };
    if flip {
        let bias = match bias {
            Bias::PerColumn(v) => Bias::PerRow(v),
            Bias::PerRow(v) => Bias::PerColumn(v),
            Bias::None => Bias::None,
        };
        return run(isa, alpha, b.t(), a.t(), beta, c.t(), bias, act);
    }
    let cptr = CPtr {
        ptr: c.data.as_mut_ptr(),
        rs: c.rs,
        cs: c.cs,
    };
    if k == 0 || alpha == T::ZERO {
        let upd = Update {
            alpha: T::ZERO,
            beta,
            bias,
            act,
        };
        T::dispatch(
            isa,
            ScaleC {
                c: cptr,
                m,
                n,
                upd: &upd,
            },
        );
        return;
    }
    if stream::try_stream(isa, alpha, &a, &b, beta, cptr, bias, act) {
        return;
    }
    if plain
        && (gemv::try_gemv(isa, alpha, &a, &b, beta, cptr)
            || dot::try_dot(isa, alpha, &a, &b, beta, cptr))
    {
        return;
    }
    if isa == Isa::Neon {
        // No NEON micro-kernel yet: matrixmultiply's (which has one), then the epilogue pass.
        // SAFETY: the views were bounds-checked when built; C does not alias A or B (&mut).
        unsafe {
            T::reference_gemm(
                m,
                k,
                n,
                alpha,
                a.data.as_ptr(),
                a.rs as isize,
                a.cs as isize,
                b.data.as_ptr(),
                b.rs as isize,
                b.cs as isize,
                beta,
                cptr.ptr,
                c.rs as isize,
                c.cs as isize,
            )
        };
        let upd = Update {
            alpha: T::ZERO,
            beta: T::ONE,
            bias,
            act,
        };
        if !matches!(bias, Bias::None) || act != Activation::Identity {
            T::dispatch(
                isa,
                ScaleC {
                    c: cptr,
                    m,
                    n,
                    upd: &upd,
                },
            );
        }
        return;
    }

    let bl = blocking::<T>(isa, k, read_a_in_place(&a));
    let prefetch_c = m * n * size_of::<T>() > C_PREFETCH_BYTES;
    let parallel = should_split(2 * m * n * k, PAR_THRESHOLD_FLOPS);
    let threads = if parallel {
        rayon::current_num_threads()
    } else {
        1
    };
    // A's row panels few enough for B to be read in place (see DIRECT_B_MAX_PANELS).
    let b_bad_stride = (b.rs * size_of::<T>()).is_multiple_of(DIRECT_B_BAD_STRIDE);
    let max_panels = DIRECT_B_MAX_PANELS / if b_bad_stride { 2 } else { 1 };
    let few_a_panels = m <= max_panels * bl.mr;
    for j0 in (0..n).step_by(bl.nc) {
        let nc = bl.nc.min(n - j0);
        let n_panels = nc.div_ceil(bl.nr);
        for p0 in (0..k).step_by(bl.kc) {
            let kc = bl.kc.min(k - p0);
            let last = p0 + kc == k;
            let upd = Update {
                alpha,
                beta: if p0 == 0 { beta } else { T::ONE },
                bias: if last { bias } else { Bias::None },
                act: if last { act } else { Activation::Identity },
            };
            // A row-major B whose width is a whole number of panels is read in place when it is
            // small (packing it would cost more than its strided rows cost the micro-kernel) or
            // when A has few row panels (`few_a_panels`): each element of B
            // then serves few micro-kernel calls, and packing it is a whole extra pass over B
            // that they do not repay; unless each panel, rereading its B panel, would find it
            // gone from L2 (DIRECT_B_SPAN_BYTES). See DIRECT_B_MAX_PANELS for the measurements.
            let direct = b.cs == 1
                && nc % bl.nr == 0
                && (kc * nc * size_of::<T>() <= DIRECT_B_BYTES
                    || few_a_panels
                        && (m <= DIRECT_B_ANY_SPAN_PANELS * bl.mr
                            || aliased_span(kc, b.rs * size_of::<T>()) <= DIRECT_B_SPAN_BYTES));
            let blen = if direct { 0 } else { n_panels * bl.nr * kc };
            scratch::with_scratch::<T, _>(&scratch::PACK_B, blen, |bpack| {
                let m_blocks = m.div_ceil(bl.mc);
                // Enough tasks to keep every thread busy: split B's panels when A has few blocks.
                let n_chunks = if threads > 1 {
                    (2 * threads).div_ceil(m_blocks).min(n_panels)
                } else {
                    1
                };
                let tasks = m_blocks * n_chunks;
                let sequential = tasks == 1 || threads == 1;
                // Run one after another, the first task sweeps every panel (`n_chunks == 1`), so
                // it can pack a row-major B as its first tiles read it (PACK_AS_READ_MAX_DEPTH,
                // PACK_AS_READ_MAX_A_BLOCKS).
                let pack_as_read = !direct
                    && sequential
                    && b.cs == 1
                    && (kc <= PACK_AS_READ_MAX_DEPTH || m_blocks <= PACK_AS_READ_MAX_A_BLOCKS);
                // Panels packed as read: the whole ones (a ragged last one goes through the
                // packing pass below).
                let full_panels = if pack_as_read { nc / bl.nr } else { 0 };
                // Only for a row-major B (`direct` or `pack_as_read`).
                let in_place = || Panels {
                    data: &b.data[p0 * b.rs + j0..],
                    panel_stride: bl.nr,
                    k_stride: b.rs,
                };
                if !direct && full_panels < n_panels {
                    // Panels `first..` through the packing pass; when the tasks are parallel
                    // (`full_panels` is then 0), in `threads` runs of panels packed side by side:
                    // one thread packing all of B held the others back (two threads, interleaved
                    // medians, one packer -> two: f32 512^3 627 -> 581 us, `256x784x512` 513 ->
                    // 453 us, 1024^3 -1.7%; f64 `256x784x512` -6.1%, 512^3 -5.2%).
                    let first = full_panels;
                    let per_run = (n_panels - first).div_ceil(if sequential { 1 } else { threads });
                    let pack_run = |(r, out): (usize, &mut [T])| {
                        let q = first + r * per_run;
                        T::dispatch(
                            isa,
                            PackB {
                                b: &b,
                                p0,
                                kc,
                                j0: j0 + q * bl.nr,
                                nc: (nc - q * bl.nr).min(per_run * bl.nr),
                                nr: bl.nr,
                                out,
                            },
                        )
                    };
                    let (region, run_len) =
                        (&mut bpack[first * bl.nr * kc..], per_run * bl.nr * kc);
                    if sequential {
                        region.chunks_mut(run_len).enumerate().for_each(pack_run);
                    } else {
                        region
                            .par_chunks_mut(run_len)
                            .enumerate()
                            .for_each(pack_run);
                    }
                }
                let panels_per_chunk = n_panels.div_ceil(n_chunks);
                let task = |t: usize, bsrc: BSource<'_, T>| {
                    let (ib, jc) = (t / n_chunks, t % n_chunks);
                    let q0 = jc * panels_per_chunk;
                    let q1 = (q0 + panels_per_chunk).min(n_panels);
                    if q0 >= q1 {
                        return;
                    }
                    let i0 = ib * bl.mc;
                    let mc = bl.mc.min(m - i0);
                    let alen = mc.div_ceil(bl.mr) * bl.mr * kc;
                    scratch::with_scratch::<T, _>(&scratch::PACK_A, alen, |apack| {
                        let block = Block {
                            a: &a,
                            p0,
                            apack,
                            b: bsrc,
                            c: cptr,
                            bl,
                            i0,
                            mc,
                            kc,
                            j0,
                            nc,
                            q0,
                            q1,
                            upd: &upd,
                            prefetch_c,
                        };
                        T::dispatch(isa, block);
                    });
                };
                if direct {
                    let each = |t| task(t, BSource::Ready(in_place()));
                    if sequential {
                        (0..tasks).for_each(each);
                    } else {
                        (0..tasks).into_par_iter().for_each(each);
                    }
                    return;
                }
                let packed = |bpack| Panels {
                    data: bpack,
                    panel_stride: bl.nr * kc,
                    k_stride: bl.nr,
                };
                if !sequential {
                    let bpack: &[T] = bpack;
                    (0..tasks)
                        .into_par_iter()
                        .for_each(|t| task(t, BSource::Ready(packed(bpack))));
                    return;
                }
                debug_assert_eq!(n_chunks, 1);
                if pack_as_read {
                    task(
                        0,
                        BSource::PackAsRead {
                            src: in_place(),
                            full: full_panels,
                            out: &mut *bpack,
                        },
                    );
                } else {
                    task(0, BSource::Ready(packed(bpack)));
                }
                for t in 1..tasks {
                    task(t, BSource::Ready(packed(bpack)));
                }
            });
        }
    }
}

/// Whether a block of A is read in place by the micro-kernel (each depth's `MR` elements
/// broadcast from `MR` rows) instead of being packed: always when A is row-major (`cs == 1`),
/// for its full row panels (a ragged last one is packed).
///
/// Packing a row-major A transposes it, and for a small product that is a tenth of the time.
/// Best of 4 interleaved runs, one core, fraction of the FMA peak, packed -> in place: f32
/// 64^3 86% -> 91%, 128^3 93% -> 95%, 256^3 96% -> 97%, `128x784x512` 93% -> 94%; f64 64^3
/// 86% -> 90%, 128^3 93% -> 95%; blocks of 1 MiB lost at 512^3 (93% -> 91%), and blocks are at
/// most [`A_BLOCK_BYTES`]. With 16-row tiles on the earlier machine, rows a multiple of 2 KiB
/// apart were packed (16 rows sharing two L1 sets evicted each other: f32 1024^3 fell from 87%
/// to 68%). With 8-row tiles on this one, in place measured faster at such strides too: f32
/// `128x512x512` -1.5%, `32x512x512` -4.6%, 512^3 -1.5%, 1024^3 -2.0%; f64 within 1% (median
/// times in one process, both settings alternating).
fn read_a_in_place<T>(a: &MatRef<'_, T>) -> bool {
    a.cs == 1
}

/// B read in place when it is at most this big (one depth block): about a quarter of L1d.
const DIRECT_B_BYTES: usize = 16 << 10;

/// B read in place when A has at most this many row panels (m <= 64 rows on AVX-512): each
/// element of B then serves too few tiles to repay packing it. On the earlier machine (one
/// 512-bit FMA pipe) 32 panels was best; on this one (AMD Zen 5, two pipes, 8-row tiles) packing
/// pays beyond 8. Median times in one process, both settings alternating, one core,
/// 32 -> 8 panels: f32 `128x784x512` 494 -> 408 us, `64x784x512` 249 -> 195 us, `128x512x1024`
/// -9%, 256^3 -4%; f64 `128x784x512` 1144 -> 848 us, `64x784x512` -18%; `64x512x512` f64
/// (rows 4 KiB apart) +4.7%; the rest within 1%. 4 panels lost (f32 `64x512x512` +27%, f64
/// `32x512x512` +41%). The AVX2 path (forced, 6-row tiles) gained too: f64 `64x784x512` -34%,
/// `32x784x512` -29%, f32 `128x784x512` -3%, against f32 `128x512x512` +11%, f64 128^3 +4%.
/// Earlier measurements: packed -> in place at 16 panels, f32 `32x784x512`
/// 74% -> 94% of peak; packing a 16384 x 16384 weight for a batch-8 layer took 0.45 s against
/// 0.26 s in place.
/// Rows of B a multiple of [`DIRECT_B_BAD_STRIDE`] apart keep half as many panels: such rows
/// share few L1 sets, so each A panel rereads the sliver from L2.
const DIRECT_B_MAX_PANELS: usize = 8;

/// A row-major B is packed by the first tile of each panel as it reads it (see
/// `kernel::product`), instead of in a pass of its own, when the depth block is at most this
/// deep (or A has few blocks: [`PACK_AS_READ_MAX_A_BLOCKS`]) and the tasks run one after
/// another (the first task then sweeps every panel before the others read them). The pass read
/// all of B once more, and the tiles after the first now find their panel just written rather
/// than packed a whole B earlier. A ragged last panel is packed by the pass, alone; a
/// transposed B keeps the pass.
///
/// Median times in one process, both ways alternating (41 runs each), one core, AVX-512,
/// packing pass -> packed as read: f32 `128x512x1024` 635 -> 582 us, `200x512x640` 564 -> 527
/// us, 256^3 -1.4%, 512^3 -0.5%, `A^T B` `512x128x512` -1.8%; f64 `128x512x512` 653 -> 568 us,
/// `200x512x640` -5.5%, 256^3 -3.9%, 512^3 -2.1%, `640x400x512` +0.4%. With a ragged last
/// panel, against the pass for all of B (31 runs each): f32 `200x512x500` 437 -> 421 us,
/// `128x500x500` -3.4%, 300^3 -1.3%; f64 `200x512x500` 933 -> 855 us, `250x400x1000` -2.4%,
/// `500x100x500` -0.5%. Deeper blocks lost: f32 `256x784x512` +3.1%, `384x784x512` +3.5%,
/// 1024^3 +0.7%; f64 `256x784x512` +3.7%, 1024^3 +1.4% (why, I did not establish: a software
/// prefetch of B ahead of the first tile did not change it).
const PACK_AS_READ_MAX_DEPTH: usize = 512;

/// Deeper blocks are packed as read too when A has at most this many blocks
/// ([`A_BLOCK_BYTES`] each): the packing pass reads and writes all of B once more, a cost each
/// sweep of B by an A block shares, so with few blocks it is a large part of the product. Median
/// times in one process, both settings alternating, one core, AVX-512, at most 512 deep -> also
/// deeper with at most 8 A blocks: f32 `128x784x512` 412 -> 406 us and 407 -> 396 us (the MLP's
/// first layer), `256x784x512` -3.8%, `128x1024x1024` 1198 -> 1086 us (81.6% -> 90.0% of the
/// FMA peak), `A^T B` at `128x1024x1024` -8.5%, `256x1024x256` -1.7%, `200x1000x300` -2.8%, and
/// `512x784x512` (7 blocks) between +2.0% and -2.1% over six runs; f64 `128x784x512` -3.6%,
/// `256x784x512` -2.6%, `128x1024x1024` -3.2%, `256x1024x256` -3.1%, `200x1000x300` -1.4%.
/// With 16 blocks and more the pass stayed ahead: f32 1024^3 +0.4% and +1.2%, f64 1024^3
/// +0.3% and +1.0%, f64 `500x1000x500` +1.2%.
const PACK_AS_READ_MAX_A_BLOCKS: usize = 8;

/// B rows a multiple of this many bytes apart map to the same few L1 sets: read in place only
/// up to half of [`DIRECT_B_MAX_PANELS`].
const DIRECT_B_BAD_STRIDE: usize = 4096;

/// A B panel read in place is read again by each A panel, from L2 if it stayed there. Its rows
/// (two cache lines each) are `rs` bytes apart, and rows a multiple of `2^j` bytes apart share
/// L2 sets: the panel fits only while its [`aliased_span`] stays within a part of L2. Beyond
/// this span (and more than [`DIRECT_B_ANY_SPAN_PANELS`] A panels) B is packed. Intel Xeon
/// (Sapphire Rapids class, 2 MiB L2, 16 ways), `f32`, one core, median times in one process,
/// both ways alternating, in place -> packed, by span: 1 MiB (`32x512x512`, `32x256x1024`)
/// +27% and +12%, 1.25 MiB (`32x640x512`) +15%, against 1.5 MiB (`32x768x512`, `32x384x1024`)
/// -11% and -17%, 1.53 MiB (`32x784x512`, the MLP's first layer at batch 32) -13%, 2 MiB
/// (`32x1024x512`, `32x512x1024`) -33% and -37%, `64x784x512` -29%; rows 2000 bytes apart
/// (`32x784x500`, span 12 KiB) within 2%. [`DIRECT_B_BAD_STRIDE`] is the older rule about the
/// same aliasing (in L1, measured on Zen 5); folding the two into one needs measurements on
/// both machines, which stop 27 did not have.
const DIRECT_B_SPAN_BYTES: usize = 5 << 18;

/// With this many A panels or fewer B is read in place at any span: packing it costs about the
/// second reading it saves. `16x784x512` (two panels, span 1.53 MiB) lost 21% packed, 24 rows
/// (three) were even.
const DIRECT_B_ANY_SPAN_PANELS: usize = 2;

/// The bytes `depth` rows `row_bytes` apart span as far as cache sets see them: `depth` times
/// the largest power of two dividing `row_bytes` (rows `2^j` apart, `j >= 6`, fall into one in
/// `2^(j-6)` sets), so rows 2000 bytes apart span `16 depth` and rows 2048 apart `2048 depth`.
fn aliased_span(depth: usize, row_bytes: usize) -> usize {
    if row_bytes == 0 {
        return 0;
    }
    depth.saturating_mul(1 << row_bytes.trailing_zeros().min(32))
}

/// Where the micro-kernel finds B's panels: packed, or in place.
#[derive(Clone, Copy)]
struct Panels<'a, T> {
    /// Panel 0, depth 0.
    data: &'a [T],
    /// Elements from panel `q` to panel `q + 1`.
    panel_stride: usize,
    /// Elements from depth `k` to `k + 1` within a panel.
    k_stride: usize,
}

impl<T> Panels<'_, T> {
    /// Panel `q`'s first element, after checking that its `kc` depths of `nr` lie inside.
    fn panel(&self, q: usize, kc: usize, nr: usize) -> *const T {
        self.data[q * self.panel_stride..][..(kc - 1) * self.k_stride + nr].as_ptr()
    }
}

/// B for one task.
enum BSource<'a, T> {
    /// Packed before the tasks ran, or read in place.
    Ready(Panels<'a, T>),
    /// Panels `q < full` read in place by their first tile, which packs them into `out` (panel
    /// `q` at `q * NR * kc`) for the tiles after it; the rest already packed there.
    PackAsRead {
        src: Panels<'a, T>,
        full: usize,
        out: &'a mut [T],
    },
}

/// Packs a B block (see [`pack::pack`]) inside the SIMD dispatch.
struct PackB<'a, 'b, T> {
    b: &'a MatRef<'b, T>,
    p0: usize,
    kc: usize,
    j0: usize,
    nc: usize,
    nr: usize,
    out: &'a mut [T],
}

impl<T: Element> SimdOp<T> for PackB<'_, '_, T> {
    type Output = ();
    #[inline(always)]
    fn run<S: Simd<T>>(self, s: S) {
        pack::pack(
            s, self.b, false, self.j0, self.nc, self.p0, self.kc, self.nr, self.out,
        );
    }
}

/// One task: pack an A block (or read it in place, see [`read_a_in_place`]), sweep it against B
/// panels `q0..q1`.
///
/// Everything inside `run` is `#[inline(always)]` and closure-free, so it is all compiled with
/// the path's target features (a closure would be a separate function compiled without them).
struct Block<'a, 'm, T> {
    a: &'a MatRef<'m, T>,
    p0: usize,
    apack: &'a mut [T],
    b: BSource<'a, T>,
    c: CPtr<T>,
    bl: Blocking,
    i0: usize,
    mc: usize,
    kc: usize,
    j0: usize,
    nc: usize,
    q0: usize,
    q1: usize,
    upd: &'a Update<'a, T>,
    prefetch_c: bool,
}

impl<T: Element> SimdOp<T> for Block<'_, '_, T> {
    type Output = ();
    #[inline(always)]
    fn run<S: Simd<T>>(self, s: S) {
        if S::REGISTERS >= 32 {
            self.sweep::<S, { tile_shape(32).0 }, { tile_shape(32).1 }>(s)
        } else {
            self.sweep::<S, { tile_shape(16).0 }, { tile_shape(16).1 }>(s)
        }
    }
}

impl<T: Element> Block<'_, '_, T> {
    #[inline(always)]
    fn sweep<S: Simd<T>, const MR: usize, const NV: usize>(self, s: S) {
        let Block {
            a,
            p0,
            apack,
            mut b,
            c,
            bl,
            i0,
            mc,
            kc,
            j0,
            nc,
            q0,
            q1,
            upd,
            prefetch_c,
        } = self;
        debug_assert_eq!(MR, bl.mr);
        let full = if read_a_in_place(a) { mc / MR } else { 0 };
        if full * MR < mc {
            pack::pack(
                s,
                a,
                true,
                i0 + full * MR,
                mc - full * MR,
                p0,
                kc,
                MR,
                &mut apack[full * MR * kc..],
            );
        }
        let apack: &[T] = apack;
        let (m_end, n_end) = (i0 + mc, j0 + nc);
        for q in q0..q1 {
            // B for the panel's first tile, where that tile packs it (or null), B for the rest.
            let (first, out, rest) = match &mut b {
                BSource::Ready(panels) => {
                    let bp = (panels.panel(q, kc, bl.nr), panels.k_stride);
                    (bp, core::ptr::null_mut(), bp)
                }
                BSource::PackAsRead { src, full, out } => {
                    let o = out[q * bl.nr * kc..][..bl.nr * kc].as_mut_ptr();
                    if q < *full {
                        (
                            (src.panel(q, kc, bl.nr), src.k_stride),
                            o,
                            (o.cast_const(), bl.nr),
                        )
                    } else {
                        (
                            (o.cast_const(), bl.nr),
                            core::ptr::null_mut(),
                            (o.cast_const(), bl.nr),
                        )
                    }
                }
            };
            let jt = j0 + q * bl.nr;
            let cols = (n_end - jt).min(bl.nr);
            for p in 0..mc.div_ceil(MR) {
                let it = i0 + p * MR;
                let rows = (m_end - it).min(MR);
                // Bounds-checked slices of the panel's A elements.
                let a_panel = if p < full {
                    let ar = &a.data[it * a.rs + p0..][..(MR - 1) * a.rs + kc];
                    kernel::APanel::Rows(ar.as_ptr(), a.rs)
                } else {
                    kernel::APanel::Packed(apack[p * MR * kc..][..MR * kc].as_ptr())
                };
                let ((bp, b_ks), b_out) = if p == 0 {
                    (first, out)
                } else {
                    (rest, core::ptr::null_mut())
                };
                // SAFETY: kc >= 1 (k > 0 here); the A panel (packed: MR*kc elements; in place:
                // MR full rows of kc, unit stride along the depth) and the B panel (kc rows of
                // NR at `b_ks`) were bounds-checked by the slicing above, as was the packed
                // panel `b_out` that the first tile writes (a whole panel: only those are packed
                // as read) and the later tiles read, disjoint from A, B and C; the tile
                // (it, jt) clipped to (m_end, n_end) lies inside C, and tasks own disjoint
                // (A block, B panel range) pairs, hence disjoint tiles.
                unsafe {
                    kernel::tile::<T, S, MR, NV>(
                        s, kc, a_panel, bp, b_ks, b_out, c, it, jt, rows, cols, upd, prefetch_c,
                    )
                }
            }
        }
    }
}

/// `C = act(beta * C + bias)` (the `k == 0` / `alpha == 0` case, and the NEON epilogue pass).
struct ScaleC<'a, T> {
    c: CPtr<T>,
    m: usize,
    n: usize,
    upd: &'a Update<'a, T>,
}

impl<T: Element> SimdOp<T> for ScaleC<'_, T> {
    type Output = ();
    #[inline(always)]
    fn run<S: Simd<T>>(self, s: S) {
        // An empty product (a zero tile) through the tile update, one row of one vector at a
        // time: the same epilogue code as the multiply.
        let zero = [[s.splat(T::ZERO); 1]; 1];
        for i in 0..self.m {
            for j0 in (0..self.n).step_by(S::LANES) {
                // SAFETY: the clipped 1 x LANES tile at (i, j0) lies inside C.
                unsafe {
                    kernel::update::<T, S, 1, 1>(
                        s,
                        &zero,
                        self.c,
                        i,
                        j0,
                        1,
                        (self.n - j0).min(S::LANES),
                        self.upd,
                    )
                }
            }
        }
    }
}

/// Small products through every packing and in-place form, against a naive loop; sized so that
/// `cargo +nightly miri test -p nabla-kernels --lib gemm` runs them (scalar path under Miri).
#[cfg(test)]
mod tests {
    use super::*;

    fn naive(m: usize, k: usize, n: usize, a: &MatRef<'_, f64>, b: &MatRef<'_, f64>) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| a.get(i, p) * b.get(p, j)).sum();
            }
        }
        c
    }

    #[test]
    fn aliased_span_counts_the_power_of_two_in_the_stride() {
        assert_eq!(aliased_span(784, 2048), 784 * 2048);
        assert_eq!(aliased_span(784, 2000), 784 * 16);
        assert_eq!(aliased_span(10, 3), 10);
        assert_eq!(aliased_span(10, 0), 0);
        assert!(aliased_span(640, 2048) <= DIRECT_B_SPAN_BYTES);
        assert!(aliased_span(768, 2048) > DIRECT_B_SPAN_BYTES);
    }

    #[test]
    fn every_operand_form_matches_a_naive_product() {
        let (m, k, n) = (19, 21, 18);
        // Small integers: every sum is exact, so the comparison is equality.
        let a: Vec<f64> = (0..m * k).map(|i| (i % 7) as f64 - 3.0).collect();
        let b: Vec<f64> = (0..k * n).map(|i| (i % 5) as f64 - 2.0).collect();
        for isa in [Isa::Scalar, isa::active()] {
            // A row-major (read in place, with a ragged packed panel) or column-major (packed);
            // B row-major or column-major (transposed panels).
            for (a_view, b_view) in [
                (MatRef::row_major(&a, m, k), MatRef::row_major(&b, k, n)),
                (MatRef::col_major(&a, m, k), MatRef::col_major(&b, k, n)),
            ] {
                let want = naive(m, k, n, &a_view, &b_view);
                let mut c = vec![f64::NAN; m * n];
                let cv = MatMut::row_major(&mut c, m, n);
                run(
                    isa,
                    1.0,
                    a_view,
                    b_view,
                    0.0,
                    cv,
                    Bias::None,
                    Activation::Identity,
                );
                assert_eq!(c, want, "{isa}");
            }
        }
    }

    #[test]
    fn b_packed_as_read_matches_a_naive_product() {
        // On the scalar path (6 x 2 tiles) 49 rows are more panels than B is read in place for
        // and B (8 x 263 f64) is above the small-B rule: the first tile of each whole panel
        // packs B as it reads it, the other 8 (one ragged) read the packed panel; the last,
        // ragged panel (one column) is packed by the packing pass.
        let (m, k, n) = (49, 8, 263);
        let a: Vec<f64> = (0..m * k).map(|i| (i % 7) as f64 - 3.0).collect();
        let b: Vec<f64> = (0..k * n).map(|i| (i % 5) as f64 - 2.0).collect();
        let (a_view, b_view) = (MatRef::row_major(&a, m, k), MatRef::row_major(&b, k, n));
        let want = naive(m, k, n, &a_view, &b_view);
        let mut c = vec![f64::NAN; m * n];
        crate::parallel::with_parallelism(crate::parallel::Parallelism::Sequential, || {
            run(
                Isa::Scalar,
                1.0,
                a_view,
                b_view,
                0.0,
                MatMut::row_major(&mut c, m, n),
                Bias::None,
                Activation::Identity,
            )
        });
        assert_eq!(c, want);
    }

    #[test]
    fn streamed_products_match_a_naive_product() {
        // 3 rows of A against a row-major B: the streaming path, with a depth of 19 (two
        // blocks of 8 and a shallower one) and 37 columns (a ragged last step on the vector
        // paths), beta 1 over C = 1; small integers, so every sum is exact. Under Miri this
        // covers the scalar path's unsafe loads and stores, whose steps are one column wide:
        // the tail buffers are exercised by `tests/gemm.rs` on the vector paths only.
        let (m, k, n) = (3, 19, 37);
        let a: Vec<f64> = (0..m * k).map(|i| (i % 7) as f64 - 3.0).collect();
        let b: Vec<f64> = (0..k * n).map(|i| (i % 5) as f64 - 2.0).collect();
        let (a_view, b_view) = (MatRef::col_major(&a, m, k), MatRef::row_major(&b, k, n));
        let want: Vec<f64> = naive(m, k, n, &a_view, &b_view)
            .iter()
            .map(|x| x + 1.0)
            .collect();
        for isa in [Isa::Scalar, isa::active()] {
            let mut c = vec![1.0; m * n];
            let cv = MatMut::row_major(&mut c, m, n);
            run(
                isa,
                1.0,
                a_view,
                b_view,
                1.0,
                cv,
                Bias::None,
                Activation::Identity,
            );
            assert_eq!(c, want, "{isa}");
        }
    }

    #[test]
    fn dot_products_match_a_naive_product() {
        // A W^T with 5 rows (a ragged row group on every path), 7 rows of W (a ragged column
        // group), a depth of 203 (a partial last vector for every vector width); small
        // integers, so every sum is exact.
        let (m, k, n) = (5, 203, 7);
        let a: Vec<f64> = (0..m * k).map(|i| (i % 7) as f64 - 3.0).collect();
        let w: Vec<f64> = (0..n * k).map(|i| (i % 5) as f64 - 2.0).collect();
        let (a_view, b_view) = (MatRef::row_major(&a, m, k), MatRef::row_major(&w, n, k).t());
        let want = naive(m, k, n, &a_view, &b_view);
        for isa in [Isa::Scalar, isa::active()] {
            for beta in [0.0, 1.0] {
                let mut c = vec![if beta == 0.0 { f64::NAN } else { 1.0 }; m * n];
                let cp = CPtr {
                    ptr: c.as_mut_ptr(),
                    rs: n,
                    cs: 1,
                };
                assert!(dot::try_dot(isa, 1.0, &a_view, &b_view, beta, cp));
                let want: Vec<f64> = want.iter().map(|v| v + beta).collect();
                assert_eq!(c, want, "{isa}, beta {beta}");
            }
        }
    }

    #[test]
    fn copy_matrix_transposes_on_every_path() {
        let (m, n) = (11, 18);
        let a: Vec<f32> = (0..m * n).map(|i| i as f32).collect();
        for isa in [Isa::Scalar, isa::active()] {
            let mut t = vec![0.0f32; m * n];
            isa::with_isa(isa, || {
                copy_matrix(
                    MatRef::row_major(&a, m, n).t(),
                    MatMut::row_major(&mut t, n, m),
                )
            })
            .unwrap();
            for i in 0..m {
                for j in 0..n {
                    assert_eq!(t[j * m + i], a[i * n + j]);
                }
            }
        }
    }
}
