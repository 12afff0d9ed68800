// SPDX-License-Identifier: MIT OR Apache-2.0
//! libsenti: train and serve LSTM/GRU text classifiers (sentiment, topics, any labels), in Rust on
//! Candle, behind a C ABI.
//!
//! The core (`text`, `data`, `nn`, `train`, `model`, `model_file`) knows nothing of C; the `ffi`
//! module converts C arguments, delegates to the core and turns errors into status codes.

pub mod config;
pub mod data;
mod error;
pub mod explain;
pub mod ffi;
mod fsio;
mod math;
pub mod model;
pub mod model_file;
pub mod nn;
mod optim;
pub mod rng;
mod runtime;
pub mod text;
pub mod train;
pub mod wide;

pub use config::TrainParams;
pub use data::{DataSpec, Example, Format, Labels, Split};
pub use error::{Error, ErrorKind, Result};
pub use explain::{Explanation, TokenContribution};
pub use model::{Evaluation, Model, SentimentModel};
pub use nn::Precision;
pub use train::{Control, Phase, Progress, TrainingData, train, train_on};

/// The instruction set the kernels chose for this CPU at run time: "avx512", "avx2" or
/// "baseline". Speed figures belong to the level they were measured at.
pub fn simd_level() -> &'static str {
    nn::simd::level().name().to_str().unwrap_or("?")
}

/// The instruction set of the `gemm` crate's matrix multiplies (batch products, training): it
/// chooses by the CPU alone, up to "avx512" when the library is built with its default
/// `gemm-avx512` feature and up to "avx2" without it.
pub fn gemm_level() -> &'static str {
    nn::simd::gemm_level().name().to_str().unwrap_or("?")
}

/// The library version, also recorded in every model file.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

impl Model {
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<Self> {
        model_file::load(path.as_ref())
    }

    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        model_file::save(self, path.as_ref())
    }
}
