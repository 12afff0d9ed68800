// SPDX-License-Identifier: MIT OR Apache-2.0
//! The mix of a model's two parts, fitted on the validation slice after both are trained.

use crate::math::{log_loss, sigmoid, softmax_loss};
use crate::rng::mix64;

/// Moves `p` along Newton's `step`, halved until the loss goes down (a poor start can
/// overshoot), updating `current`. Returns whether to go on: false when no step lowers the loss
/// or the gain is negligible.
fn newton_step<const N: usize>(p: &mut [f64; N], current: &mut f64, step: &[f64; N], loss: impl Fn(&[f64; N]) -> f64) -> bool {
    let mut t = 1.0;
    while t > 1e-6 {
        let q: [f64; N] = std::array::from_fn(|i| p[i] - t * step[i]);
        let l = loss(&q);
        if l.is_finite() && l <= *current {
            let done = *current - l < 1e-10 * current.max(1.0);
            (*p, *current) = (q, l);
            return !done;
        }
        t *= 0.5;
    }
    false
}

/// Fits `[a, b, c]` of `a·r + b·w + c` by logistic regression (Newton's method on three
/// parameters, with a small ridge so that a separable set stays finite). Where `use_part` is
/// false, that part's coefficient stays 0.
fn fit_binary(recurrent: &[f32], wide: &[f32], labels: &[bool], use_part: [bool; 2]) -> [f32; 3] {
    const RIDGE: f64 = 1e-3;
    let loss = |p: &[f64; 3]| -> f64 {
        let data: f64 = recurrent.iter().zip(wide).zip(labels).map(|((&r, &w), &y)| log_loss(p[0] * r as f64 + p[1] * w as f64 + p[2], y)).sum();
        data + 0.5 * RIDGE * p.iter().map(|v| v * v).sum::<f64>()
    };
    let on = [use_part[0] as u8 as f64, use_part[1] as u8 as f64, 1.0];
    let mut p = on;
    let mut current = loss(&p);
    for _ in 0..50 {
        let mut grad = [0.0f64; 3];
        let mut hess = [[0.0f64; 3]; 3];
        for ((&r, &w), &y) in recurrent.iter().zip(wide).zip(labels) {
            let x = [r as f64, w as f64, 1.0];
            let s = sigmoid(p[0] * x[0] + p[1] * x[1] + p[2]);
            for i in 0..3 {
                grad[i] += (s - y as u8 as f64) * x[i];
                for j in 0..3 {
                    hess[i][j] += s * (1.0 - s) * x[i] * x[j];
                }
            }
        }
        for i in 0..3 {
            grad[i] += RIDGE * p[i];
            hess[i][i] += RIDGE;
        }
        // A part left out keeps coefficient 0: its row and column become the identity.
        for i in 0..2 {
            if on[i] == 0.0 {
                grad[i] = 0.0;
                for j in 0..3 {
                    hess[i][j] = 0.0;
                    hess[j][i] = 0.0;
                }
                hess[i][i] = 1.0;
            }
        }
        let Some(step) = solve3(hess, grad) else { break };
        if !newton_step(&mut p, &mut current, &step, |q| loss(q)) {
            break;
        }
    }
    if p.iter().all(|v| v.is_finite()) { [p[0] as f32, p[1] as f32, p[2] as f32] } else { [on[0] as f32, on[1] as f32, 0.0] }
}

/// Fits `[a, b, 0]` of class logits `a·r_k + b·w_k` by multinomial logistic regression over
/// the rows of `recurrent` and `wide` (`classes` values each): Newton's method on two
/// parameters with a small ridge. Where `use_part` is false, that part's coefficient stays 0.
fn fit_multiclass(recurrent: &[f32], wide: &[f32], labels: &[u32], classes: usize, use_part: [bool; 2]) -> [f32; 3] {
    const RIDGE: f64 = 1e-3;
    let on = [use_part[0] as u8 as f64, use_part[1] as u8 as f64];
    let rows = || recurrent.chunks_exact(classes).zip(wide.chunks_exact(classes)).zip(labels);
    let loss = |p: [f64; 2]| -> f64 {
        let mut z = vec![0f32; classes];
        let data: f64 = rows()
            .map(|((r, w), &y)| {
                for k in 0..classes {
                    z[k] = (p[0] * r[k] as f64 + p[1] * w[k] as f64) as f32;
                }
                softmax_loss(&z, y as usize)
            })
            .sum();
        data + 0.5 * RIDGE * (p[0] * p[0] + p[1] * p[1])
    };
    let mut p = on;
    let mut current = loss(p);
    let mut prob = vec![0f64; classes];
    for _ in 0..50 {
        let (mut g, mut h) = ([0.0f64; 2], [[0.0f64; 2]; 2]);
        for ((r, w), &y) in rows() {
            let max = (0..classes).map(|k| p[0] * r[k] as f64 + p[1] * w[k] as f64).fold(f64::NEG_INFINITY, f64::max);
            let mut sum = 0.0;
            for k in 0..classes {
                prob[k] = (p[0] * r[k] as f64 + p[1] * w[k] as f64 - max).exp();
                sum += prob[k];
            }
            let (mut er, mut ew, mut err, mut erw, mut eww) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for k in 0..classes {
                let q = prob[k] / sum;
                let (rk, wk) = (r[k] as f64, w[k] as f64);
                er += q * rk;
                ew += q * wk;
                err += q * rk * rk;
                erw += q * rk * wk;
                eww += q * wk * wk;
            }
            let y = y as usize;
            g[0] += er - r[y] as f64;
            g[1] += ew - w[y] as f64;
            h[0][0] += err - er * er;
            h[0][1] += erw - er * ew;
            h[1][1] += eww - ew * ew;
        }
        h[1][0] = h[0][1];
        for i in 0..2 {
            g[i] += RIDGE * p[i];
            h[i][i] += RIDGE;
            if on[i] == 0.0 {
                g[i] = 0.0;
                h[i] = [0.0; 2];
                h[0][i] = 0.0;
                h[1][i] = 0.0;
                h[i][i] = 1.0;
            }
        }
        let det = h[0][0] * h[1][1] - h[0][1] * h[1][0];
        if !det.is_finite() || det.abs() < 1e-300 {
            break;
        }
        let step = [(h[1][1] * g[0] - h[0][1] * g[1]) / det, (h[0][0] * g[1] - h[1][0] * g[0]) / det];
        if !newton_step(&mut p, &mut current, &step, |q| loss(*q)) {
            break;
        }
    }
    if p.iter().all(|v| v.is_finite()) { [p[0] as f32, p[1] as f32, 0.0] } else { [on[0] as f32, on[1] as f32, 0.0] }
}

/// Fits the mix on the rows at `rows` (positions into the validation slice).
fn fit_on(recurrent: &[f32], wide: &[f32], labels: &[u32], classes: usize, rows: &[usize], use_part: [bool; 2]) -> [f32; 3] {
    let width = crate::nn::head_outputs(classes);
    let pick = |v: &[f32]| -> Vec<f32> { rows.iter().flat_map(|&i| v[i * width..(i + 1) * width].iter().copied()).collect() };
    let y: Vec<u32> = rows.iter().map(|&i| labels[i]).collect();
    if classes <= 2 {
        let y: Vec<bool> = y.iter().map(|&v| v == 1).collect();
        fit_binary(&pick(recurrent), &pick(wide), &y, use_part)
    } else {
        fit_multiclass(&pick(recurrent), &pick(wide), &y, classes, use_part)
    }
}

/// The held-out loss of `mix` on the rows at `rows`.
fn loss_on(recurrent: &[f32], wide: &[f32], labels: &[u32], classes: usize, rows: &[usize], mix: [f32; 3]) -> f64 {
    let [a, b, c] = mix;
    let width = crate::nn::head_outputs(classes);
    let mut z = vec![0f32; width];
    rows.iter()
        .map(|&i| {
            for k in 0..width {
                z[k] = a * recurrent[i * width + k] + b * wide[i * width + k] + c;
            }
            if classes <= 2 { log_loss(z[0] as f64, labels[i] == 1) } else { softmax_loss(&z, labels[i] as usize) }
        })
        .sum()
}

/// The mix for a model with a wide path, chosen on the validation slice: the candidates are
/// both parts, the wide path alone and the recurrent network alone (each with its scale, and
/// for two classes its offset, fitted), and 5-fold cross-validation on the slice picks the one
/// with the lowest held-out log loss, which is then fitted on the whole slice. A part that adds
/// nothing the other has (a recurrent network that barely learned, say) thus gets weight 0
/// instead of a coefficient fitted to the slice's noise.
///
/// `recurrent` and `wide` hold each validation example's logits (one for two classes, one per
/// class beyond), `labels` the class indices.
pub fn fit_mix(recurrent: &[f32], wide: &[f32], labels: &[u32], classes: usize) -> [f32; 3] {
    const FOLDS: usize = 5;
    let candidates = [[true, true], [false, true], [true, false]];
    let n = labels.len();
    let all: Vec<usize> = (0..n).collect();
    if n < 2 * FOLDS {
        return fit_on(recurrent, wide, labels, classes, &all, [true, true]);
    }
    let mut best = (f64::INFINITY, candidates[0]);
    for use_part in candidates {
        let mut loss = 0.0;
        for k in 0..FOLDS {
            // Folds by a hash of the position, so that no pattern in the slice's order lines up
            // with them.
            let (held, kept): (Vec<usize>, Vec<usize>) = all.iter().partition(|&&i| mix64(i as u64) % FOLDS as u64 == k as u64);
            let mix = fit_on(recurrent, wide, labels, classes, &kept, use_part);
            loss += loss_on(recurrent, wide, labels, classes, &held, mix);
        }
        if loss < best.0 {
            best = (loss, use_part);
        }
    }
    fit_on(recurrent, wide, labels, classes, &all, best.1)
}

fn solve3(a: [[f64; 3]; 3], b: [f64; 3]) -> Option<[f64; 3]> {
    let det = |m: [[f64; 3]; 3]| {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    };
    let d = det(a);
    if d.abs() < 1e-300 || !d.is_finite() {
        return None;
    }
    let mut x = [0.0; 3];
    for (k, xk) in x.iter_mut().enumerate() {
        let mut m = a;
        for i in 0..3 {
            m[i][k] = b[i];
        }
        *xk = det(m) / d;
    }
    Some(x)
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_useless_part_gets_no_weight() {
        let w: Vec<f32> = (0..200).map(|i| if i % 2 == 0 { 2.0 } else { -2.0 }).collect();
        let r: Vec<f32> = (0..200).map(|i| ((i * 7919) % 13) as f32 - 6.0).collect();
        // The wide logit is right 90% of the time (every tenth label flipped), so the fit is finite.
        let y: Vec<u32> = (0..200).map(|i| ((i % 2 == 0) != (i % 10 == 1)) as u32).collect();
        let [a, b, _] = fit_mix(&r, &w, &y, 2);
        assert!(b > 0.5 && b < 5.0 && a == 0.0, "{a} {b}");
    }

    #[test]
    fn three_classes_weigh_the_informative_part() {
        // The wide logits point at the right class 80% of the time, the recurrent ones are noise.
        let (n, k) = (300, 3);
        let y: Vec<u32> = (0..n).map(|i| (i % 3) as u32).collect();
        let mut w = vec![0f32; n * k];
        let mut r = vec![0f32; n * k];
        for i in 0..n {
            let hint = if i % 5 == 0 { (y[i] + 1) % 3 } else { y[i] };
            w[i * k + hint as usize] = 2.0;
            r[i * k + (i * 7919) % 3] = ((i * 31) % 5) as f32 - 2.0;
        }
        let [a, b, c] = fit_mix(&r, &w, &y, 3);
        assert!(b > 0.3 && a.abs() < 0.2 && c == 0.0, "{a} {b} {c}");
    }
}
