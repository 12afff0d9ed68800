// SPDX-License-Identifier: MIT OR Apache-2.0
//! Half-precision weights for prediction: rounding f32 to IEEE half once, widening back as the
//! kernels read, and the one product that reads halves where it matters — a single review's
//! recurrent step.
//!
//! Unlike the rest of the kernels, the widening here is written with F16C intrinsics per
//! instruction set: stable Rust has no half type that LLVM lowers to `vcvtph2ps`, and the
//! integer form of the widening (about seven instructions a vector) costs more than reading half
//! the bytes saves. Where the CPU (or `SENTI_MAX_SIMD`) gives no fused product, a model keeps
//! its half-rounded recurrent weights as f32 instead ([`fused_product_available`]), so a
//! half-precision model scores the same everywhere and is never slower than f32.

use super::simd::{Level, level};

/// Columns of one block of the single-review layout (`kernels::small_matmul_layout`).
pub(crate) const BLOCK: usize = 64;

/// An f32 rounded to IEEE half precision, with two limits that keep [`half_to_f32`] to a few
/// branch-free integer operations: magnitudes below half's smallest normal (2^-14 ≈ 6.1e-5)
/// become zero (also those just below it that plain rounding would carry up to 2^-14), and
/// magnitudes past its largest finite value (65,504) saturate. A loaded model's
/// weights are finite (the loader refuses NaN and infinities), so no NaN is ever stored. Round
/// to nearest, ties to even.
pub fn f32_to_half(x: f32) -> half::f16 {
    const SMALLEST_NORMAL: f32 = half::f16::MIN_POSITIVE.to_f32_const();
    const LARGEST: u16 = half::f16::MAX.to_bits();
    let bits = x.to_bits();
    let sign = ((bits >> 16) & 0x8000) as u16;
    let magnitude = x.abs();
    if magnitude.is_nan() || magnitude < SMALLEST_NORMAL {
        return half::f16::from_bits(sign);
    }
    if magnitude >= 65_504.0 {
        return half::f16::from_bits(sign | LARGEST);
    }
    // Rebias the exponent (f32's 127 to half's 15) and keep the top 10 mantissa bits.
    let b = magnitude.to_bits();
    let mut h = (b >> 13) - ((127 - 15) << 10);
    let rest = b & 0x1fff;
    if rest > 0x1000 || (rest == 0x1000 && h & 1 == 1) {
        h += 1; // a carry into the exponent is the right result; below 65,504 it never reaches inf
    }
    half::f16::from_bits(sign | h as u16)
}

/// Widens a value made by [`f32_to_half`] exactly. Only zero and normal numbers are handled:
/// subnormal, infinite and NaN halves, which `f32_to_half` never makes, come out wrong.
#[inline(always)]
pub fn half_to_f32(h: half::f16) -> f32 {
    let h = h.to_bits() as u32;
    let magnitude = h & 0x7fff;
    let bits = if magnitude == 0 { 0 } else { (magnitude << 13) + ((127 - 15) << 23) };
    f32::from_bits(bits | ((h & 0x8000) << 16))
}

/// `f32_to_half` then `half_to_f32`: the value a half-precision model computes with.
pub fn round_to_half(x: f32) -> f32 {
    half_to_f32(f32_to_half(x))
}

/// Whether [`block_product`] runs a fused kernel here: AVX2 or AVX-512 kernels and F16C.
pub(crate) fn fused_product_available() -> bool {
    static FUSED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *FUSED.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            level() >= Level::Avx2 && std::is_x86_feature_detected!("f16c")
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    })
}

/// Widens `src` (values made by [`f32_to_half`]) into the start of `dst`: F16C's conversion where
/// the kernels run at AVX2 or above, else the integer form.
pub fn widen_halves(src: &[half::f16], dst: &mut [f32]) {
    let dst = &mut dst[..src.len()];
    #[cfg(target_arch = "x86_64")]
    if fused_product_available() {
        // SAFETY: the CPU has AVX (implied by the AVX2 level) and F16C; `dst` is as long as `src`.
        unsafe { widen_halves_f16c(src, dst) };
        return;
    }
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = half_to_f32(s);
    }
}

/// # Safety
/// The CPU must have AVX and F16C, and `dst` must be exactly as long as `src`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx,f16c")]
unsafe fn widen_halves_f16c(src: &[half::f16], dst: &mut [f32]) {
    use std::arch::x86_64::{__m128i, _mm_loadu_si128, _mm256_cvtph_ps, _mm256_storeu_ps};
    let whole = src.len() / 8 * 8;
    for i in (0..whole).step_by(8) {
        // SAFETY: i + 8 <= len for both slices; the loads and stores are unaligned ones.
        unsafe {
            let halves = _mm_loadu_si128(src.as_ptr().add(i).cast::<__m128i>());
            _mm256_storeu_ps(dst.as_mut_ptr().add(i), _mm256_cvtph_ps(halves));
        }
    }
    for (d, &s) in dst[whole..].iter_mut().zip(&src[whole..]) {
        *d = half_to_f32(s);
    }
}

/// `acc[j] = Σ_k h[k] · block[k · 64 + j]` over one 64-column block of halves, each widened in a
/// register on its way to the multiply-add. Without a fused kernel it widens one by one (correct,
/// and slow: models avoid it through [`fused_product_available`]).
pub(crate) fn block_product(h: &[f32], block: &[half::f16], acc: &mut [f32; BLOCK]) {
    let block = &block[..h.len() * BLOCK];
    #[cfg(target_arch = "x86_64")]
    if fused_product_available() {
        // SAFETY: the CPU has the features each kernel enables (the level was detected, F16C
        // checked), and `block` holds exactly `h.len()` rows of 64.
        match level() {
            Level::Avx512 => return unsafe { block_product_avx512(h, block, acc) },
            _ => return unsafe { block_product_avx2(h, block, acc) },
        }
    }
    acc.fill(0.0);
    for (&hk, row) in h.iter().zip(block.chunks_exact(BLOCK)) {
        for (a, &w) in acc.iter_mut().zip(row) {
            *a += hk * half_to_f32(w);
        }
    }
}

/// # Safety
/// The CPU must have AVX-512F and F16C; `block.len() == h.len() * 64`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma,f16c")]
unsafe fn block_product_avx512(h: &[f32], block: &[half::f16], acc: &mut [f32; BLOCK]) {
    use std::arch::x86_64::*;
    let mut sums = [_mm512_setzero_ps(); BLOCK / 16];
    for (&hk, row) in h.iter().zip(block.chunks_exact(BLOCK)) {
        let hv = _mm512_set1_ps(hk);
        for (i, sum) in sums.iter_mut().enumerate() {
            // SAFETY: the row holds 64 halves, so 16 from 16·i are inside it.
            let halves = unsafe { _mm256_loadu_si256(row.as_ptr().add(16 * i).cast::<__m256i>()) };
            *sum = _mm512_fmadd_ps(hv, _mm512_cvtph_ps(halves), *sum);
        }
    }
    for (i, sum) in sums.iter().enumerate() {
        // SAFETY: acc holds 64 floats, so 16 from 16·i are inside it.
        unsafe { _mm512_storeu_ps(acc.as_mut_ptr().add(16 * i), *sum) };
    }
}

/// # Safety
/// The CPU must have AVX2, FMA and F16C; `block.len() == h.len() * 64`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn block_product_avx2(h: &[f32], block: &[half::f16], acc: &mut [f32; BLOCK]) {
    use std::arch::x86_64::*;
    let mut sums = [_mm256_setzero_ps(); BLOCK / 8];
    for (&hk, row) in h.iter().zip(block.chunks_exact(BLOCK)) {
        let hv = _mm256_set1_ps(hk);
        for (i, sum) in sums.iter_mut().enumerate() {
            // SAFETY: the row holds 64 halves, so 8 from 8·i are inside it.
            let halves = unsafe { _mm_loadu_si128(row.as_ptr().add(8 * i).cast::<__m128i>()) };
            *sum = _mm256_fmadd_ps(hv, _mm256_cvtph_ps(halves), *sum);
        }
    }
    for (i, sum) in sums.iter().enumerate() {
        // SAFETY: acc holds 64 floats, so 8 from 8·i are inside it.
        unsafe { _mm256_storeu_ps(acc.as_mut_ptr().add(8 * i), *sum) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_rounds_like_the_standard_and_widens_exactly() {
        // Every normal half: widening matches the reference conversion, and rounding it back
        // gives the same bits.
        for bits in 0u16..=u16::MAX {
            let reference = half::f16::from_bits(bits);
            let exponent = (bits >> 10) & 0x1f;
            if exponent == 0 || exponent == 0x1f {
                continue;
            }
            assert_eq!(half_to_f32(reference), reference.to_f32(), "{bits:#06x}");
            assert_eq!(f32_to_half(reference.to_f32()).to_bits(), bits, "{bits:#06x}");
        }
        // Rounding to nearest (ties to even) agrees with the reference inside the normal range.
        let mut rng = crate::rng::Rng::new(7);
        for _ in 0..200_000 {
            let x = (rng.next_f32() - 0.5) * 2f32.powi((rng.next_f32() * 30.0) as i32 - 12);
            let want = half::f16::from_f32(x);
            if want.is_normal() && x.abs() >= 6.103_515_6e-5 {
                assert_eq!(f32_to_half(x).to_bits(), want.to_bits(), "{x}");
            }
        }
        // The limits: zero for what is below the smallest normal, saturation above the largest.
        assert_eq!(half_to_f32(f32_to_half(1e-6)), 0.0);
        assert_eq!(half_to_f32(f32_to_half(-3e-5)), 0.0);
        assert_eq!(half_to_f32(f32_to_half(0.0)), 0.0);
        assert_eq!(half_to_f32(f32_to_half(1e9)), 65_504.0);
        assert_eq!(half_to_f32(f32_to_half(-1e9)), -65_504.0);
        assert_eq!(half_to_f32(f32_to_half(65_519.0)), 65_504.0);
        // Every tie between neighbouring normal halves (and a hair either side) rounds as the
        // reference does: to even on the tie.
        for bits in 0x0400u16..0x7bff {
            let (low, high) = (half::f16::from_bits(bits).to_f32() as f64, half::f16::from_bits(bits + 1).to_f32() as f64);
            let tie = ((low + high) / 2.0) as f32;
            for x in [tie, f32::from_bits(tie.to_bits() - 1), f32::from_bits(tie.to_bits() + 1)] {
                assert_eq!(f32_to_half(x).to_bits(), half::f16::from_f32(x).to_bits(), "{x} between {bits:#06x} and the next");
                assert_eq!(f32_to_half(-x).to_bits(), half::f16::from_f32(-x).to_bits(), "{}", -x);
            }
        }
        // The slice form (F16C where the CPU has it) widens exactly as the integer form does,
        // whole vectors and a tail alike.
        let values: Vec<half::f16> = (0..1003).map(|i| f32_to_half((i as f32 - 500.0) * 0.37)).collect();
        let mut wide = vec![f32::NAN; 1010];
        widen_halves(&values, &mut wide);
        assert!(values.iter().zip(&wide).all(|(&h, &w)| w == half_to_f32(h)));
        assert!(wide[1003..].iter().all(|w| w.is_nan()), "wrote past the values");
    }

    /// Each kernel this CPU can run, called directly (whatever level the process chose), and the
    /// dispatching function, against the product over the widened values in f64.
    #[test]
    fn every_block_product_matches_its_rounded_product() {
        type Kernel = Box<dyn Fn(&[f32], &[half::f16], &mut [f32; BLOCK])>;
        let mut kernels: Vec<(&str, Kernel)> = vec![("dispatched", Box::new(block_product))];
        #[cfg(target_arch = "x86_64")]
        {
            let f16c = std::is_x86_feature_detected!("f16c") && std::is_x86_feature_detected!("fma");
            if f16c && std::is_x86_feature_detected!("avx2") {
                // SAFETY: the features were detected just above.
                kernels.push(("avx2", Box::new(|h, b, a| unsafe { block_product_avx2(h, b, a) })));
            }
            if f16c && std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx2") {
                // SAFETY: the features were detected just above.
                kernels.push(("avx512", Box::new(|h, b, a| unsafe { block_product_avx512(h, b, a) })));
            }
        }
        let mut rng = crate::rng::Rng::new(5);
        for rows in [1, 7, 128] {
            let h: Vec<f32> = (0..rows).map(|_| rng.next_f32() - 0.5).collect();
            let block: Vec<half::f16> = (0..rows * BLOCK).map(|_| f32_to_half(rng.next_f32() - 0.5)).collect();
            for (name, kernel) in &kernels {
                let mut got = [f32::NAN; BLOCK];
                kernel(&h, &block, &mut got);
                for j in 0..BLOCK {
                    let want: f64 = (0..rows).map(|k| h[k] as f64 * half::f16::to_f64(block[k * BLOCK + j])).sum();
                    assert!((got[j] as f64 - want).abs() <= 1e-5 * (1.0 + want.abs()), "{name}, rows {rows}, column {j}: {} against {want}", got[j]);
                }
            }
        }
    }
}
