//! Instruction-set detection and selection: the one place that decides which SIMD path runs.
//!
//! The CPU is probed once and the answer cached. Two environment variables, read once, steer it:
//!
//! * `NABLA_ISA=scalar|sse2|avx2|avx512|neon|native` forces a path (`native`, the default, takes
//!   the best one the CPU has). A path the CPU lacks falls back to the best one it has...
//! * ...unless `NABLA_ISA_STRICT=1`, which makes that an error: [`configured`] returns it and
//!   every kernel panics with it, so a CI job meant to test AVX-512 cannot pass on scalar code.
//!
//! Tests can also switch paths for one thread with [`with_isa`]; kernels read [`active`] once at
//! their entry and hand the choice to their rayon workers explicitly.

use std::cell::Cell;
use std::fmt;
use std::sync::OnceLock;

/// A SIMD code path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Isa {
    /// Portable scalar Rust, one element at a time (the reference; runs under Miri).
    Scalar,
    /// x86-64 baseline: 128-bit SSE2, no FMA.
    Sse2,
    /// x86-64 AVX2 with FMA: 256-bit.
    Avx2,
    /// x86-64 AVX-512F (with AVX2 and FMA): 512-bit, 32 registers.
    Avx512,
    /// aarch64 NEON. Recognized and detected, but nabla has no NEON kernels yet: it runs the
    /// scalar code (which LLVM vectorizes for NEON where it can) and `matrixmultiply`'s GEMM.
    Neon,
}

impl Isa {
    /// Every path, lowest first.
    pub const ALL: [Isa; 5] = [Isa::Scalar, Isa::Sse2, Isa::Avx2, Isa::Avx512, Isa::Neon];

    /// The lower-case name used by `NABLA_ISA`.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Scalar => "scalar",
            Isa::Sse2 => "sse2",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
            Isa::Neon => "neon",
        }
    }

    /// Parses a `NABLA_ISA` name (case-insensitive).
    pub fn parse(name: &str) -> Option<Isa> {
        Isa::ALL
            .into_iter()
            .find(|isa| isa.name().eq_ignore_ascii_case(name.trim()))
    }

    /// Whether this CPU can run the path.
    pub fn is_supported(self) -> bool {
        match self {
            Isa::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Sse2 => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "aarch64")]
            Isa::Neon => std::arch::is_aarch64_feature_detected!("neon"),
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }
}

impl fmt::Display for Isa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a requested path cannot run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IsaError {
    /// `NABLA_ISA` holds a name that is not a path.
    UnknownName(String),
    /// The path exists but this CPU lacks it (and strict mode, or [`with_isa`], asked for it).
    Unsupported {
        /// The requested path.
        requested: Isa,
        /// The best path this CPU has.
        best: Isa,
    },
}

impl fmt::Display for IsaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IsaError::UnknownName(name) => write!(
                f,
                "NABLA_ISA={name:?} is not a SIMD path (expected scalar, sse2, avx2, avx512, neon or native)"
            ),
            IsaError::Unsupported { requested, best } => write!(
                f,
                "the {requested} path was requested but this CPU lacks it (best available: {best})"
            ),
        }
    }
}

impl std::error::Error for IsaError {}

/// Every path this CPU can run, lowest first (always starts with [`Isa::Scalar`]).
pub fn available() -> Vec<Isa> {
    Isa::ALL.into_iter().filter(|i| i.is_supported()).collect()
}

/// The paths a test suite should cover: the one `NABLA_ISA` forces (so a CI job per path tests
/// exactly that path, and with `NABLA_ISA_STRICT=1` fails if the CPU lacks it), else every path
/// this CPU has.
///
/// # Panics
/// As [`active`], in strict mode when the forced path is unavailable.
pub fn test_paths() -> Vec<Isa> {
    match std::env::var("NABLA_ISA") {
        Ok(v) if !v.trim().is_empty() && !v.trim().eq_ignore_ascii_case("native") => vec![active()],
        _ => available(),
    }
}

/// The best path this CPU has (probed once, cached).
pub fn detected() -> Isa {
    static BEST: OnceLock<Isa> = OnceLock::new();
    *BEST.get_or_init(|| available().into_iter().max().unwrap_or(Isa::Scalar))
}

/// Resolves a `NABLA_ISA` / `NABLA_ISA_STRICT` pair (both optional) to a path.
pub fn resolve(requested: Option<&str>, strict: bool) -> Result<Isa, IsaError> {
    let best = detected();
    let requested = match requested.map(str::trim) {
        None | Some("") => return Ok(best),
        Some(name) if name.eq_ignore_ascii_case("native") => return Ok(best),
        Some(name) => Isa::parse(name).ok_or_else(|| IsaError::UnknownName(name.to_string()))?,
    };
    if requested.is_supported() {
        Ok(requested)
    } else if strict {
        Err(IsaError::Unsupported { requested, best })
    } else {
        // A forced path the CPU lacks degrades to the best path below it.
        Ok(available()
            .into_iter()
            .filter(|i| *i <= requested)
            .max()
            .unwrap_or(Isa::Scalar))
    }
}

/// The process-wide path from the environment (read once, cached).
pub fn configured() -> Result<Isa, IsaError> {
    static CONFIGURED: OnceLock<Result<Isa, IsaError>> = OnceLock::new();
    CONFIGURED
        .get_or_init(|| {
            let requested = std::env::var("NABLA_ISA").ok();
            let strict = std::env::var("NABLA_ISA_STRICT").is_ok_and(|v| v != "0" && !v.is_empty());
            resolve(requested.as_deref(), strict)
        })
        .clone()
}

thread_local! {
    static OVERRIDE: Cell<Option<Isa>> = const { Cell::new(None) };
}

/// The path kernels called on this thread use now: a [`with_isa`] override, else [`configured`].
///
/// # Panics
/// In strict mode when the configured path is unavailable, with the [`IsaError`] message: the
/// point of strict mode is that this cannot pass silently.
pub fn active() -> Isa {
    if let Some(isa) = OVERRIDE.with(Cell::get) {
        return isa;
    }
    match configured() {
        Ok(isa) => isa,
        Err(e) => panic!("nabla-kernels: {e}"),
    }
}

/// Runs `f` with kernels on this thread forced onto `isa`, or returns an error if the CPU lacks it.
///
/// Kernels that fan out to rayon carry the choice to their workers.
///
/// ```
/// use nabla_kernels::isa::{self, Isa};
/// let x = [1.0f32, 2.0, 3.0];
/// for path in isa::available() {
///     let s = isa::with_isa(path, || nabla_kernels::sum(&x)).unwrap();
///     assert_eq!(s, 6.0);
/// }
/// ```
pub fn with_isa<R>(isa: Isa, f: impl FnOnce() -> R) -> Result<R, IsaError> {
    if !isa.is_supported() {
        return Err(IsaError::Unsupported {
            requested: isa,
            best: detected(),
        });
    }
    struct Restore(Option<Isa>);
    impl Drop for Restore {
        fn drop(&mut self) {
            OVERRIDE.with(|o| o.set(self.0));
        }
    }
    let _restore = Restore(OVERRIDE.with(|o| o.replace(Some(isa))));
    Ok(f())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for isa in Isa::ALL {
            assert_eq!(Isa::parse(isa.name()), Some(isa));
        }
        assert_eq!(Isa::parse("AVX2"), Some(Isa::Avx2));
        assert_eq!(Isa::parse("mmx"), None);
    }

    #[test]
    fn resolve_rules() {
        assert_eq!(resolve(None, true), Ok(detected()));
        assert_eq!(resolve(Some("native"), true), Ok(detected()));
        assert_eq!(resolve(Some("scalar"), true), Ok(Isa::Scalar));
        assert!(matches!(
            resolve(Some("mmx"), false),
            Err(IsaError::UnknownName(_))
        ));
        for isa in Isa::ALL {
            if isa.is_supported() {
                assert_eq!(resolve(Some(isa.name()), true), Ok(isa));
            } else {
                assert!(matches!(
                    resolve(Some(isa.name()), true),
                    Err(IsaError::Unsupported { requested, .. }) if requested == isa
                ));
                let fallback = resolve(Some(isa.name()), false).unwrap();
                assert!(fallback.is_supported());
            }
        }
    }

    #[test]
    fn with_isa_overrides_and_restores() {
        let before = active();
        with_isa(Isa::Scalar, || assert_eq!(active(), Isa::Scalar)).unwrap();
        assert_eq!(active(), before);
        for isa in Isa::ALL.into_iter().filter(|i| !i.is_supported()) {
            assert!(with_isa(isa, || ()).is_err());
        }
    }
}
