// SPDX-License-Identifier: MIT OR Apache-2.0
//! One review's recurrence on two threads, each owning half of the hidden units.
//!
//! Why: each step of a single review reads the whole recurrent matrix, and one core's cache
//! bandwidth bounds that read; a one-direction model's review otherwise leaves the second core
//! idle. Here each thread computes the gate rows of its half of the units, so it reads half the
//! matrix, and after each step the two threads swap their halves of the new state through
//! shared memory. Each half is computed exactly as the whole step computes it (the same 64-row
//! blocks, the same elementwise activations), so the answer is bit for bit one thread's.
//!
//! The halves run as the two sides of `rayon::join`, and the second side may start late or
//! never beside the first (the pool's other thread is busy, or the first side runs it itself
//! after returning). So the first side never waits for it: it starts the whole review alone,
//! and hands the second half of the units over at the first step boundary after the second side
//! has started. A second side that starts after the review is done does nothing.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};

use super::half_precision::BLOCK;
use super::kernels::{Biases, Dims, Inputs, SmallRowWeights, cell_step};
use super::simd::{MulAdd, dispatch};

/// Spins before a waiting side yields its core (two threads on one busy core must still end).
const SPINS_BEFORE_YIELD: u32 = 1 << 14;

/// Whether a review of this shape can be split: each half of the units must be whole 64-row
/// blocks of every gate.
pub(crate) fn splittable(d: &Dims) -> bool {
    d.hidden.is_multiple_of(2 * BLOCK)
}

/// The outputs (steps × H) of one review of `len` steps, on two threads from the step at which
/// the pool's second thread takes up its half. Same arguments as `kernels::forward` for one row,
/// without training. Whether the second thread took part.
pub(crate) fn forward(d: &Dims, len: usize, gx: Inputs, w: SmallRowWeights, b_ih: &[f32], b_hh: &[f32], out: &mut [f32]) -> bool {
    let exchange = Exchange::new(d.hidden);
    let half = d.hidden / 2;
    let (_, second) = rayon::join(
        || run_side(d, len, gx, w, b_ih, b_hh, &exchange, Side::First(&mut *out)),
        || {
            let from = exchange.join()?;
            let mut mine = vec![0f32; d.steps * half];
            run_side(d, len, gx, w, b_ih, b_hh, &exchange, Side::Second { from, out: &mut mine });
            Some((from, mine))
        },
    );
    let Some((from, mine)) = second else { return false };
    merge_second_half(d, len, from, &mine, out);
    true
}

/// The second side's outputs (steps × H/2) from step `from` on into their units of `out`.
fn merge_second_half(d: &Dims, len: usize, from: usize, mine: &[f32], out: &mut [f32]) {
    let half = d.hidden / 2;
    for s in from..len {
        let at = d.time(len, s);
        out[at * d.hidden + half..][..half].copy_from_slice(&mine[at * half..][..half]);
    }
}

/// A side of the join and where its outputs go.
enum Side<'a> {
    /// Starts alone over every unit; its outputs are the whole (steps × H) rows, of which it
    /// writes the first half of the units after the handover.
    First(&'a mut [f32]),
    /// The second half of the units from step `from`; outputs (steps × H/2).
    Second { from: usize, out: &'a mut [f32] },
}

/// `Exchange::handover` before the first side has decided.
const UNDECIDED: usize = usize::MAX;
/// `Exchange::handover` once the first side finished alone.
const FINISHED: usize = usize::MAX - 1;

/// What the two sides share: the state after each step, how far each side has come, and the
/// handover.
struct Exchange {
    /// The state after step s in `states[s % 2]`, as f32 bits: a side writes step s + 1's half
    /// while its partner may still read step s's state.
    states: [Box<[AtomicU32]>; 2],
    /// The LSTM's cell state at the handover.
    cells: Box<[AtomicU32]>,
    /// States each side has published.
    published: [AtomicUsize; 2],
    /// Whether the second side has started and waits for its half.
    second_started: AtomicBool,
    /// The step from which the second side runs its half, or `UNDECIDED`, or `FINISHED`.
    handover: AtomicUsize,
    /// A side panicked: its partner must stop waiting for it and fail too.
    abandoned: AtomicBool,
}

/// Held by a side while it runs: ends the first side's offer of a half and, if the side
/// unwinds, tells its partner to stop waiting.
struct Running<'a> {
    exchange: &'a Exchange,
    first: bool,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.exchange.abandoned.store(true, Ordering::Release);
        }
        if self.first {
            self.exchange.finish();
        }
    }
}

impl Exchange {
    fn new(hidden: usize) -> Self {
        let zeros = || (0..hidden).map(|_| AtomicU32::new(0)).collect::<Box<[_]>>();
        Exchange {
            states: [zeros(), zeros()],
            cells: zeros(),
            published: [AtomicUsize::new(0), AtomicUsize::new(0)],
            second_started: AtomicBool::new(false),
            handover: AtomicUsize::new(UNDECIDED),
            abandoned: AtomicBool::new(false),
        }
    }

    /// The second side: announces itself and waits for the step to start from (at most one
    /// step of the first side), or None when the review finished without it.
    fn join(&self) -> Option<usize> {
        self.second_started.store(true, Ordering::Release);
        let from = self.wait_until(|| {
            let h = self.handover.load(Ordering::Acquire);
            (h != UNDECIDED).then_some(h)
        });
        (from != FINISHED).then_some(from)
    }

    /// The first side at step `step` of `len`: hands the second half over, publishing the
    /// whole state (and LSTM cell) it starts from, when the second side waits and a step is left.
    fn hand_over(&self, step: usize, len: usize, state: &[f32], cells: &[f32]) -> bool {
        if step == 0 || step >= len || !self.second_started.load(Ordering::Acquire) {
            return false;
        }
        store(&self.states[step % 2], state);
        store(&self.cells, cells);
        self.published[0].store(step, Ordering::Relaxed);
        self.published[1].store(step, Ordering::Relaxed);
        self.handover.store(step, Ordering::Release);
        true
    }

    /// The first side is done, alone or not: a second side that had not been handed a half
    /// stops waiting.
    fn finish(&self) {
        let _ = self.handover.compare_exchange(UNDECIDED, FINISHED, Ordering::AcqRel, Ordering::Acquire);
    }

    /// Publishes side `part`'s units of state `step`.
    fn publish(&self, part: usize, step: usize, units: Range<usize>, values: &[f32]) {
        store(&self.states[step % 2][units], values);
        self.published[part].store(step, Ordering::Release);
    }

    /// Waits for the partner of side `part` to publish state `step`, then reads the whole state.
    fn receive(&self, part: usize, step: usize, state: &mut [f32]) {
        self.wait_until(|| (self.published[1 - part].load(Ordering::Acquire) >= step).then_some(()));
        load(&self.states[step % 2], state);
    }

    fn wait_until<T>(&self, mut ready: impl FnMut() -> Option<T>) -> T {
        let mut spins = 0u32;
        loop {
            if let Some(v) = ready() {
                return v;
            }
            if self.abandoned.load(Ordering::Acquire) {
                panic!("the other half of this review failed");
            }
            spins = spins.wrapping_add(1);
            if spins.is_multiple_of(SPINS_BEFORE_YIELD) {
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
    }
}

fn store(slots: &[AtomicU32], values: &[f32]) {
    for (slot, v) in slots.iter().zip(values) {
        slot.store(v.to_bits(), Ordering::Relaxed);
    }
}

fn load(slots: &[AtomicU32], values: &mut [f32]) {
    for (v, slot) in values.iter_mut().zip(slots) {
        *v = f32::from_bits(slot.load(Ordering::Relaxed));
    }
}

/// The units a side computes, and their gate rows' 64-row blocks and biases, gate-major as the
/// cell step reads them.
struct Span {
    units: Range<usize>,
    blocks: Vec<usize>,
    sum: Vec<f32>,
    input: Vec<f32>,
    recurrent: Vec<f32>,
}

impl Span {
    fn new(d: &Dims, units: Range<usize>, b_ih: &[f32], b_hh: &[f32]) -> Self {
        let gates = d.cell.gates();
        let rows = |g: usize| g * d.hidden + units.start..g * d.hidden + units.end;
        let mine = |v: &[f32]| -> Vec<f32> { (0..gates).flat_map(|g| v[rows(g)].iter().copied()).collect() };
        let (input, recurrent) = (mine(b_ih), mine(b_hh));
        Span {
            blocks: (0..gates).flat_map(|g| rows(g).step_by(BLOCK).map(|r| r / BLOCK)).collect(),
            sum: input.iter().zip(&recurrent).map(|(a, b)| a + b).collect(),
            input,
            recurrent,
            units,
        }
    }

    fn width(&self) -> usize {
        self.units.len()
    }
}

dispatch!(fn run_side = run_side_impl::<MulAdd>(d: &Dims, len: usize, gx: Inputs, w: SmallRowWeights, b_ih: &[f32], b_hh: &[f32], exchange: &Exchange, side: Side));

/// One side's steps. The first runs every unit until it hands the second half over.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn run_side_impl<M: MulAdd>(d: &Dims, len: usize, gx: Inputs, w: SmallRowWeights, b_ih: &[f32], b_hh: &[f32], exchange: &Exchange, side: Side) {
    let (h_n, g_n, gates) = (d.hidden, d.gates(), d.cell.gates());
    let half = h_n / 2;
    let _running = Running { exchange, first: matches!(side, Side::First(_)) };
    // The whole state (what the product reads), this side's units of it and of the LSTM cell.
    let mut state = vec![0f32; h_n];
    let (part, first, mut span, mut h, mut c, out) = match side {
        Side::First(out) => (0, 0, Span::new(d, 0..h_n, b_ih, b_hh), vec![0f32; h_n], vec![0f32; h_n], out),
        Side::Second { from, out } => {
            let mut c = vec![0f32; h_n];
            exchange.receive(1, from, &mut state);
            load(&exchange.cells, &mut c);
            (1, from, Span::new(d, half..h_n, b_ih, b_hh), state[half..].to_vec(), c[half..].to_vec(), out)
        }
    };
    let mut split = part == 1;
    let (mut pre, mut x) = (vec![0f32; g_n], vec![0f32; g_n]);
    let (mut widened, mut integers) = (vec![0f32; g_n], Vec::new());
    for s in first..len {
        if !split && exchange.hand_over(s, len, &state, &c) {
            split = true;
            span = Span::new(d, 0..half, b_ih, b_hh);
            h.truncate(half);
            c.truncate(half);
        }
        let width = span.width();
        let (pre, x) = (&mut pre[..gates * width], &mut x[..gates * width]);
        if s > 0 {
            w.block_products(&state, &mut integers, &span.blocks, pre);
        }
        let at = d.time(len, s);
        let row = gx.row(at, g_n, &mut widened);
        for g in 0..gates {
            x[g * width..][..width].copy_from_slice(&row[g * h_n + span.units.start..][..width]);
        }
        let out_row = match (part, split) {
            (0, true) => &mut out[at * h_n..][..half],
            (0, false) => &mut out[at * h_n..][..h_n],
            _ => &mut out[at * half..][..half],
        };
        let biases = Biases { sum: &span.sum, input: &span.input, recurrent: &span.recurrent };
        cell_step::<M>(d.cell, width, pre, x, biases, &mut h, &mut c, out_row, None);
        if s + 1 < len {
            if split {
                exchange.publish(part, s + 1, span.units.clone(), &h);
                exchange.receive(part, s + 1, &mut state);
            } else {
                state.copy_from_slice(&h);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::kernels::{self, SmallRowMatrix};
    use crate::nn::{Precision, RecurrentCell};
    use crate::rng::Rng;

    fn random(n: usize, rng: &mut Rng, scale: f32) -> Vec<f32> {
        (0..n).map(|_| (rng.next_f32() * 2.0 - 1.0) * scale).collect()
    }

    /// Every case: both cells, both directions, every precision, with what one thread answers.
    fn for_every_case(mut check: impl FnMut(&Dims, usize, Inputs, SmallRowWeights, &[f32], &[f32], &[f32], &str)) {
        let (h_n, steps, len) = (128, 9, 7);
        let mut rng = Rng::new(21);
        for cell in [RecurrentCell::Lstm, RecurrentCell::Gru] {
            let g_n = cell.gates() * h_n;
            let gx = random(steps * g_n, &mut rng, 1.0);
            let w_hh = random(g_n * h_n, &mut rng, 0.2);
            let (b_ih, b_hh) = (random(g_n, &mut rng, 0.5), random(g_n, &mut rng, 0.5));
            for reverse in [false, true] {
                let d = Dims { cell, hidden: h_n, steps, reverse };
                assert!(splittable(&d));
                for precision in [Precision::F32, Precision::F16, Precision::I16] {
                    let small = SmallRowMatrix::new(&w_hh, h_n, g_n, precision);
                    let mut want = vec![0f32; steps * h_n];
                    kernels::forward(&d, &[len], Inputs::Dense(&gx), &w_hh, Some(small.view()), &b_ih, &b_hh, &mut want, None);
                    check(&d, len, Inputs::Dense(&gx), small.view(), &b_ih, &b_hh, &want, &format!("{cell:?} reverse={reverse} {precision:?}"));
                }
            }
        }
    }

    /// The second side waiting from the start: the halves run from the first step boundary on
    /// and give one thread's bits.
    #[test]
    fn halves_on_two_threads_answer_as_one_thread() {
        for_every_case(|d, len, gx, w, b_ih, b_hh, want, case| {
            let exchange = Exchange::new(d.hidden);
            let (mut got, mut mine) = (vec![0f32; want.len()], vec![0f32; want.len() / 2]);
            let from = std::thread::scope(|s| {
                let second = s.spawn(|| {
                    let from = exchange.join().expect("handed a half");
                    run_side(d, len, gx, w, b_ih, b_hh, &exchange, Side::Second { from, out: &mut mine });
                    from
                });
                while !exchange.second_started.load(Ordering::Acquire) {
                    std::hint::spin_loop();
                }
                run_side(d, len, gx, w, b_ih, b_hh, &exchange, Side::First(&mut got));
                second.join().unwrap()
            });
            assert_eq!(from, 1, "{case}");
            merge_second_half(d, len, from, &mine, &mut got);
            assert_eq!(got, want, "{case}");
        });
    }

    /// Through `rayon::join`: on two threads (the second side joining whenever it starts) and on
    /// one, where the second side runs after the first has finished alone.
    #[test]
    fn a_review_answers_the_same_whenever_the_second_side_starts() {
        let two = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        for_every_case(|d, len, gx, w, b_ih, b_hh, want, case| {
            for pool in [&two, &one] {
                let mut got = vec![0f32; want.len()];
                let split = pool.install(|| forward(d, len, gx, w, b_ih, b_hh, &mut got));
                assert_eq!(got, want, "{case} on {} threads", pool.current_num_threads());
                assert!(pool.current_num_threads() == 2 || !split, "{case}: one thread cannot split");
            }
        });
    }

    /// A side that fails makes its partner fail instead of waiting for it forever.
    #[test]
    fn a_failing_side_stops_its_partner() {
        let exchange = Exchange::new(128);
        let waiting = std::thread::scope(|s| {
            let second = s.spawn(|| exchange.join());
            while !exchange.second_started.load(Ordering::Acquire) {
                std::hint::spin_loop();
            }
            // The first side unwinds before it hands anything over.
            let first = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let _running = Running { exchange: &exchange, first: true };
                panic!("a kernel failed");
            }));
            assert!(first.is_err());
            second.join()
        });
        // The first side's end lets the second go with nothing, abandoned or not.
        assert!(matches!(waiting, Ok(None) | Err(_)));
        let paired = Exchange::new(128);
        paired.abandoned.store(true, Ordering::Release);
        assert!(std::panic::catch_unwind(|| paired.receive(0, 1, &mut [0.0; 128])).is_err(), "a receive from an abandoned partner fails");
    }

    #[test]
    fn a_second_side_after_the_review_does_nothing() {
        let exchange = Exchange::new(128);
        exchange.finish();
        assert_eq!(exchange.join(), None);
    }
}
