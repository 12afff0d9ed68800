// SPDX-License-Identifier: MIT OR Apache-2.0
//! The precision a loaded model predicts with.

use crate::error::{Error, Result};

/// How a loaded recurrent model stores the weights prediction streams: its first layer's per-word
/// input table and its recurrent matrices. Training, the gradients explanations integrate and the
/// weights in the file are always f32.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Precision {
    /// The weights as trained.
    #[default]
    F32,
    /// Rounded to IEEE half floats (`half_precision::f32_to_half`) and widened to f32 as they are
    /// read: half the bytes a single review's recurrence reads at every step, where reading them
    /// is the limit, and half the memory of the input table. Arithmetic and state stay f32.
    F16,
    /// The recurrent matrices as 16-bit integers with a scale per row, multiplied by the state
    /// rounded to 16-bit integers at every step (`int16_precision`): the same bytes as f16
    /// without widening them, which is what bounds f16 at AVX2. The input table one byte a value
    /// with a scale per row (`byte_table`): half of f16's memory.
    I16,
}

impl Precision {
    /// Every precision, in the order the docs list them.
    pub fn all() -> [Precision; 3] {
        [Precision::F32, Precision::F16, Precision::I16]
    }

    /// The names `parse` accepts, as the C API, the CLI and the bindings spell them.
    pub fn names() -> [&'static str; 3] {
        Precision::all().map(Precision::name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::F16 => "f16",
            Precision::I16 => "i16",
        }
    }

    pub fn parse(name: &str) -> Result<Precision> {
        Precision::all().into_iter().find(|p| p.name() == name).ok_or_else(|| {
            let expected: Vec<String> = Precision::names().iter().map(|n| format!("{n:?}")).collect();
            let (last, rest) = expected.split_last().expect("at least one precision");
            Error::invalid_argument(format!("unknown prediction precision {name:?}: expected {} or {last}", rest.join(", ")))
        })
    }

    /// Bytes one recurrent weight takes (and, before i16's table took bytes, a table value).
    #[deprecated(since = "0.2.0", note = "the table and the recurrent weights differ at i16: use `weight_bytes` or `table_bytes`")]
    pub fn bytes(self) -> usize {
        self.weight_bytes()
    }

    /// Bytes one recurrent weight takes.
    pub fn weight_bytes(self) -> usize {
        match self {
            Precision::F32 => 4,
            Precision::F16 | Precision::I16 => 2,
        }
    }

    /// Bytes one value of the per-word input table takes (besides a row's scale at i16).
    pub fn table_bytes(self) -> usize {
        match self {
            Precision::F32 => 4,
            Precision::F16 => 2,
            Precision::I16 => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_others_are_refused() {
        for p in Precision::all() {
            assert_eq!(Precision::parse(p.name()).unwrap(), p);
        }
        for bad in ["", "F16", "f64", "half", " f32", "int16", "i8"] {
            let e = Precision::parse(bad).unwrap_err();
            assert_eq!(e.kind(), crate::error::ErrorKind::InvalidArgument, "{bad}");
            assert!(e.to_string().contains("expected \"f32\", \"f16\" or \"i16\""), "{e}");
        }
    }
}
