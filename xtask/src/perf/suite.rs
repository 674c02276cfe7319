//! The benchmark suite: a flat list of [`Entry`]s, each a nabla call and a same-run reference.
//!
//! An entry only describes its work and builds its buffers when it runs ([`Entry::make`]), so
//! the DRAM-sized rows never coexist in memory. Later layers (graph, optimizers, the CLI) add
//! rows by pushing more entries with a new [`Group`].

use nabla_kernels::Element;
use nabla_kernels::activation as act;
use nabla_kernels::gemm::{self, MatMut, MatRef};
use std::hint::black_box;
use std::rc::Rc;

/// What kind of row this is: sets the default tolerance of `--check` and the column grouping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// Matrix multiplication, rated against the FMA peak.
    Gemm,
    /// Whole-slice reductions, rated against read bandwidth.
    Reduce,
    /// Elementwise activations `y = f(x)`, rated against copy (read + write) bandwidth.
    Activation,
    /// The softmax family over rows.
    Softmax,
    /// nabla-graph: a training step's forward and backward, a Hessian-vector product.
    Graph,
    /// nabla-optim: whole solves.
    Optim,
}

impl Group {
    /// Lower-case name, as in the JSON.
    pub fn name(self) -> &'static str {
        match self {
            Group::Gemm => "gemm",
            Group::Reduce => "reduce",
            Group::Activation => "activation",
            Group::Softmax => "softmax",
            Group::Graph => "graph",
            Group::Optim => "optim",
        }
    }
}

/// The memory roof a streaming row is rated against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mem {
    /// Reads from L1.
    L1Read,
    /// Reads from L2.
    L2Read,
    /// Reads and writes within L2.
    L2Copy,
    /// Reads from DRAM.
    DramRead,
    /// Reads and writes from/to DRAM.
    DramCopy,
}

/// The work of one call, to turn its time into a rate and a roofline fraction.
#[derive(Clone, Copy, Debug)]
pub enum Work {
    /// Floating-point operations (`2mnk` for GEMM), against the FMA peak of the element type on
    /// the active SIMD path.
    Flops {
        /// Flops per call.
        flops: f64,
        /// `"f32"` or `"f64"`.
        ty: &'static str,
    },
    /// Elements streamed, against a bandwidth.
    Stream {
        /// Elements per call.
        elems: f64,
        /// Bytes read plus bytes written per call (the minimum the operation needs).
        bytes: f64,
        /// The roof.
        mem: Mem,
    },
    /// No roofline applies (a whole optimizer run): the row reports time and the ratio to its
    /// reference only.
    Unrated,
}

/// The two functions a row times.
pub struct Case {
    /// The nabla call.
    pub nabla: Box<dyn FnMut()>,
    /// The reference call.
    pub reference: Box<dyn FnMut()>,
}

/// One row of the suite.
pub struct Entry {
    /// Unique key, `group/type/size` (the key `--check` matches baselines by).
    pub name: String,
    /// Its group.
    pub group: Group,
    /// Whether `--quick` runs it.
    pub quick: bool,
    /// The work per call.
    pub work: Work,
    /// What the reference is.
    pub reference: &'static str,
    /// Builds the buffers and the two calls.
    pub make: Box<dyn Fn() -> Case>,
}

/// Deterministic data in `[-scale, scale)` (xorshift; seed-dependent).
pub fn data<T: Element>(len: usize, seed: u64, scale: f64) -> Vec<T> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            T::from_f64(((x >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * scale)
        })
        .collect()
}

/// GEMM shapes: (name, m, k, n, B transposed, in `--quick`).
const GEMM: &[(&str, usize, usize, usize, bool, bool)] = &[
    ("64", 64, 64, 64, false, true),
    ("128", 128, 128, 128, false, true),
    ("256", 256, 256, 256, false, true),
    ("512", 512, 512, 512, false, true),
    ("1024", 1024, 1024, 1024, false, true),
    ("2048", 2048, 2048, 2048, false, false),
    ("mlp_256x784x512", 256, 784, 512, false, true),
    ("mlp_256x784x512_bt", 256, 784, 512, true, true),
    // `x W` of a batch of 8 through a 4096 x 4096 layer: GEMM's streaming path.
    ("batch8_8x4096x4096", 8, 4096, 4096, false, false),
    // `dY W^T` of a batch of 8 through a 4096 x 4096 layer: GEMM's dot-product path.
    ("batch8_8x4096x4096_bt", 8, 4096, 4096, true, false),
];

fn gemm_entries<T: Element>(out: &mut Vec<Entry>) {
    for &(label, m, k, n, bt, quick) in GEMM {
        out.push(Entry {
            name: format!("gemm/{}/{label}", T::NAME),
            group: Group::Gemm,
            quick,
            work: Work::Flops {
                flops: 2.0 * (m * n * k) as f64,
                ty: T::NAME,
            },
            reference: "matrixmultiply",
            make: Box::new(move || {
                let a: Rc<Vec<T>> = Rc::new(data(m * k, 1, 1.0));
                let b: Rc<Vec<T>> = Rc::new(data(k * n, 2, 1.0));
                let (a2, b2) = (a.clone(), b.clone());
                let mut c = vec![T::ZERO; m * n];
                let mut c_ref = vec![T::ZERO; m * n];
                // B^T: `b` holds an n x k row-major matrix, read as k x n through a transpose.
                let (rsb, csb) = if bt { (1, k) } else { (n, 1) };
                Case {
                    nabla: Box::new(move || {
                        let bv = MatRef::from_strides(&b, k, n, rsb, csb).expect("B view");
                        gemm::gemm(
                            T::ONE,
                            MatRef::row_major(&a, m, k),
                            bv,
                            T::ZERO,
                            MatMut::row_major(&mut c, m, n),
                        );
                        black_box(&mut c);
                    }),
                    reference: Box::new(move || {
                        mm_ref((m, k, n), (&a2, (k, 1)), (&b2, (rsb, csb)), &mut c_ref);
                        black_box(&mut c_ref);
                    }),
                }
            }),
        });
    }
}

/// The fused epilogue `act(A B + bias)` at 512^2 against the plain product in the same run:
/// the ratio column below 1 is the epilogue's cost (the goal: under 3%, ratio above
/// 0.97).
fn epilogue_entries<T: Element>(out: &mut Vec<Entry>) {
    use gemm::{Activation, Epilogue};
    let n = 512;
    for (label, act) in [
        ("identity", Activation::Identity),
        ("relu", Activation::Relu),
        ("sigmoid", Activation::Sigmoid),
        ("tanh", Activation::Tanh),
        ("gelu", Activation::Gelu),
    ] {
        out.push(Entry {
            name: format!("gemm/{}/512_bias_{label}", T::NAME),
            group: Group::Gemm,
            quick: false,
            work: Work::Flops {
                flops: 2.0 * (n * n * n) as f64,
                ty: T::NAME,
            },
            reference: "plain GEMM",
            make: Box::new(move || {
                let a: Rc<Vec<T>> = Rc::new(data(n * n, 1, 1.0));
                let b: Rc<Vec<T>> = Rc::new(data(n * n, 2, 1.0));
                let bias: Vec<T> = data(n, 3, 1.0);
                let (a2, b2) = (a.clone(), b.clone());
                let mut c = vec![T::ZERO; n * n];
                let mut c_ref = vec![T::ZERO; n * n];
                Case {
                    nabla: Box::new(move || {
                        product(n, &a, &b, &mut c, Epilogue::bias_act(&bias, act))
                    }),
                    reference: Box::new(move || product(n, &a2, &b2, &mut c_ref, Epilogue::none())),
                }
            }),
        });
    }
}

/// `C = epilogue(A B)` for square `n x n` row-major matrices.
fn product<T: Element>(n: usize, a: &[T], b: &[T], c: &mut [T], epi: gemm::Epilogue<'_, T>) {
    gemm::try_gemm_with(
        T::ONE,
        MatRef::row_major(a, n, n),
        MatRef::row_major(b, n, n),
        T::ZERO,
        MatMut::row_major(c, n, n),
        epi,
    )
    .expect("shapes agree");
    black_box(c);
}

/// Matrix-vector shapes through GEMM's fast path: (label, rows of A, cols of A, A transposed).
/// Rated as a read of A from L2 (`y = A x` with A row-major, 800 KB, is one pass over A); the
/// rate column is bytes of A per second and `Gelem/s` is multiply-adds per nanosecond (so
/// GFLOP/s is twice it). Reference: matrixmultiply on the same product (`n = 1`).
const GEMV: &[(&str, usize, usize, bool)] = &[
    ("1000x100", 1000, 100, false),
    ("1000x100_t", 1000, 100, true),
];

fn gemv_entries<T: Element>(out: &mut Vec<Entry>) {
    for &(label, r, k, t) in GEMV {
        out.push(Entry {
            name: format!("gemv/{}/{label}", T::NAME),
            group: Group::Gemm,
            quick: true,
            work: Work::Stream {
                elems: (r * k) as f64,
                bytes: (r * k * std::mem::size_of::<T>()) as f64,
                mem: Mem::L2Read,
            },
            reference: "matrixmultiply",
            make: Box::new(move || {
                let a: Rc<Vec<T>> = Rc::new(data(r * k, 1, 1.0));
                let a2 = a.clone();
                // op(A) is m x kk: A itself, or its transpose (a strided view).
                let (m, kk, sa) = if t { (k, r, (1, k)) } else { (r, k, (k, 1)) };
                let x: Rc<Vec<T>> = Rc::new(data(kk, 2, 1.0));
                let x2 = x.clone();
                let mut y = vec![T::ZERO; m];
                let mut y_ref = vec![T::ZERO; m];
                Case {
                    nabla: Box::new(move || {
                        let av = MatRef::from_strides(&a, m, kk, sa.0, sa.1).expect("A view");
                        gemm::gemm(
                            T::ONE,
                            av,
                            MatRef::row_major(&x, kk, 1),
                            T::ZERO,
                            MatMut::row_major(&mut y, m, 1),
                        );
                        black_box(&mut y);
                    }),
                    reference: Box::new(move || {
                        mm_ref((m, kk, 1), (&a2, sa), (&x2, (1, 1)), &mut y_ref);
                        black_box(&mut y_ref);
                    }),
                }
            }),
        });
    }
}

/// Streaming sizes: (label, bytes per array, in `--quick`). L2: 128 KiB per array (the L2 is
/// 1 MiB on the reference machine, 512 KiB on older ones; two arrays fit either). DRAM: 64 MiB
/// per array, twice the L3 of the reference machine.
const STREAM: &[(&str, usize, bool)] = &[("l2", 128 << 10, true), ("dram", 64 << 20, true)];

fn elems<T: Element>(bytes: usize) -> usize {
    bytes / std::mem::size_of::<T>()
}

/// The reductions also run on L1-resident data: 16 KiB per array (the L1 is 48 KiB on the
/// reference machine, 32 KiB on older ones; dot's two arrays fit either), starting on a cache
/// line (`l1`) and 16 bytes past one (`l1_off16`, where a large allocation from glibc starts:
/// every vector load straddles two lines unless the kernel realigns, see `Simd::funnel`).
const L1_STREAMS: [(&str, usize, bool); 2] =
    [("l1", 16 << 10, true), ("l1_off16", 16 << 10, false)];

/// Where a reduction row's input starts: bytes past a cache line, or where the allocator put it
/// (`None`, the L2 and DRAM rows).
fn placement(label: &str) -> Option<usize> {
    match label {
        "l1" => Some(0),
        "l1_off16" => Some(16),
        _ => None,
    }
}

/// The input of a reduction row: `len` values of [`data`], shared by nabla and the reference,
/// placed `Some(offset)` bytes past a cache line or where the allocator put them (`None`). In L1
/// a vector load that straddles two lines costs two: one core, 4096 `f32` aligned -> one
/// element off a line, `sum` 38.4 -> 69.9 ns, `dot` 69.6 -> 130.6 ns (medians of 31 runs,
/// before the reductions realigned their loads; `sum|dot/*/l1_off16` measure that now). An
/// allocation that lands anywhere would make the L1 rows measure the allocator's luck. Every
/// read loop that is a roof starts on a line (`roof_loop`).
#[derive(Clone)]
pub struct Input<T> {
    values: Rc<Vec<T>>,
    start: usize,
    len: usize,
}

impl<T: Element> Input<T> {
    fn new(len: usize, seed: u64, place: Option<usize>) -> Self {
        Input::filled_by(len, place, |n| data(n, seed, 1.0))
    }
}

impl<T> Input<T> {
    /// `len` elements of `fill(n)`, which makes `n >= len` (padding room to reach the place).
    pub fn filled_by(len: usize, place: Option<usize>, fill: impl FnOnce(usize) -> Vec<T>) -> Self {
        let pad = place.map_or(0, |off| (64 + off) / size_of::<T>());
        let values = fill(len + pad);
        let start = place.map_or(0, |off| nabla_benches::roofline::line_start(&values, off));
        Input {
            values: Rc::new(values),
            start,
            len,
        }
    }

    /// The elements.
    pub fn get(&self) -> &[T] {
        &self.values[self.start..self.start + self.len]
    }
}

fn reduce_entries<T: Element>(out: &mut Vec<Entry>, quick_types: bool) {
    for &(label, bytes, quick) in L1_STREAMS.iter().chain(STREAM) {
        let len = elems::<T>(bytes);
        let mem = match label {
            "l1" | "l1_off16" => Mem::L1Read,
            "dram" => Mem::DramRead,
            _ => Mem::L2Read,
        };
        out.push(Entry {
            name: format!("sum/{}/{label}", T::NAME),
            group: Group::Reduce,
            quick: quick && quick_types,
            work: Work::Stream {
                elems: len as f64,
                bytes: bytes as f64,
                mem,
            },
            reference: "scalar loop",
            make: Box::new(move || {
                let x = Input::<T>::new(len, 6, placement(label));
                let x2 = x.clone();
                Case {
                    nabla: Box::new(move || {
                        black_box(nabla_kernels::sum(black_box(x.get())));
                    }),
                    reference: Box::new(move || {
                        black_box(black_box(x2.get()).iter().fold(T::ZERO, |s, &v| s + v));
                    }),
                }
            }),
        });
        out.push(Entry {
            name: format!("dot/{}/{label}", T::NAME),
            group: Group::Reduce,
            quick: quick && quick_types,
            work: Work::Stream {
                elems: len as f64,
                bytes: 2.0 * bytes as f64,
                mem,
            },
            reference: "scalar loop",
            make: Box::new(move || {
                let x = Input::<T>::new(len, 6, placement(label));
                let y = Input::<T>::new(len, 7, placement(label));
                let (x2, y2) = (x.clone(), y.clone());
                Case {
                    nabla: Box::new(move || {
                        black_box(nabla_kernels::dot(black_box(x.get()), y.get()));
                    }),
                    reference: Box::new(move || {
                        black_box(
                            black_box(x2.get())
                                .iter()
                                .zip(y2.get())
                                .fold(T::ZERO, |s, (&u, &v)| s + u * v),
                        );
                    }),
                }
            }),
        });
    }
}

/// A slice activation kernel, the scalar form it is compared with, and whether it is in
/// `--quick`.
type ActPair<T> = (&'static str, fn(&[T], &mut [T]), fn(T) -> T, bool);

/// Scalar references over `std`: `exp`, `1 / (1 + exp(-x))`, `tanh`, GELU in its tanh form
/// (`std` has no `erf`; the tanh form costs about what an `erf` would), and softplus as
/// `max(x, 0) + ln_1p(exp(-|x|))`.
trait StdFns: Element {
    fn exp_(self) -> Self;
    fn tanh_(self) -> Self;
    fn ln_1p_(self) -> Self;
    fn softplus_(self) -> Self {
        let (pos, abs) = if self > Self::ZERO {
            (self, self)
        } else {
            (Self::ZERO, -self)
        };
        pos + (-abs).exp_().ln_1p_()
    }
    fn sigmoid_(self) -> Self {
        Self::ONE / (Self::ONE + (-self).exp_())
    }
    fn gelu_(self) -> Self {
        let half = Self::from_f64(0.5);
        let c = Self::from_f64(0.797_884_560_802_865_4);
        let d = Self::from_f64(0.044_715);
        half * self * (Self::ONE + (c * (self + d * self * self * self)).tanh_())
    }
}
impl StdFns for f32 {
    fn exp_(self) -> f32 {
        self.exp()
    }
    fn tanh_(self) -> f32 {
        self.tanh()
    }
    fn ln_1p_(self) -> f32 {
        self.ln_1p()
    }
}
impl StdFns for f64 {
    fn exp_(self) -> f64 {
        self.exp()
    }
    fn tanh_(self) -> f64 {
        self.tanh()
    }
    fn ln_1p_(self) -> f64 {
        self.ln_1p()
    }
}

fn activation_entries<T: StdFns>(out: &mut Vec<Entry>, quick_types: bool) {
    // softplus (added at stop 22, for the bundling of long chains at DRAM sizes) runs in full
    // runs only, so that `--quick` and its baseline keep their rows.
    let kernels: [ActPair<T>; 5] = [
        ("exp", act::exp::<T>, T::exp_, true),
        ("sigmoid", act::sigmoid::<T>, T::sigmoid_, true),
        ("tanh", act::tanh::<T>, T::tanh_, true),
        ("gelu", act::gelu::<T>, T::gelu_, true),
        ("softplus", act::softplus::<T>, T::softplus_, false),
    ];
    // `gelu` also on inputs over [-40, 40) (`l2_wide`, full runs only): past the largest |x|
    // where its negative side is normal (13.146 in `f32`, 37.616 in `f64`) it must not compute
    // subnormals, which cost Intel cores a microcode assist per vector (7-13 times the time,
    // before `math::gelu` avoided them).
    let wide: &[(&str, usize, bool)] = &[("l2_wide", 128 << 10, false)];
    for &(label, bytes, quick) in STREAM.iter().chain(wide) {
        let len = elems::<T>(bytes);
        let mem = if label == "dram" {
            Mem::DramCopy
        } else {
            Mem::L2Copy
        };
        let range = if label == "l2_wide" { 40.0 } else { 8.0 };
        for (name, kernel, scalar, in_quick) in kernels {
            if label == "l2_wide" && name != "gelu" {
                continue;
            }
            out.push(Entry {
                name: format!("{name}/{}/{label}", T::NAME),
                group: Group::Activation,
                quick: quick && quick_types && in_quick,
                work: Work::Stream {
                    elems: len as f64,
                    bytes: 2.0 * bytes as f64,
                    mem,
                },
                reference: "scalar std loop",
                make: Box::new(move || {
                    // Inputs over [-8, 8): the range where these functions do real work
                    // (`l2_wide`: [-40, 40)).
                    let x: Rc<Vec<T>> = Rc::new(data(len, 8, range));
                    let x2 = x.clone();
                    let mut y = vec![T::ZERO; len];
                    let mut y2 = vec![T::ZERO; len];
                    Case {
                        nabla: Box::new(move || {
                            kernel(black_box(&x[..]), &mut y);
                            black_box(&mut y);
                        }),
                        reference: Box::new(move || {
                            for (o, &v) in y2.iter_mut().zip(black_box(&x2[..])) {
                                *o = scalar(v);
                            }
                            black_box(&mut y2);
                        }),
                    }
                }),
            });
        }
    }
}

/// The kernels without a `std` counterpart whose AVX-512 routes look their polynomials up per
/// lane (`math::gelu_derivative`, `math::erf`), in L2 (inputs over `[-8, 8)`, as the
/// activation rows), against the same kernel on the scalar path: `gelu_backward` reads `x` and
/// `dy` and writes `dx`, `erf` reads `x` and writes `y`. Not in `--quick`.
fn lookup_entries<T: Element>(out: &mut Vec<Entry>) {
    use nabla_kernels::isa::{self, Isa};
    let (label, bytes, _) = STREAM[0];
    let len = elems::<T>(bytes);
    for (name, arrays) in [("gelu_backward", 3.0), ("erf", 2.0)] {
        out.push(Entry {
            name: format!("{name}/{}/{label}", T::NAME),
            group: Group::Activation,
            quick: false,
            work: Work::Stream {
                elems: len as f64,
                bytes: arrays * bytes as f64,
                mem: Mem::L2Copy,
            },
            reference: "its scalar path",
            make: Box::new(move || {
                let x: Vec<T> = data(len, 8, 8.0);
                let dy: Vec<T> = data(len, 10, 1.0);
                let mut y = vec![T::ZERO; len];
                let run = move |y: &mut [T]| {
                    if name == "erf" {
                        act::erf(black_box(&x), y);
                    } else {
                        act::gelu_backward(black_box(&x), &dy, y);
                    }
                };
                let run2 = run.clone();
                let mut y2 = y.clone();
                Case {
                    nabla: Box::new(move || {
                        run(&mut y);
                        black_box(&mut y);
                    }),
                    reference: Box::new(move || {
                        isa::with_isa(Isa::Scalar, || run2(&mut y2)).expect("scalar path");
                        black_box(&mut y2);
                    }),
                }
            }),
        });
    }
}

/// Row length of the softmax rows.
const COLS: usize = 1024;

fn softmax_entries<T: StdFns>(out: &mut Vec<Entry>, quick_types: bool) {
    for &(label, bytes, quick) in STREAM {
        let len = elems::<T>(bytes);
        let rows = len / COLS;
        let dram = label == "dram";
        out.push(Entry {
            name: format!("softmax_rows/{}/{label}", T::NAME),
            group: Group::Softmax,
            quick: quick && quick_types,
            work: Work::Stream {
                elems: len as f64,
                bytes: 2.0 * bytes as f64,
                mem: if dram { Mem::DramCopy } else { Mem::L2Copy },
            },
            reference: "scalar 3-pass loop",
            make: Box::new(move || {
                let x: Rc<Vec<T>> = Rc::new(data(len, 9, 20.0));
                let x2 = x.clone();
                let mut y = vec![T::ZERO; len];
                let mut y2 = vec![T::ZERO; len];
                Case {
                    nabla: Box::new(move || {
                        nabla_kernels::softmax(black_box(&x[..]), rows, COLS, COLS, &mut y);
                        black_box(&mut y);
                    }),
                    reference: Box::new(move || {
                        for (xr, yr) in black_box(&x2[..])
                            .chunks_exact(COLS)
                            .zip(y2.chunks_exact_mut(COLS))
                        {
                            let m = xr
                                .iter()
                                .fold(T::NEG_INFINITY, |a, &v| if v > a { v } else { a });
                            let mut s = T::ZERO;
                            for (o, &v) in yr.iter_mut().zip(xr) {
                                *o = (v - m).exp_();
                                s += *o;
                            }
                            let inv = T::ONE / s;
                            for o in yr.iter_mut() {
                                *o *= inv;
                            }
                        }
                        black_box(&mut y2);
                    }),
                }
            }),
        });
        out.push(Entry {
            name: format!("logsumexp_rows/{}/{label}", T::NAME),
            group: Group::Softmax,
            quick: quick && quick_types,
            work: Work::Stream {
                elems: len as f64,
                bytes: bytes as f64,
                mem: if dram { Mem::DramRead } else { Mem::L2Read },
            },
            reference: "scalar 2-pass loop",
            make: Box::new(move || {
                let x: Rc<Vec<T>> = Rc::new(data(len, 9, 20.0));
                let x2 = x.clone();
                let mut o = vec![T::ZERO; rows];
                let mut o2 = vec![T::ZERO; rows];
                Case {
                    nabla: Box::new(move || {
                        nabla_kernels::logsumexp(black_box(&x[..]), rows, COLS, COLS, &mut o);
                        black_box(&mut o);
                    }),
                    reference: Box::new(move || {
                        for (xr, out) in black_box(&x2[..]).chunks_exact(COLS).zip(o2.iter_mut()) {
                            let m = xr
                                .iter()
                                .fold(T::NEG_INFINITY, |a, &v| if v > a { v } else { a });
                            let s = xr.iter().fold(T::ZERO, |s, &v| s + (v - m).exp_());
                            *out = m + T::from_f64(s.to_f64().ln());
                        }
                        black_box(&mut o2);
                    }),
                }
            }),
        });
    }
}

/// The whole suite, in run order. `--quick` keeps the entries marked `quick`: GEMM up to
/// 1024 and the MLP shapes in both types, streaming rows in `f32` only.
pub fn entries() -> Vec<Entry> {
    let mut v = Vec::new();
    gemm_entries::<f32>(&mut v);
    gemm_entries::<f64>(&mut v);
    epilogue_entries::<f32>(&mut v);
    epilogue_entries::<f64>(&mut v);
    gemv_entries::<f32>(&mut v);
    gemv_entries::<f64>(&mut v);
    reduce_entries::<f32>(&mut v, true);
    reduce_entries::<f64>(&mut v, false);
    activation_entries::<f32>(&mut v, true);
    activation_entries::<f64>(&mut v, false);
    lookup_entries::<f32>(&mut v);
    lookup_entries::<f64>(&mut v);
    softmax_entries::<f32>(&mut v, true);
    softmax_entries::<f64>(&mut v, false);
    graph_entries(&mut v);
    hessian_entries(&mut v);
    scalar_graph_entries(&mut v);
    fused_entries(&mut v);
    optim_entries(&mut v);
    v
}

/// `log(1 + exp(-y w x))`, the elementwise logistic loss of the trainer issue's scale rows.
#[derive(Clone)]
pub struct Logistic;
impl nabla_kernels::fused::MapFn for Logistic {
    const ARITY: usize = 3;
    #[inline(always)]
    fn eval<R: nabla_kernels::fused::Real>(&self, a: &[R]) -> R {
        (-(a[2] * a[0] * a[1])).softplus()
    }
}

/// The trainer issue's `L(w) = sum log(1 + exp(-y w x))` with its gradient in `w` (f32), at
/// `n = 10^7` (quick) and `10^8`, rated against DRAM copy bandwidth with 16 bytes per element
/// (read w, x, y; write the gradient): the fused kernel against a plain scalar loop computing
/// the same value and gradient, and the graph's `map_sum` node (plus `grad`, which returns the
/// node's partials) against the unfused graph composition `(-(y * w * x)).softplus().sum()`
/// and its `grad`. The graph rows run as a training loop would: the partials' buffer of one
/// call is recycled by the next through the tensor pool, whose limit is raised to hold it at
/// 1e8 (400 MB, above the 256 MiB default), as the README advises for such steps.
fn fused_entries(out: &mut Vec<Entry>) {
    use nabla_graph::{Graph, Tensor};
    use nabla_kernels::fused;
    for (label, n, quick) in [("1e7", 10_000_000usize, true), ("1e8", 100_000_000, false)] {
        let work = Work::Stream {
            elems: n as f64,
            bytes: 16.0 * n as f64,
            mem: Mem::DramCopy,
        };
        let inputs = move || {
            let w: Vec<f32> = data(n, 31, 2.0);
            let x: Vec<f32> = data(n, 32, 2.0);
            let y: Vec<f32> = data::<f32>(n, 33, 1.0)
                .into_iter()
                .map(|v| if v < 0.0 { -1.0 } else { 1.0 })
                .collect();
            (Rc::new(w), Rc::new(x), Rc::new(y))
        };
        out.push(Entry {
            name: format!("fused/f32/logistic_grad_{label}"),
            group: Group::Graph,
            quick,
            work,
            reference: "scalar loop",
            make: Box::new(move || {
                let (w, x, y) = inputs();
                let (w2, x2, y2) = (w.clone(), x.clone(), y.clone());
                let mut gw = vec![0.0f32; n];
                let mut gw_ref = vec![0.0f32; n];
                Case {
                    nabla: Box::new(move || {
                        let l = fused::map_sum(
                            &Logistic,
                            &[&w, &x, &y],
                            &mut [Some(&mut gw), None, None],
                        );
                        black_box((l, &mut gw));
                    }),
                    reference: Box::new(move || {
                        let mut l = 0.0f32;
                        for i in 0..n {
                            let z = -y2[i] * w2[i] * x2[i];
                            l += z.max(0.0) + (-z.abs()).exp().ln_1p();
                            gw_ref[i] = -y2[i] * x2[i] / (1.0 + (-z).exp());
                        }
                        black_box((l, &mut gw_ref));
                    }),
                }
            }),
        });
        out.push(Entry {
            name: format!("fused/f32/logistic_graph_{label}"),
            group: Group::Graph,
            quick,
            work,
            reference: "unfused graph ops",
            make: Box::new(move || {
                let needed = 2 * n * size_of::<f32>();
                if nabla_graph::pool::limit() < needed {
                    nabla_graph::pool::set_limit(needed);
                }
                let (w, x, y) = inputs();
                let t = |v: &Rc<Vec<f32>>| Tensor::new(v.to_vec(), &[n]);
                let (w, x, y) = (t(&w), t(&x), t(&y));
                let (w2, x2, y2) = (w.clone(), x.clone(), y.clone());
                Case {
                    nabla: Box::new(move || {
                        let g = Graph::new();
                        let wv = g.var(w.clone());
                        let (xv, yv) = (g.constant(x.clone()), g.constant(y.clone()));
                        let loss = g.map_sum(&Logistic, &[wv, xv, yv]);
                        black_box(g.grad(loss, &[wv]).expect("scalar"));
                    }),
                    reference: Box::new(move || {
                        let g = Graph::new();
                        let wv = g.var(w2.clone());
                        let (xv, yv) = (g.constant(x2.clone()), g.constant(y2.clone()));
                        let loss = (-(yv * wv * xv)).softplus().sum();
                        black_box(g.grad(loss, &[wv]).expect("scalar"));
                    }),
                }
            }),
        });
    }
}

/// The MLP of the trainer issue: 784-512-512-10, ReLU, softmax cross-entropy.
const MLP: [usize; 4] = [784, 512, 512, 10];

/// The forward and backward pass of an MLP training step (f32) at batch 128 and 32, rated
/// against the FMA peak by its GEMM flops: `2 * batch * fan_in * fan_out` per layer forward,
/// as much for `dW = X^T dY`, and again for `dX = dY W^T` except at the first layer (0.41
/// GFLOP at batch 128, as the trainer issue counts). The reference runs the same eight GEMMs
/// with matrixmultiply, so the ratio is nabla's whole step against that GEMM floor.
/// The Hessian-vector product of `f(x) = sum softplus(A x) + ||x||^2 / 2` (A 1000 x 100, f64)
/// is rated against the same flop peak with `8 * 1000 * 100` flops (the four matrix-vector
/// products of forward-over-reverse) and compared with the gradient of the same function (the
/// trainer issue asks for at most 2.5x, a ratio of at least 0.4).
fn graph_entries(out: &mut Vec<Entry>) {
    use nabla_graph::{Graph, Tensor};
    for (batch, quick) in [(128usize, true), (32, false)] {
        // Forward and dW for every layer, dX for all but the first (its input is data).
        let layer = |w: &[usize]| 2.0 * (batch * w[0] * w[1]) as f64;
        let flops: f64 = MLP.windows(2).map(|w| 2.0 * layer(w)).sum::<f64>()
            + MLP.windows(2).skip(1).map(layer).sum::<f64>();
        out.push(Entry {
            name: format!("graph/f32/mlp_step_b{batch}"),
            group: Group::Graph,
            quick,
            work: Work::Flops { flops, ty: "f32" },
            reference: "its 8 GEMMs (matrixmultiply)",
            make: Box::new(move || {
                let x = Tensor::<f32>::new(data(batch * MLP[0], 11, 1.0), &[batch, MLP[0]]);
                let labels: Vec<usize> = (0..batch).map(|i| (i * 7) % MLP[3]).collect();
                let weights: Vec<Tensor<f32>> = MLP
                    .windows(2)
                    .enumerate()
                    .map(|(l, w)| {
                        let scale = (2.0 / w[0] as f64).sqrt();
                        Tensor::new(data(w[0] * w[1], 20 + l as u64, scale), &[w[0], w[1]])
                    })
                    .collect();
                let biases: Vec<Tensor<f32>> =
                    MLP[1..].iter().map(|&n| Tensor::zeros(&[n])).collect();
                let (xr, wr) = (
                    x.to_vec(),
                    weights.iter().map(|w| w.to_vec()).collect::<Vec<_>>(),
                );
                let mut acts: Vec<Vec<f32>> = MLP.iter().map(|&n| vec![0.0; batch * n]).collect();
                let mut grads: Vec<Vec<f32>> =
                    MLP.windows(2).map(|w| vec![0.0; w[0] * w[1]]).collect();
                Case {
                    nabla: Box::new(move || {
                        let g = Graph::new();
                        let mut h = g.constant(x.clone());
                        let params: Vec<_> = weights
                            .iter()
                            .zip(&biases)
                            .map(|(w, b)| (g.var(w.clone()), g.var(b.clone())))
                            .collect();
                        for (l, (w, b)) in params.iter().enumerate() {
                            h = h.matmul(*w) + *b;
                            if l + 1 < params.len() {
                                h = h.relu();
                            }
                        }
                        let loss = h.cross_entropy(&labels);
                        let vars: Vec<_> = params.iter().flat_map(|(w, b)| [*w, *b]).collect();
                        black_box(g.grad(loss, &vars).expect("scalar loss"));
                    }),
                    reference: Box::new(move || {
                        acts[0].copy_from_slice(&xr);
                        for (l, w) in MLP.windows(2).enumerate() {
                            let (a, rest) = acts.split_at_mut(l + 1);
                            mm_ref(
                                (batch, w[0], w[1]),
                                (&a[l], (w[0], 1)),
                                (&wr[l], (w[1], 1)),
                                &mut rest[0],
                            );
                        }
                        for (l, w) in MLP.windows(2).enumerate().rev() {
                            // dW = X^T dY (the activations stand in for dY: same shapes, same work).
                            mm_ref(
                                (w[0], batch, w[1]),
                                (&acts[l], (1, w[0])),
                                (&acts[l + 1], (w[1], 1)),
                                &mut grads[l],
                            );
                            if l == 0 {
                                continue; // the input needs no gradient
                            }
                            // dX = dY W^T.
                            let mut dx = std::mem::take(&mut acts[l]);
                            mm_ref(
                                (batch, w[1], w[0]),
                                (&acts[l + 1], (w[1], 1)),
                                (&wr[l], (1, w[1])),
                                &mut dx,
                            );
                            acts[l] = dx;
                        }
                        black_box(&mut grads);
                    }),
                }
            }),
        });
    }
    let (m, n) = (1000usize, 100usize);
    out.push(Entry {
        name: "graph/f64/hvp_softplus_1000x100".into(),
        group: Group::Graph,
        quick: true,
        work: Work::Flops {
            flops: 8.0 * (m * n) as f64,
            ty: "f64",
        },
        reference: "gradient of the same f",
        make: Box::new(move || {
            let a = Tensor::<f64>::new(data(m * n, 31, 0.1), &[m, n]);
            let a2 = a.clone();
            let x = Tensor::<f64>::new(data(n, 32, 1.0), &[n]);
            let v = Tensor::<f64>::new(data(n, 33, 1.0), &[n]);
            let x2 = x.clone();
            Case {
                nabla: Box::new(move || {
                    let f = nabla_graph::func(|x| softplus_objective(&a, x));
                    black_box(nabla_graph::hvp(f, &x, &v).expect("scalar f"));
                }),
                reference: Box::new(move || {
                    let f = nabla_graph::func(|x| softplus_objective(&a2, x));
                    black_box(nabla_graph::value_and_grad(f, &x2).expect("scalar f"));
                }),
            }
        }),
    });
}

/// The graph's per-operation overhead on scalars (unrated; the ratio is to the same work written
/// by hand, so it is what the tape costs): a chain of 10,000 f64 operations (`* 1.0001`, `+ 0.001`
/// alternating) recorded and differentiated, against a loop that computes the chain and its
/// derivative directly; and the guide's chain-rule example (forward and the four partials)
/// against its hand-derived forward and backward pass (the guide's section 4).
fn scalar_graph_entries(out: &mut Vec<Entry>) {
    use nabla_graph::{Graph, Tensor};
    const N: usize = 10_000;
    out.push(Entry {
        name: "graph/f64/scalar_chain_10k_fwd_bwd".into(),
        group: Group::Graph,
        quick: true,
        work: Work::Unrated,
        reference: "the chain and its derivative by hand",
        make: Box::new(|| Case {
            nabla: Box::new(|| {
                let g = Graph::<f64>::new();
                let x = g.var(Tensor::scalar(black_box(0.5)));
                let mut y = x;
                for i in 0..N {
                    y = if i % 2 == 0 { y * 1.0001 } else { y + 0.001 };
                }
                black_box(g.grad(y, &[x]).expect("scalar output"));
            }),
            reference: Box::new(|| {
                let (mut y, mut dy) = (black_box(0.5f64), 1.0f64);
                for i in 0..N {
                    if i % 2 == 0 {
                        y *= 1.0001;
                        dy *= 1.0001;
                    } else {
                        y += 0.001;
                    }
                }
                black_box((y, dy));
            }),
        }),
    });
    out.push(Entry {
        name: "graph/f64/chain_rule_example_fwd_4grads".into(),
        group: Group::Graph,
        quick: true,
        work: Work::Unrated,
        reference: "the guide's forward and backward by hand",
        make: Box::new(|| Case {
            nabla: Box::new(|| {
                let g = Graph::<f64>::new();
                let [w, x, y, z] =
                    [-1.0, 0.0, -2.0, 1.0].map(|v| g.var(Tensor::scalar(black_box(v))));
                let a = (w + x + y + z).powi(2);
                let b = (w + x - y - z).powi(2);
                let f = ((a + b).powi(2) + (a - b).powi(2)).powi(2);
                black_box(g.grad(f, &[w, x, y, z]).expect("scalar output"));
            }),
            reference: Box::new(|| {
                let [w, x, y, z] = [-1.0f64, 0.0, -2.0, 1.0].map(black_box);
                let (s, d) = (w + x + y + z, w + x - y - z);
                let (a, b) = (s * s, d * d);
                let (u, v) = ((a + b) * (a + b), (a - b) * (a - b));
                let f = (u + v) * (u + v);
                let df = 2.0 * (u + v);
                let (da, db) = (
                    df * (2.0 * (a + b) + 2.0 * (a - b)),
                    df * (2.0 * (a + b) - 2.0 * (a - b)),
                );
                let (ds, dd) = (da * 2.0 * s, db * 2.0 * d);
                black_box((f, ds + dd, ds + dd, ds - dd, ds - dd));
            }),
        }),
    });
}

/// The dense Hessian of the same `f` (A 1000 x 100 in `--quick`, 1000 x 500 in the full run):
/// rated by the flops of the closed form's one GEMM (`2 m n^2`) against the f64 FMA peak (the
/// graph's sweeps compute only the upper triangle, about 56% of that work at n = 500 and 77% at
/// n = 100, so the rate may pass 100%), and
/// compared with the closed form `H = A^T diag(s (1 - s)) A + I` (`s = sigmoid(A x)`) computed
/// with nabla's own GEMV and GEMM (one `2 m n^2` product): the ratio is what the graph's
/// generality costs over hand-written code.
fn hessian_entries(out: &mut Vec<Entry>) {
    use nabla_graph::Tensor;
    for (n, quick) in [(100usize, true), (500, false)] {
        let m = 1000;
        out.push(Entry {
            name: format!("graph/f64/hessian_softplus_{m}x{n}"),
            group: Group::Graph,
            quick,
            work: Work::Flops {
                flops: 2.0 * (m * n * n) as f64,
                ty: "f64",
            },
            reference: "closed form A^T D A + I (nabla GEMM)",
            make: Box::new(move || {
                let a = Tensor::<f64>::new(data(m * n, 31, 0.1), &[m, n]);
                let ad = a.data().to_vec();
                let x = Tensor::<f64>::new(data(n, 32, 1.0), &[n]);
                let xd = x.data().to_vec();
                let mut z = vec![0.0; m];
                let mut wa = vec![0.0; m * n];
                let mut h = vec![0.0; n * n];
                Case {
                    nabla: Box::new(move || {
                        let f = nabla_graph::func(|x| softplus_objective(&a, x));
                        black_box(nabla_graph::hessian(f, &x).expect("scalar f"));
                    }),
                    reference: Box::new(move || {
                        gemm::gemm(
                            1.0,
                            MatRef::row_major(&ad, m, n),
                            MatRef::row_major(&xd, n, 1),
                            0.0,
                            MatMut::row_major(&mut z, m, 1),
                        );
                        for (r, &zr) in z.iter().enumerate() {
                            let s = 1.0 / (1.0 + (-zr).exp());
                            let w = s * (1.0 - s);
                            for (o, &v) in wa[r * n..(r + 1) * n].iter_mut().zip(&ad[r * n..]) {
                                *o = w * v;
                            }
                        }
                        gemm::gemm(
                            1.0,
                            MatRef::row_major(&ad, m, n).t(),
                            MatRef::row_major(&wa, m, n),
                            0.0,
                            MatMut::row_major(&mut h, n, n),
                        );
                        for i in 0..n {
                            h[i * n + i] += 1.0;
                        }
                        black_box(&mut h);
                    }),
                }
            }),
        });
    }
}

/// `f(x) = sum softplus(A x) + ||x||^2 / 2`.
fn softplus_objective<'g>(
    a: &nabla_graph::Tensor<f64>,
    x: nabla_graph::Var<'g, f64>,
) -> nabla_graph::Var<'g, f64> {
    let n = x.shape()[0];
    x.graph()
        .constant(a.clone())
        .matmul(x.reshape(&[n, 1]))
        .softplus()
        .sum()
        + (x * x).sum() * 0.5
}

/// `C = A B` by matrixmultiply (the reference GEMM): `A` is `m x k` and `B` is `k x n`, each a
/// slice with its (row, column) strides; `C` is row-major `m x n`.
fn mm_ref<T: Element>(
    (m, k, n): (usize, usize, usize),
    (a, sa): (&[T], (usize, usize)),
    (b, sb): (&[T], (usize, usize)),
    c: &mut [T],
) {
    let last = |rows: usize, cols: usize, s: (usize, usize)| (rows - 1) * s.0 + (cols - 1) * s.1;
    assert!(m > 0 && k > 0 && n > 0);
    assert!(last(m, k, sa) < a.len() && last(k, n, sb) < b.len() && m * n <= c.len());
    // SAFETY: the asserts bound the largest index each strided view reaches inside its slice,
    // and C is a separate m x n row-major buffer (a `&mut`, so it aliases neither input).
    unsafe {
        T::reference_gemm(
            m,
            k,
            n,
            T::ONE,
            a.as_ptr(),
            sa.0 as isize,
            sa.1 as isize,
            b.as_ptr(),
            sb.0 as isize,
            sb.1 as isize,
            T::ZERO,
            c.as_mut_ptr(),
            n as isize,
            1,
        )
    };
}

/// A Newton-CG solve of extended Rosenbrock with n = 10,000 (Hessian-vector products of the
/// problem's own code), against L-BFGS on the same problem: no roofline applies, the ratio is
/// L-BFGS's time over Newton-CG's.
fn optim_entries(out: &mut Vec<Entry>) {
    use nabla_optim::problems::problem;
    use nabla_optim::{Lbfgs, NewtonCg, Options, minimize};
    out.push(Entry {
        name: "optim/f64/newton_cg_ext_rosenbrock_10000".into(),
        group: Group::Optim,
        quick: true,
        work: Work::Unrated,
        reference: "L-BFGS, same problem",
        make: Box::new(|| {
            let p = Rc::new(problem("ext_rosenbrock_10000").expect("a suite problem"));
            let p2 = p.clone();
            Case {
                nabla: Box::new(move || {
                    let r = minimize(&*p, &mut NewtonCg, &p.x0, &Options::default());
                    assert!(r.converged(), "{}", r.status);
                    black_box(r);
                }),
                reference: Box::new(move || {
                    let r = minimize(&*p2, &mut Lbfgs::default(), &p2.x0, &Options::default());
                    assert!(r.converged(), "{}", r.status);
                    black_box(r);
                }),
            }
        }),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        let e = entries();
        let mut names: Vec<&str> = e.iter().map(|e| e.name.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), e.len());
        assert!(e.iter().any(|e| e.quick) && e.iter().any(|e| !e.quick));
    }

    #[test]
    fn small_cases_run() {
        // Every L2-sized streaming case, the smallest GEMM, the graph and optimizer rows, once
        // each.
        for e in entries().into_iter().filter(|e| {
            e.name.ends_with("/l2")
                || e.name.ends_with("/64")
                || e.name.starts_with("graph/")
                || e.name.starts_with("optim/")
        }) {
            let mut c = (e.make)();
            (c.nabla)();
            (c.reference)();
        }
    }
}
