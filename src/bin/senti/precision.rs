// SPDX-License-Identifier: MIT OR Apache-2.0
//! The `--precision` option of the commands that predict.

/// How the commands that predict store the network's weights (`senti_set_prediction_precision`).
#[derive(clap::Args)]
pub struct PrecisionArg {
    /// The precision the network predicts with: `f32` (the weights as trained), `f16` (the input
    /// table and recurrent weights rounded to half floats: faster single reviews on CPUs with
    /// F16C) or `i16` (recurrent weights as 16-bit integers and the input table as bytes, each
    /// with a scale per row: the fastest single reviews at AVX2 and the least memory).
    /// Probabilities move by about 1e-4.
    #[arg(long, default_value = "f32", value_parser = clap::builder::PossibleValuesParser::new(senti::Precision::names()))]
    precision: String,
}

impl PrecisionArg {
    /// Sets the chosen precision on `model`.
    pub fn apply(&self, model: &senti::Model) -> senti::Result<()> {
        model.set_prediction_precision(senti::Precision::parse(&self.precision)?)
    }
}
