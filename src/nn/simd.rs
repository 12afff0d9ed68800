// SPDX-License-Identifier: MIT OR Apache-2.0
//! Vectorised activation functions and a run-time dispatch to the widest SIMD the CPU offers.
//!
//! The library is compiled for the baseline x86-64 (SSE2), where LLVM vectorises four lanes at a
//! time and `f32::exp`/`tanh` are scalar library calls (a third of the training time before this
//! module). Kernels written with the branch-free functions below and instantiated through
//! `dispatch!` are compiled a second and third time with AVX2+FMA and AVX-512 enabled.

use std::ffi::CStr;

/// How a kernel computes `a·b + c`. Kernels compiled for AVX2 and AVX-512 (`dispatch!`'s
/// `::<MulAdd>` form) fuse it into one instruction, which shortens the activations' polynomials by
/// a third; the baseline multiplies then adds, because there `f32::mul_add` is a library call.
pub trait MulAdd {
    fn mul_add(a: f32, b: f32, c: f32) -> f32;
}

/// One rounding, one instruction (only inside code compiled with FMA).
pub enum Fused {}

/// Two roundings: a multiply, then an add.
pub enum Separate {}

impl MulAdd for Fused {
    #[inline(always)]
    fn mul_add(a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }
}

impl MulAdd for Separate {
    #[inline(always)]
    fn mul_add(a: f32, b: f32, c: f32) -> f32 {
        a * b + c
    }
}

/// e^x for f32 in [-87, 88]: Cody–Waite range reduction and a degree-6 polynomial, about 1 ulp.
/// Inputs outside the range are clamped (e^-87 is below f32's normal range anyway).
#[inline(always)]
pub fn exp_with<M: MulAdd>(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    const ROUND: f32 = 12_582_912.0; // 1.5 * 2^23: adding it rounds to an integer
    const TAYLOR: [f32; 5] = [0.008_333_34, 0.041_666_668, 0.166_666_67, 0.5, 1.0];
    let x = x.clamp(-87.0, 88.0);
    let shifted = M::mul_add(x, LOG2E, ROUND);
    let n = shifted - ROUND;
    let r = M::mul_add(-n, LN2_LO, M::mul_add(-n, LN2_HI, x));
    let p = TAYLOR.iter().fold(0.001_388_89, |p, &c| M::mul_add(p, r, c));
    let p = M::mul_add(p, r, 1.0);
    // 2^n from the integer n held in the low mantissa bits of `shifted`: integer arithmetic on
    // the bits, because a float-to-int cast saturates and keeps LLVM from vectorising the loop.
    let n_bits = shifted.to_bits().wrapping_sub(ROUND.to_bits());
    p * f32::from_bits(n_bits.wrapping_add(127) << 23)
}

#[inline(always)]
pub fn sigmoid_with<M: MulAdd>(x: f32) -> f32 {
    1.0 / (1.0 + exp_with::<M>(-x))
}

#[inline(always)]
pub fn tanh_with<M: MulAdd>(x: f32) -> f32 {
    // tanh(x) = 2σ(2x) − 1; absolute error ~1e-7, which is what a network sees.
    2.0 / (1.0 + exp_with::<M>(-2.0 * x)) - 1.0
}

/// The logistic function outside the dispatched kernels.
#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    sigmoid_with::<Separate>(x)
}

/// Instruction sets in order: a limit keeps every level above it off.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum Level {
    Baseline,
    Avx2,
    Avx512,
}

impl Level {
    /// The name the library reports (`senti_simd_level`, the benchmark, the CLI), NUL-terminated
    /// for the C API.
    pub fn name(self) -> &'static CStr {
        match self {
            Level::Baseline => c"baseline",
            Level::Avx2 => c"avx2",
            Level::Avx512 => c"avx512",
        }
    }

    fn from_name(name: &str) -> Option<Level> {
        [Level::Baseline, Level::Avx2, Level::Avx512].into_iter().find(|l| l.name().to_str().is_ok_and(|n| n.eq_ignore_ascii_case(name.trim())))
    }
}

/// The environment variable that caps the level, so that the AVX2 and baseline kernels can be run
/// (and compared, and timed) on an AVX-512 machine: `baseline`, `avx2` or `avx512`. Read once, at
/// the library's first kernel call; other values are ignored. It caps libsenti's own kernels only:
/// the `gemm` crate's matrix multiplies choose their instruction set by the CPU alone.
pub(crate) const LIMIT_VARIABLE: &str = "SENTI_MAX_SIMD";

/// The level the kernels run at: the widest the CPU offers, capped by [`LIMIT_VARIABLE`].
pub fn level() -> Level {
    static LEVEL: std::sync::OnceLock<Level> = std::sync::OnceLock::new();
    *LEVEL.get_or_init(|| {
        let limit = std::env::var(LIMIT_VARIABLE).ok().and_then(|v| Level::from_name(&v)).unwrap_or(Level::Avx512);
        detected().min(limit)
    })
}

/// The level the `gemm` crate's matrix multiplies run at: its own choice by the CPU, which stops at
/// AVX2 when the library is built without the `gemm-avx512` feature. [`LIMIT_VARIABLE`] does
/// not reach it.
pub fn gemm_level() -> Level {
    #[cfg(target_arch = "x86_64")]
    {
        if cfg!(feature = "gemm-avx512") && std::is_x86_feature_detected!("avx512f") {
            return Level::Avx512;
        }
        if std::is_x86_feature_detected!("fma") {
            return Level::Avx2;
        }
    }
    Level::Baseline
}

/// The widest level this CPU supports.
fn detected() -> Level {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512vl") && std::is_x86_feature_detected!("fma") {
            return Level::Avx512;
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            return Level::Avx2;
        }
    }
    Level::Baseline
}

/// Defines `$name` calling the `#[inline(always)]` function `$imp` compiled for the best
/// available instruction set. Written `$imp::<MulAdd>(…)`, `$imp` takes a [`MulAdd`] type
/// parameter: [`Fused`] at AVX2 and AVX-512, [`Separate`] at the baseline.
macro_rules! dispatch {
    ($vis:vis fn $name:ident = $imp:ident ( $($arg:ident : $ty:ty),* $(,)? ) $(-> $ret:ty)?) => {
        $crate::nn::simd::dispatch!(@levels $vis fn $name = [$imp] [$imp] ( $($arg : $ty),* ) $(-> $ret)?);
    };
    ($vis:vis fn $name:ident = $imp:ident::<MulAdd> ( $($arg:ident : $ty:ty),* $(,)? ) $(-> $ret:ty)?) => {
        $crate::nn::simd::dispatch!(@levels $vis fn $name = [$imp::<$crate::nn::simd::Fused>] [$imp::<$crate::nn::simd::Separate>] ( $($arg : $ty),* ) $(-> $ret)?);
    };
    (@levels $vis:vis fn $name:ident = [$($wide:tt)*] [$($baseline:tt)*] ( $($arg:ident : $ty:ty),* ) $(-> $ret:ty)?) => {
        // Kernels take their operands as many slices.
        #[allow(clippy::too_many_arguments)]
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn avx512($($arg: $ty),*) $(-> $ret)? { $($wide)*($($arg),*) }
                #[target_feature(enable = "avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn avx2($($arg: $ty),*) $(-> $ret)? { $($wide)*($($arg),*) }
                match $crate::nn::simd::level() {
                    // SAFETY: `level()` detected these features on this CPU.
                    $crate::nn::simd::Level::Avx512 => return unsafe { avx512($($arg),*) },
                    $crate::nn::simd::Level::Avx2 => return unsafe { avx2($($arg),*) },
                    $crate::nn::simd::Level::Baseline => {}
                }
            }
            $($baseline)*($($arg),*)
        }
    };
}
pub(crate) use dispatch;

#[cfg(test)]
mod tests {
    use super::*;

    /// The largest errors of `exp` (relative), `sigmoid` and `tanh` (absolute) against the
    /// standard library over [-20, 20].
    fn worst_errors<M: MulAdd>() -> (f32, f32, f32) {
        let mut worst = (0f32, 0f32, 0f32);
        for i in -20_000..=20_000 {
            let x = i as f32 / 1000.0;
            worst.0 = worst.0.max((exp_with::<M>(x) - x.exp()).abs() / x.exp());
            worst.1 = worst.1.max((sigmoid_with::<M>(x) - 1.0 / (1.0 + (-x).exp())).abs());
            worst.2 = worst.2.max((tanh_with::<M>(x) - x.tanh()).abs());
        }
        worst
    }

    #[test]
    fn activations_match_the_standard_library() {
        let (exp, tanh) = (exp_with::<Separate>, tanh_with::<Separate>);
        let worst = worst_errors::<Separate>();
        assert!(worst.0 < 3e-7 && worst.1 < 2e-7 && worst.2 < 3e-7, "{worst:?}");
        assert!(sigmoid(-1000.0) < 1e-30);
        assert_eq!(sigmoid(1000.0), 1.0);
        assert_eq!(tanh(1000.0), 1.0);
        assert_eq!(tanh(-1000.0), -1.0);
        assert!(exp(f32::NAN).is_nan());
    }

    /// The fused form (a library call here, outside a kernel compiled with FMA) is as accurate.
    #[test]
    fn fused_activations_are_as_accurate() {
        let worst = worst_errors::<Fused>();
        assert!(worst.0 < 3e-7 && worst.1 < 2e-7 && worst.2 < 3e-7, "{worst:?}");
        assert_eq!((tanh_with::<Fused>(1000.0), tanh_with::<Fused>(-1000.0), sigmoid_with::<Fused>(1000.0)), (1.0, -1.0, 1.0));
    }
}
