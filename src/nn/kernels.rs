//! Plain-Rust kernels for one direction of a recurrent layer over a block of batch rows.
//!
//! Rows are processed in order of decreasing length, so at every step the rows still running
//! form a prefix and the recurrent projection is one matrix multiply over that prefix: padding is
//! never computed and never reaches the state. Gate input projections (`gx`) are computed for all
//! time steps beforehand in one large matmul by the caller.

use super::CellKind;

#[inline]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// `dst (m×n) = lhs (m×k) · rhs` where `rhs` is stored transposed as `rhs_t (n×k)` (alpha = 0), or
/// `dst += ...` when `accumulate`.
pub(crate) fn matmul_nt(m: usize, n: usize, k: usize, dst: &mut [f32], lhs: &[f32], rhs_t: &[f32], accumulate: bool, threads: usize) {
    debug_assert!(dst.len() >= m * n && lhs.len() >= m * k && rhs_t.len() >= n * k);
    if m == 0 || n == 0 {
        return;
    }
    // SAFETY: the asserted lengths cover every element gemm touches with these strides.
    unsafe {
        gemm::gemm(
            m, n, k,
            dst.as_mut_ptr(), 1, n as isize, accumulate,
            lhs.as_ptr(), 1, k as isize,
            rhs_t.as_ptr(), k as isize, 1,
            if accumulate { 1.0 } else { 0.0 }, 1.0,
            false, false, false,
            parallelism(threads),
        )
    }
}

/// `dst (m×n) = lhs (m×k) · rhs (k×n)`, both stored row-major (alpha as in `matmul_nt`).
pub(crate) fn matmul_nn(m: usize, n: usize, k: usize, dst: &mut [f32], lhs: &[f32], rhs: &[f32], accumulate: bool, threads: usize) {
    debug_assert!(dst.len() >= m * n && lhs.len() >= m * k && rhs.len() >= n * k);
    if m == 0 || n == 0 {
        return;
    }
    // SAFETY: as above.
    unsafe {
        gemm::gemm(
            m, n, k,
            dst.as_mut_ptr(), 1, n as isize, accumulate,
            lhs.as_ptr(), 1, k as isize,
            rhs.as_ptr(), 1, n as isize,
            if accumulate { 1.0 } else { 0.0 }, 1.0,
            false, false, false,
            parallelism(threads),
        )
    }
}

/// `dst (m×n) = lhsᵀ · rhs` with `lhs (k×m)` and `rhs (k×n)` row-major: the weight gradient
/// summed over all rows and steps in one multiply.
pub(crate) fn matmul_tn(m: usize, n: usize, k: usize, dst: &mut [f32], lhs: &[f32], rhs: &[f32], threads: usize) {
    debug_assert!(dst.len() >= m * n && lhs.len() >= m * k && rhs.len() >= n * k);
    if m == 0 || n == 0 {
        return;
    }
    // SAFETY: as above.
    unsafe {
        gemm::gemm(
            m, n, k,
            dst.as_mut_ptr(), 1, n as isize, false,
            lhs.as_ptr(), m as isize, 1,
            rhs.as_ptr(), 1, n as isize,
            0.0, 1.0,
            false, false, false,
            parallelism(threads),
        )
    }
}

fn parallelism(threads: usize) -> gemm::Parallelism {
    if threads > 1 { gemm::Parallelism::Rayon(threads) } else { gemm::Parallelism::None }
}

/// Shapes shared by the forward and backward passes of one block.
pub(crate) struct Dims {
    pub cell: CellKind,
    pub hidden: usize,
    pub steps: usize,
    pub reverse: bool,
}

impl Dims {
    pub fn gates(&self) -> usize {
        self.cell.gates() * self.hidden
    }
    /// Floats saved per (row, step) for the backward pass: activated gates plus one extra
    /// vector (the LSTM cell state, or the GRU's recurrent candidate projection).
    pub fn saved(&self) -> usize {
        self.gates() + self.hidden
    }
    fn time(&self, len: usize, s: usize) -> usize {
        if self.reverse { len - 1 - s } else { s }
    }
}

fn order_by_length(lens: &[usize]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..lens.len()).collect();
    order.sort_by(|&a, &b| lens[b].cmp(&lens[a]));
    order
}

fn active_rows(order: &[usize], lens: &[usize], s: usize, mut active: usize) -> usize {
    while active > 0 && lens[order[active - 1]] <= s {
        active -= 1;
    }
    active
}

/// Forward pass over a block of rows. `gx` is (rows, steps, G·H), `out` is (rows, steps, H) and must
/// be zeroed; `saved`, when given, is (rows, steps, saved()).
pub(crate) fn forward(d: &Dims, lens: &[usize], gx: &[f32], w_hh: &[f32], b_hh: &[f32], out: &mut [f32], mut saved: Option<&mut [f32]>) {
    let (h_n, g_n, sv_n, t_n) = (d.hidden, d.gates(), d.saved(), d.steps);
    let n = lens.len();
    let order = order_by_length(lens);
    let max_len = lens.iter().copied().max().unwrap_or(0);
    let mut h = vec![0f32; n * h_n];
    let mut c = vec![0f32; n * h_n];
    let mut gh = vec![0f32; n * g_n];
    let mut active = n;
    for s in 0..max_len {
        active = active_rows(&order, lens, s, active);
        if s == 0 {
            gh[..active * g_n].fill(0.0);
        } else {
            matmul_nt(active, g_n, h_n, &mut gh, &h, w_hh, false, 1);
        }
        for p in 0..active {
            let b = order[p];
            let t = d.time(lens[b], s);
            let at = b * t_n + t;
            let x = &gx[at * g_n..][..g_n];
            let g = &gh[p * g_n..][..g_n];
            let hp = &mut h[p * h_n..][..h_n];
            let o_row = &mut out[at * h_n..][..h_n];
            let sv = saved.as_deref_mut().map(|sv| &mut sv[at * sv_n..][..sv_n]);
            match d.cell {
                CellKind::Lstm => {
                    let cp = &mut c[p * h_n..][..h_n];
                    lstm_step(h_n, x, g, b_hh, hp, cp, o_row, sv);
                }
                CellKind::Gru => gru_step(h_n, x, g, b_hh, hp, o_row, sv),
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
#[inline]
fn lstm_step(h_n: usize, x: &[f32], g: &[f32], bias: &[f32], h: &mut [f32], c: &mut [f32], out: &mut [f32], sv: Option<&mut [f32]>) {
    let pre = |k: usize, j: usize| x[k * h_n + j] + g[k * h_n + j] + bias[k * h_n + j];
    match sv {
        Some(sv) => {
            for j in 0..h_n {
                let (i, f, gg, o) = (sigmoid(pre(0, j)), sigmoid(pre(1, j)), pre(2, j).tanh(), sigmoid(pre(3, j)));
                let cn = f * c[j] + i * gg;
                let hn = o * cn.tanh();
                c[j] = cn;
                h[j] = hn;
                out[j] = hn;
                sv[j] = i;
                sv[h_n + j] = f;
                sv[2 * h_n + j] = gg;
                sv[3 * h_n + j] = o;
                sv[4 * h_n + j] = cn;
            }
        }
        None => {
            for j in 0..h_n {
                let (i, f, gg, o) = (sigmoid(pre(0, j)), sigmoid(pre(1, j)), pre(2, j).tanh(), sigmoid(pre(3, j)));
                let cn = f * c[j] + i * gg;
                let hn = o * cn.tanh();
                c[j] = cn;
                h[j] = hn;
                out[j] = hn;
            }
        }
    }
}

/// GRU with the reset gate applied after the recurrent projection (Keras' `reset_after=True`,
/// PyTorch's formulation): n = tanh(Wx + r ⊙ (U h + b)).
#[inline]
fn gru_step(h_n: usize, x: &[f32], g: &[f32], bias: &[f32], h: &mut [f32], out: &mut [f32], sv: Option<&mut [f32]>) {
    let mut sv = sv;
    for j in 0..h_n {
        let r = sigmoid(x[j] + g[j] + bias[j]);
        let z = sigmoid(x[h_n + j] + g[h_n + j] + bias[h_n + j]);
        let hn_pre = g[2 * h_n + j] + bias[2 * h_n + j];
        let n = (x[2 * h_n + j] + r * hn_pre).tanh();
        let hn = (1.0 - z) * n + z * h[j];
        h[j] = hn;
        out[j] = hn;
        if let Some(sv) = sv.as_deref_mut() {
            sv[j] = r;
            sv[h_n + j] = z;
            sv[2 * h_n + j] = n;
            sv[3 * h_n + j] = hn_pre;
        }
    }
}

/// Backward pass over a block of rows. Inputs: the forward outputs `out` and `saved`, the gradient
/// of the outputs `d_out`. Writes the gradient of the gate inputs `d_gx` (rows, steps, G·H), the
/// gradient of the recurrent pre-activations `d_gh` (same shape; equal to `d_gx` for the LSTM, so
/// it is left untouched then) and each step's previous hidden state `h_prev` (rows, steps, H), from
/// which the caller forms the weight gradients in one multiply.
#[allow(clippy::too_many_arguments)]
pub(crate) fn backward(
    d: &Dims,
    lens: &[usize],
    w_hh: &[f32],
    out: &[f32],
    saved: &[f32],
    d_out: &[f32],
    d_gx: &mut [f32],
    d_gh: &mut [f32],
    h_prev: &mut [f32],
) {
    let (h_n, g_n, sv_n, t_n) = (d.hidden, d.gates(), d.saved(), d.steps);
    let n = lens.len();
    let order = order_by_length(lens);
    let max_len = lens.iter().copied().max().unwrap_or(0);
    let mut dh_next = vec![0f32; n * h_n];
    let mut dc_next = vec![0f32; n * h_n];
    let mut dgs = vec![0f32; n * g_n];
    let mut active = 0;
    for s in (0..max_len).rev() {
        while active < n && lens[order[active]] > s {
            active += 1;
        }
        for p in 0..active {
            let b = order[p];
            let t = d.time(lens[b], s);
            let at = b * t_n + t;
            let prev_at = (s > 0).then(|| b * t_n + d.time(lens[b], s - 1));
            let sv = &saved[at * sv_n..][..sv_n];
            let dgs_p = &mut dgs[p * g_n..][..g_n];
            let dh_p = &mut dh_next[p * h_n..][..h_n];
            let hp_row = &mut h_prev[at * h_n..][..h_n];
            match prev_at {
                Some(pa) => hp_row.copy_from_slice(&out[pa * h_n..][..h_n]),
                None => hp_row.fill(0.0),
            }
            let dout = &d_out[at * h_n..][..h_n];
            match d.cell {
                CellKind::Lstm => {
                    let dc_p = &mut dc_next[p * h_n..][..h_n];
                    for j in 0..h_n {
                        let (i, f, g, o, c) = (sv[j], sv[h_n + j], sv[2 * h_n + j], sv[3 * h_n + j], sv[4 * h_n + j]);
                        let c_prev = prev_at.map_or(0.0, |pa| saved[pa * sv_n + 4 * h_n + j]);
                        let dh = dout[j] + dh_p[j];
                        let tc = c.tanh();
                        let dc = dh * o * (1.0 - tc * tc) + dc_p[j];
                        dc_p[j] = dc * f;
                        dgs_p[j] = dc * g * i * (1.0 - i);
                        dgs_p[h_n + j] = dc * c_prev * f * (1.0 - f);
                        dgs_p[2 * h_n + j] = dc * i * (1.0 - g * g);
                        dgs_p[3 * h_n + j] = dh * tc * o * (1.0 - o);
                    }
                    d_gx[at * g_n..][..g_n].copy_from_slice(dgs_p);
                }
                CellKind::Gru => {
                    let dgx = &mut d_gx[at * g_n..][..g_n];
                    for j in 0..h_n {
                        let (r, z, nn, hn_pre) = (sv[j], sv[h_n + j], sv[2 * h_n + j], sv[3 * h_n + j]);
                        let hp = hp_row[j];
                        let dh = dout[j] + dh_p[j];
                        let dn = dh * (1.0 - z) * (1.0 - nn * nn);
                        let dz = dh * (hp - nn) * z * (1.0 - z);
                        let dr = dn * hn_pre * r * (1.0 - r);
                        dgx[j] = dr;
                        dgx[h_n + j] = dz;
                        dgx[2 * h_n + j] = dn;
                        dgs_p[j] = dr;
                        dgs_p[h_n + j] = dz;
                        dgs_p[2 * h_n + j] = dn * r;
                        // The direct path h_prev -> h; the recurrent path is added by the multiply below.
                        dh_p[j] = dh * z;
                    }
                    d_gh[at * g_n..][..g_n].copy_from_slice(dgs_p);
                }
            }
        }
        // dh_prev = d(pre-activations) · W_hh, plus the GRU's direct path already in dh_next.
        let accumulate = d.cell == CellKind::Gru;
        matmul_nn(active, h_n, g_n, &mut dh_next, &dgs, w_hh, accumulate, 1);
    }
}
