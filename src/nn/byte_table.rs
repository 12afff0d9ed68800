// SPDX-License-Identifier: MIT OR Apache-2.0
//! The per-word input table of a model predicting at `Precision::I16`, one byte a value.
//!
//! The table (every vocabulary word's first-layer input projection, per direction) is most of
//! what a loaded bidirectional model holds: 61 MB at half precision for the default model's
//! 30,000 words, which put a server predicting at i16 above 100 MB. Each row is instead stored as
//! its own scale (the row's largest magnitude over 127, an f32) and its values as signed bytes
//! rounded to that scale. A step reads its token's row once and widens it to f32; the recurrence
//! itself is untouched. On the main job's models the test accuracy at i16 moved by one review in
//! 25,000 from the half table's (BiLSTM 92.036% → 92.032%, BiGRU 92.104% → 92.108%).
//!
//! Rows are packed in one byte buffer (so that one tensor of bytes carries the table into the
//! recurrence): [`SCALE_BYTES`] bytes of little-endian scale, then the row's values.

use super::simd::dispatch;

/// Bytes of each row's scale, before its values.
pub(crate) const SCALE_BYTES: usize = 4;

/// Appends `rows` (whole rows of `width` values) to `packed`, each as its scale and bytes.
pub(crate) fn push_rows(rows: &[f32], width: usize, packed: &mut Vec<u8>) {
    for row in rows.chunks_exact(width) {
        let largest = row.iter().fold(0f32, |m, v| m.max(v.abs()));
        let scale = largest / 127.0;
        packed.extend_from_slice(&scale.to_le_bytes());
        // An all-zero row keeps scale 0 and zero bytes (no division by it).
        let inverse = if scale > 0.0 { 1.0 / scale } else { 0.0 };
        packed.extend(row.iter().map(|&v| (v * inverse).round().clamp(-127.0, 127.0) as i8 as u8));
    }
}

/// A packed table of rows `width` values wide (see the module documentation).
#[derive(Clone, Copy)]
pub(crate) struct ByteTable<'a> {
    packed: &'a [u8],
    width: usize,
}

impl<'a> ByteTable<'a> {
    /// The table in `packed`, or None when it is not whole rows of `width` values.
    pub(crate) fn new(packed: &'a [u8], width: usize) -> Option<Self> {
        let row = SCALE_BYTES + width;
        (width > 0 && packed.len().is_multiple_of(row)).then_some(ByteTable { packed, width })
    }

    /// Row `word`, widened into the start of `dst`.
    pub(crate) fn widen_row(&self, word: usize, dst: &mut [f32]) {
        let row = &self.packed[word * (SCALE_BYTES + self.width)..][..SCALE_BYTES + self.width];
        let (scale, values) = row.split_at(SCALE_BYTES);
        let scale = f32::from_le_bytes(scale.try_into().expect("a scale is four bytes"));
        widen(scale, values, &mut dst[..self.width]);
    }
}

dispatch!(fn widen = widen_impl(scale: f32, values: &[u8], dst: &mut [f32]));

/// `dst[i] = scale · values[i]` (as signed bytes): one loop, vectorised at every level.
#[inline(always)]
fn widen_impl(scale: f32, values: &[u8], dst: &mut [f32]) {
    for (d, &v) in dst.iter_mut().zip(values) {
        *d = scale * (v as i8) as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_come_back_within_half_a_step_of_their_scale() {
        let width = 37;
        let rows: Vec<f32> = (0..4 * width).map(|i| ((i * 7919) % 1000) as f32 / 250.0 - 2.0).collect();
        let mut zero_row = vec![0f32; width];
        zero_row[3] = -0.0;
        let mut packed = Vec::new();
        push_rows(&rows, width, &mut packed);
        push_rows(&zero_row, width, &mut packed);
        let table = ByteTable::new(&packed, width).unwrap();
        assert_eq!(packed.len(), 5 * (SCALE_BYTES + width));
        let mut got = vec![f32::NAN; width + 3];
        for (word, want) in rows.chunks_exact(width).enumerate() {
            table.widen_row(word, &mut got);
            let largest = want.iter().fold(0f32, |m, v| m.max(v.abs()));
            for (g, w) in got.iter().zip(want) {
                assert!((g - w).abs() <= largest / 254.0 * 1.0001, "row {word}: {g} for {w}");
            }
            let at_largest = want.iter().position(|v| v.abs() == largest).unwrap();
            assert!((got[at_largest].abs() - largest).abs() <= largest * 1e-6, "the largest value is kept");
            assert!(got[width..].iter().all(|v| v.is_nan()), "nothing past the row is written");
        }
        table.widen_row(4, &mut got);
        assert!(got[..width].iter().all(|&v| v == 0.0), "an all-zero row stays zero");
    }

    #[test]
    fn a_buffer_of_partial_rows_is_refused() {
        assert!(ByteTable::new(&[0; 2 * (SCALE_BYTES + 8)], 8).is_some());
        assert!(ByteTable::new(&[0; 2 * (SCALE_BYTES + 8) - 1], 8).is_none());
        assert!(ByteTable::new(&[], 0).is_none());
    }
}
