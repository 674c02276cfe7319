//! The register-tile micro-kernel and the tile update (alpha, beta, bias, activation).
//!
//! One generic kernel serves every path: an `MR x NR` tile (`NR = NV * LANES`) is accumulated
//! in `MR * NV` vector registers over a packed A panel and a packed B panel, one rank-1 update
//! per `k` (broadcast an A element, multiply-add with `NV` B vectors). `MR`/`NV` are chosen per
//! register file and element size by `tile_shape` in `mod.rs`.

use super::Activation;
use crate::element::Element;
use crate::simd::{BUNDLE, Bundle, Cache, MAX_LANES, Simd, prefetch};

/// How a finished tile is written to C: `C = act(alpha * AB + beta * C + bias)`.
///
/// `beta == 0` never reads C. For all but the last depth block `bias` is `None` and `act` is
/// identity (the epilogue runs once, on the complete sum).
#[derive(Clone, Copy)]
pub(crate) struct Update<'a, T> {
    pub alpha: T,
    pub beta: T,
    pub bias: Bias<'a, T>,
    pub act: Activation,
}

/// A bias broadcast over C.
#[derive(Clone, Copy)]
pub(crate) enum Bias<'a, T> {
    None,
    /// One value per column of C (a row vector added to every row).
    PerColumn(&'a [T]),
    /// One value per row of C.
    PerRow(&'a [T]),
}

/// A raw view of C shared by the threads that write disjoint tiles of it.
#[derive(Clone, Copy)]
pub(crate) struct CPtr<T> {
    pub ptr: *mut T,
    pub rs: usize,
    pub cs: usize,
}
// SAFETY: a `CPtr` is only dereferenced at tiles the driver hands to exactly one task, so no
// element is written by two threads or read while another writes it.
unsafe impl<T: Send> Send for CPtr<T> {}
// SAFETY: as above: shared between tasks that write disjoint tiles.
unsafe impl<T: Send> Sync for CPtr<T> {}

/// Applies an epilogue activation to a vector.
#[inline(always)]
pub(crate) fn activate<T: Element, S: Simd<T>>(s: S, act: Activation, v: S::V) -> S::V {
    match act {
        Activation::Identity => v,
        // max(0, v) returns v when v is NaN: NaN propagates.
        Activation::Relu => s.max(s.splat(T::ZERO), v),
        Activation::Sigmoid => crate::math::sigmoid(s, v),
        Activation::Tanh => crate::math::tanh(s, v),
        Activation::Gelu => crate::math::gelu(s, v),
    }
}

/// Where a tile's A is: a packed panel (element `(i, k)` at `[k*MR + i]`), or `MR` rows of a
/// row-major matrix read in place (`(i, k)` at `[i*row_stride + k]`).
#[derive(Clone, Copy)]
pub(crate) enum APanel<T> {
    Packed(*const T),
    Rows(*const T, usize),
}

/// Multiplies an `MR x kc` A panel by a `kc x NR` B panel (rows `b_ks` apart) and updates the
/// tile of C at `(i0, j0)`, of which `m x n` elements (`m <= MR`, `n <= NR`) lie inside C:
/// [`update`] of [`product`]. A ragged tile whose `n` columns fit one vector multiplies only
/// that vector (n = 100 in f64 on AVX-512 ends with 4 columns, not 16).
///
/// With `prefetch_c`, the tile's rows of C are first prefetched into L2 (not L1: there they
/// would evict the B panel), so the update at the end does not wait for C from L3 or DRAM; the
/// driver asks for it when C is too large to stay in L2.
///
/// A non-null `b_out` packs B as it is read: the `kc x NR` panel is also stored there, depth
/// after depth (`NR` apart), for the tiles after this one (see [`product`]).
///
/// # Safety
/// `kc >= 1`; the `MR * kc` elements of A are readable and `b + k*b_ks .. + NR` is readable
/// for `k < kc`; `c` addresses a C for which `(i0 + i, j0 + j)`, `i < m`, `j < n`, are in
/// bounds, written by no other thread now. A non-null `b_out` is writable for `kc * NR`
/// elements, overlaps nothing else this call reads or writes, and then `n > LANES` (a full
/// panel).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn tile<T: Element, S: Simd<T>, const MR: usize, const NV: usize>(
    s: S,
    kc: usize,
    a: APanel<T>,
    b: *const T,
    b_ks: usize,
    b_out: *mut T,
    c: CPtr<T>,
    i0: usize,
    j0: usize,
    m: usize,
    n: usize,
    upd: &Update<'_, T>,
    prefetch_c: bool,
) {
    let one_vector = NV > 1 && n <= S::LANES;
    debug_assert!(b_out.is_null() || !one_vector);
    if prefetch_c {
        for i in 0..m {
            let row = c.ptr.wrapping_add((i0 + i) * c.rs + j0 * c.cs);
            prefetch(row, Cache::L2);
            prefetch(row.wrapping_add((n - 1) * c.cs), Cache::L2);
        }
    }
    // SAFETY: the caller's contract, split between the two (the one-vector tile reads the
    // first LANES of each B row).
    unsafe {
        match (a, one_vector) {
            (APanel::Packed(p), true) => {
                let acc = product::<T, S, MR, 1, true, false, 0>(s, kc, p, 0, b, b_ks, b_out, None);
                update::<T, S, MR, 1>(s, &acc, c, i0, j0, m, n, upd);
            }
            (APanel::Packed(p), false) => {
                let acc = if b_out.is_null() {
                    product::<T, S, MR, NV, true, false, 0>(s, kc, p, 0, b, b_ks, b_out, None)
                } else {
                    product::<T, S, MR, NV, true, true, 0>(s, kc, p, 0, b, b_ks, b_out, None)
                };
                update::<T, S, MR, NV>(s, &acc, c, i0, j0, m, n, upd);
            }
            (APanel::Rows(p, rs), true) => {
                let acc =
                    product::<T, S, MR, 1, false, false, 0>(s, kc, p, rs, b, b_ks, b_out, None);
                update::<T, S, MR, 1>(s, &acc, c, i0, j0, m, n, upd);
            }
            (APanel::Rows(p, rs), false) => {
                let acc = if b_out.is_null() {
                    product::<T, S, MR, NV, false, false, 0>(s, kc, p, rs, b, b_ks, b_out, None)
                } else {
                    product::<T, S, MR, NV, false, true, 0>(s, kc, p, rs, b, b_ks, b_out, None)
                };
                update::<T, S, MR, NV>(s, &acc, c, i0, j0, m, n, upd);
            }
        }
    }
}

/// The `MR x NR` register tile `sum_k a[k] b[k]^T` over `kc >= 1` depths; with `STORE_B`
/// each depth's `NR` B elements are also stored at `b_out + k * NR`: the panel packed on the
/// way, so that B read in place by the first tile of a panel need not be packed in a pass of
/// its own (that pass read all of B once more).
///
/// The loop runs at least once and its first trip multiplies instead of adding to zero, so the
/// accumulators need no initial value: a zeroed array would live in a stack slot (the update
/// indexes rows at run time), and its 16 zeroing stores before every tile waited behind the
/// previous tile's stores to C (7% of a 784 x 128 x 512 product, by perf).
///
/// Given `acc0`, the tile starts from it instead (`acc0 + sum_k a[k] b[k]^T`, each depth one
/// multiply-add in order). With `AHEAD > 0` each depth's B row is also prefetched into L1,
/// `AHEAD` bytes further along it (a hint: it may point anywhere).
///
/// # Safety
/// `kc >= 1`; the `MR * kc` elements of A (at [`a_index`]) are readable and
/// `b + k*b_ks .. + NR` is readable for `k < kc`; with `STORE_B`, `b_out .. + kc * NR` is
/// writable and overlaps neither.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn product<
    T: Element,
    S: Simd<T>,
    const MR: usize,
    const NV: usize,
    const PACKED: bool,
    const STORE_B: bool,
    const AHEAD: usize,
>(
    s: S,
    kc: usize,
    a: *const T,
    a_rs: usize,
    b: *const T,
    b_ks: usize,
    b_out: *mut T,
    acc0: Option<[[S::V; NV]; MR]>,
) -> [[S::V; NV]; MR] {
    debug_assert!(kc >= 1);
    let nr = NV * S::LANES;
    let ahead = |row: *const T| {
        if AHEAD > 0 {
            for v in 0..NV {
                prefetch(
                    row.wrapping_add(AHEAD / size_of::<T>() + v * S::LANES),
                    Cache::L1,
                );
            }
        }
    };
    // (Software prefetches measured no faster in the micro-kernel: of B 16 depths ahead for
    // the packing tile; in f64 (512^3, 1024^3, `500x1000x500`, `256x784x512`), of B 12 depths
    // ahead into L1 (+0.4% to +2%), of the next B panel into L2 spread over a panel's tiles
    // (+0.3% to +0.7%), and of A's rows read in place 512 or 1024 bytes ahead (1-4% slower).)
    // SAFETY: every access below has k < kc and i < MR: inside the panels the caller guarantees.
    unsafe {
        // Where each row of the A panel starts. Read in place, the rows are `a_rs` apart, and
        // LLVM, knowing that, rebuilt the 8 addresses from one pointer at every depth: 12
        // integer instructions per 16 multiply-adds, against 4 with the pointers hidden from it
        // (`black_box`, once per call) and each row addressed as `row + k`. Intel Xeon (Sapphire
        // Rapids class, two 512-bit FMA ports, which integer work also uses), `f64`, six
        // alternations of the two builds, medians: 128^3 55.1 -> 59.1 GFLOP/s, 256^3 51.4 ->
        // 54.4, 512^3 45.3 -> 49.9, `256x784x512` `A*B^T` 46.0 -> 47.8; `f32` unchanged.
        let rows: [*const T; MR] =
            core::array::from_fn(|i| a.add(a_index::<MR, PACKED>(a_rs, i, 0)));
        let rows = if PACKED {
            rows
        } else {
            core::hint::black_box(rows)
        };
        let step = if PACKED { MR } else { 1 };
        ahead(b);
        let bv = load_b::<T, S, NV>(s, b);
        if STORE_B {
            store_b::<T, S, NV>(s, b_out, &bv);
        }
        let mut acc = [bv; MR];
        for (i, row) in acc.iter_mut().enumerate() {
            let av = s.splat(*rows[i]);
            for (j, v) in row.iter_mut().enumerate() {
                *v = match &acc0 {
                    Some(c) => s.mul_add(av, *v, c[i][j]),
                    None => s.mul(av, *v),
                };
            }
        }
        for k in 1..kc {
            ahead(b.add(k * b_ks));
            let bv = load_b::<T, S, NV>(s, b.add(k * b_ks));
            if STORE_B {
                store_b::<T, S, NV>(s, b_out.add(k * nr), &bv);
            }
            for (i, row) in acc.iter_mut().enumerate() {
                let av = s.splat(*rows[i].add(k * step));
                for (accv, &bj) in row.iter_mut().zip(bv.iter()) {
                    *accv = s.mul_add(av, bj, *accv);
                }
            }
        }
        acc
    }
}

/// Where element `(i, k)` of a tile's A is: in a packed panel at `k * MR + i`, or, read in
/// place from a row-major matrix (`!PACKED`), at `i * a_rs + k`.
#[inline(always)]
fn a_index<const MR: usize, const PACKED: bool>(a_rs: usize, i: usize, k: usize) -> usize {
    if PACKED { k * MR + i } else { i * a_rs + k }
}

/// The `NV` vectors of one depth of a B panel.
///
/// # Safety
/// `b .. b + NV * LANES` is readable.
#[inline(always)]
unsafe fn load_b<T: Element, S: Simd<T>, const NV: usize>(s: S, b: *const T) -> [S::V; NV] {
    let mut bv = [s.splat(T::ZERO); NV];
    for (j, v) in bv.iter_mut().enumerate() {
        // SAFETY: j < NV: inside the row the caller guarantees.
        *v = unsafe { s.load(b.add(j * S::LANES)) };
    }
    bv
}

/// Stores the `NV` vectors of one depth of a B panel (see [`load_b`]).
///
/// # Safety
/// `b .. b + NV * LANES` is writable.
#[inline(always)]
unsafe fn store_b<T: Element, S: Simd<T>, const NV: usize>(s: S, b: *mut T, bv: &[S::V; NV]) {
    for (j, &v) in bv.iter().enumerate() {
        // SAFETY: j < NV: inside the row the caller guarantees.
        unsafe { s.store(b.add(j * S::LANES), v) };
    }
}

/// [`update`] of a full tile whose rows are unit-stride: C updated in place, vector by vector,
/// reading C only with `READ_C` (`beta != 0`). With `EPILOGUE` also the bias and, if it is the
/// activation, ReLU, both resolved before the loop (the bias vectors of a per-column bias are
/// loaded once per tile, ReLU is `max` with a floor of 0 and identity with `-inf`), so that the
/// loop has no branch and unrolls with the tile in registers. Other activations are applied by
/// [`activate_rows`] afterwards.
///
/// When the bias was matched inside the loop, the loop did not unroll: the tile went through
/// the stack and each vector re-read the update's fields, and `act(AB + bias)` with identity
/// cost 1.6-2.0% over the plain `f32` 512^3 product (scratch program, interleaved medians).
///
/// # Safety
/// Rows `i0..i0 + MR`, columns `j0..j0 + NR` are inside C (`c.cs == 1`), written by no other
/// thread now; a per-column bias holds at least `j0 + NR` values, a per-row one `i0 + MR`.
#[inline(always)]
unsafe fn full_tile<
    T: Element,
    S: Simd<T>,
    const MR: usize,
    const NV: usize,
    const READ_C: bool,
    const EPILOGUE: bool,
>(
    s: S,
    acc: &[[S::V; NV]; MR],
    c: CPtr<T>,
    i0: usize,
    j0: usize,
    upd: &Update<'_, T>,
) {
    let lanes = S::LANES;
    let alpha = s.splat(upd.alpha);
    let beta = s.splat(upd.beta);
    // -0 is the neutral element of addition (`-0 + -0 = -0`, where `+0` would turn it into
    // `+0`): the absent bias.
    let no_bias = s.splat(T::from_f64(-0.0));
    let (mut column_bias, mut row_bias, mut floor) = ([no_bias; NV], None, s.splat(T::ZERO));
    if EPILOGUE {
        match upd.bias {
            Bias::None => {}
            Bias::PerColumn(bias) => {
                for (j, v) in column_bias.iter_mut().enumerate() {
                    // SAFETY: bias.len() >= j0 + NR (the caller's contract).
                    *v = unsafe { s.load(bias.as_ptr().add(j0 + j * lanes)) };
                }
            }
            Bias::PerRow(bias) => row_bias = Some(&bias[i0..i0 + MR]),
        }
        // `max(floor, v)` returns v for NaN v (its second operand): NaN propagates.
        if upd.act != Activation::Relu {
            floor = s.splat(T::NEG_INFINITY);
        }
    }
    for (i, row) in acc.iter().enumerate() {
        // SAFETY: row i0+i, columns j0..j0+NR are inside C (the caller's contract).
        let crow = unsafe { c.ptr.add((i0 + i) * c.rs + j0) };
        let rb = row_bias.map_or(no_bias, |b| s.splat(b[i]));
        for (j, &v) in row.iter().enumerate() {
            let mut v = s.mul(alpha, v);
            if READ_C {
                // SAFETY: see above.
                v = s.mul_add(beta, unsafe { s.load(crow.add(j * lanes)) }, v);
            }
            if EPILOGUE {
                v = s.max(floor, s.add(s.add(v, column_bias[j]), rb));
            }
            // SAFETY: see above.
            unsafe { s.store(crow.add(j * lanes), v) };
        }
    }
}

/// `C = act(C)` over the full tile at `(i0, j0)` (rows unit-stride).
///
/// # Safety
/// As [`full_tile`].
#[inline(always)]
unsafe fn activate_rows<T: Element, S: Simd<T>, const MR: usize, const NV: usize>(
    s: S,
    c: CPtr<T>,
    i0: usize,
    j0: usize,
    act: Activation,
) {
    // Vector `q` of the tile (row-major order): row `q / NV`, vector `q % NV` of it. Rows
    // i0.., columns j0..j0+NR are inside C (the caller's contract), so every `q < MR * NV` is.
    let at = |q: usize| {
        c.ptr
            .wrapping_add((i0 + q / NV) * c.rs + j0 + (q % NV) * S::LANES)
    };
    // Bundles of `BUNDLE` vectors (the same bits, more of them in flight: see `Bundle`), then
    // single vectors.
    let wide = Bundle::<S, BUNDLE>(s);
    let mut first = 0;
    // `S::BUNDLES` is a constant: a path without bundles never compiles this loop.
    if S::BUNDLES {
        while first + BUNDLE <= MR * NV {
            let mut v = [s.splat(T::ZERO); BUNDLE];
            for (u, v) in v.iter_mut().enumerate() {
                // SAFETY: see above.
                *v = unsafe { s.load(at(first + u)) };
            }
            let v = activate(wide, act, v);
            for (u, v) in v.into_iter().enumerate() {
                // SAFETY: see above.
                unsafe { s.store(at(first + u), v) };
            }
            first += BUNDLE;
        }
    }
    for q in first..MR * NV {
        // SAFETY: see above.
        unsafe { s.store(at(q), activate(s, act, s.load(at(q)))) };
    }
}

/// Writes the tile `acc` to C at `(i0, j0)`, of which `m x n` elements lie inside C:
/// `C = act(alpha * acc + beta * C + bias)`.
///
/// # Safety
/// `c` addresses a C for which `(i0 + i, j0 + j)`, `i < m <= MR`, `j < n <= NR`, are in
/// bounds, written by no other thread now.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn update<T: Element, S: Simd<T>, const MR: usize, const NV: usize>(
    s: S,
    acc: &[[S::V; NV]; MR],
    c: CPtr<T>,
    i0: usize,
    j0: usize,
    m: usize,
    n: usize,
    upd: &Update<'_, T>,
) {
    let lanes = S::LANES;
    if m == MR && n == NV * lanes && c.cs == 1 {
        // SAFETY: a full tile with unit-stride rows (the caller's contract).
        unsafe {
            // Without the long activations the loop body is small enough for the compiler
            // to unroll, so the tile stays in registers (with them inlined the loop is not
            // unrolled and reads the tile back from a stack copy, row by row).
            let read_c = upd.beta != T::ZERO;
            let epilogue = !matches!((upd.bias, upd.act), (Bias::None, Activation::Identity));
            match (read_c, epilogue) {
                (false, false) => full_tile::<T, S, MR, NV, false, false>(s, acc, c, i0, j0, upd),
                (true, false) => full_tile::<T, S, MR, NV, true, false>(s, acc, c, i0, j0, upd),
                (false, true) => full_tile::<T, S, MR, NV, false, true>(s, acc, c, i0, j0, upd),
                (true, true) => full_tile::<T, S, MR, NV, true, true>(s, acc, c, i0, j0, upd),
            }
            if !matches!(upd.act, Activation::Identity | Activation::Relu) {
                // The long activations: over the stored tile, still in L1, in a loop of their
                // own.
                activate_rows::<T, S, MR, NV>(s, c, i0, j0, upd.act);
            }
        }
    } else {
        // Edge tile or strided C: go through a stack buffer, one row of vectors at a time.
        let alpha = s.splat(upd.alpha);
        let beta = s.splat(upd.beta);
        let read_c = upd.beta != T::ZERO;
        let mut buf = [T::ZERO; MAX_LANES];
        for (i, row) in acc.iter().enumerate().take(m) {
            for (j, &v) in row.iter().enumerate() {
                let cols = (n.saturating_sub(j * lanes)).min(lanes);
                if cols == 0 {
                    break;
                }
                let col0 = j0 + j * lanes;
                let cptr = |jj: usize| (i0 + i) * c.rs + (col0 + jj) * c.cs;
                let mut v = s.mul(alpha, v);
                if read_c {
                    for (jj, x) in buf.iter_mut().enumerate().take(cols) {
                        // SAFETY: (i0+i, col0+jj) is inside C: i < m, j*lanes + jj < n.
                        *x = unsafe { *c.ptr.add(cptr(jj)) };
                    }
                    v = s.mul_add(beta, s.load_partial(&buf[..cols], T::ZERO), v);
                }
                match upd.bias {
                    Bias::None => {}
                    Bias::PerColumn(bias) => {
                        v = s.add(v, s.load_partial(&bias[col0..col0 + cols], T::ZERO))
                    }
                    Bias::PerRow(bias) => v = s.add(v, s.splat(bias[i0 + i])),
                }
                v = activate(s, upd.act, v);
                s.store_partial(&mut buf[..cols], v);
                for (jj, &x) in buf.iter().enumerate().take(cols) {
                    // SAFETY: as above.
                    unsafe { *c.ptr.add(cptr(jj)) = x };
                }
            }
        }
    }
}
