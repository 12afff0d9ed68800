// SPDX-License-Identifier: MIT OR Apache-2.0
//! Embedding -> (bi)LSTM/GRU layers -> pooling over time -> dropout -> dense -> logits: one for
//! two classes, one per class beyond (`head_outputs`). The sigmoid or softmax is applied by the
//! caller (prediction) or folded into the loss (training).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use candle_core::{DType, Device, Tensor, Var};

use super::attention::AttentionPool;
use super::pooling::PoolOp;
use super::transformer::TransformerEncoder;
use super::kernels::{SmallRowMatrix, Strided, StridedMut, gemm};
use super::recurrent::RecurrenceOp;
use super::half_precision::{f32_to_half, round_to_half};
use super::byte_table;
use super::config::NetworkConfig;
use super::{CellKind, Pooling, Precision, Values};
use crate::error::{Error, Result};
use crate::rng::Rng;

/// A batch of encoded reviews, right-padded to the longest one; `lengths` says where each ends.
pub struct Batch {
    pub ids: Tensor,
    pub lengths: Arc<[usize]>,
}

impl Batch {
    pub fn new(seqs: &[&[u32]]) -> Result<Self> {
        let steps = seqs.iter().map(|s| s.len()).max().unwrap_or(0);
        if seqs.is_empty() || steps == 0 || seqs.iter().any(|s| s.is_empty()) {
            return Err(Error::invalid_argument("a batch needs at least one sequence, and no empty ones"));
        }
        let mut ids = vec![crate::text::PAD_ID; seqs.len() * steps];
        for (row, s) in ids.chunks_exact_mut(steps).zip(seqs) {
            row[..s.len()].copy_from_slice(s);
        }
        let lengths: Arc<[usize]> = seqs.iter().map(|s| s.len()).collect();
        Ok(Self { ids: Tensor::from_vec(ids, (seqs.len(), steps), &Device::Cpu)?, lengths })
    }

    pub fn size(&self) -> usize {
        self.lengths.len()
    }
}

pub enum Mode<'a> {
    /// Dropout on, and every op keeps what its backward pass needs.
    Train { rng: &'a mut Rng },
    Infer,
    /// As in inference (no dropout), but differentiable: for gradients with respect to the
    /// inputs (explanations).
    Gradients,
}

impl Mode<'_> {
    fn differentiable(&self) -> bool {
        !matches!(self, Mode::Infer)
    }
}

/// What the first recurrent layer reads.
pub(crate) enum FirstInput {
    /// Each (row, step)'s input projection as a row of the per-word table (one per direction) of
    /// the call's prepared weights.
    Table { ids: Arc<[u32]> },
    /// The embeddings of a batch's distinct words and each (row, step)'s row among them: every
    /// direction projects them into its own table, on its own core when the directions run apart.
    Words { embedded: Tensor, ids: Arc<[u32]> },
    /// Each (row, step)'s embedding, (batch · steps, embedding).
    Embedded(Tensor),
    /// Each (row, step)'s input projection without bias, (batch, steps, G·H), one tensor per
    /// direction: what gradients with respect to the inputs are taken against.
    Projected(Vec<Tensor>),
}

struct Recurrent {
    w_ih: Tensor,
    b_ih: Tensor,
    w_hh: Tensor,
    b_hh: Tensor,
}

pub struct Classifier {
    config: NetworkConfig,
    /// Logits per review: 1 for two classes, else one per class.
    outputs: usize,
    embedding: Tensor,
    /// layers[layer][direction]; empty for a transformer.
    layers: Vec<Vec<Recurrent>>,
    /// For `CellKind::Transformer`: the encoder in place of the recurrent layers.
    encoder: Option<TransformerEncoder>,
    /// For `Pooling::Attention`: its weights.
    attention: Option<AttentionPool>,
    head_w: Tensor,
    head_b: Tensor,
    /// Every weight by its name in the model file, in a fixed order.
    named: Vec<(String, Tensor)>,
    /// For a loaded recurrent model: what prediction reads, at the precision it predicts with.
    /// Replaced whole when the precision changes; a call holds the one it started with.
    prepared: Option<PreparedSlot>,
}

/// The prepared weights a loaded recurrent model predicts with now, and a lock that lets one
/// build run at a time (a switch holds the model's tables once more while it builds).
struct PreparedSlot {
    /// None until the first prediction or precision switch after loading: a model switched before
    /// it predicts (a server configuring i16) never builds f32's tables, and its peak memory
    /// holds one set of tables, not two.
    current: RwLock<Option<Arc<Prepared>>>,
    switching: Mutex<()>,
}

impl PreparedSlot {
    fn now(&self) -> Option<Arc<Prepared>> {
        self.current.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// What a loaded recurrent model derives from its weights for prediction, at one precision.
pub(crate) struct Prepared {
    precision: Precision,
    /// The first layer's input projection of every vocabulary word, per direction
    /// (embedding · W_ihᵀ, vocab × G·H; f32, f16 at half precision, bytes with a scale per row
    /// at i16). Prediction then gathers rows instead of multiplying, which halves its arithmetic.
    /// Absent when it would be too large.
    input_tables: Option<Vec<Tensor>>,
    /// Each direction's W_hh in the blocked layout of `kernels::small_matmul_layout`
    /// (layers[layer][direction]), for fast single-review steps.
    small_row_weights: Vec<Vec<SmallRowMatrix>>,
    /// Each direction's W_hh as the products over many rows read it (layers[layer][direction]):
    /// at f16, its values rounded to half, so that a review scores the same alone and in a
    /// batch; at f32 and i16 (whose products all read the integers) the weights as trained.
    recurrent_weights: Vec<Vec<Tensor>>,
}

/// Largest precomputed input table (all directions together, at the precision it is stored
/// in) a loaded model keeps. At f32 that is one direction over 30,000 words, so the default
/// bidirectional model projects each step's embedding instead; at f16 both directions fit
/// (61 MB; 31 MB at i16), which saves a single review about a fifth of its time.
const MAX_INPUT_TABLE_BYTES: usize = 64 << 20;

/// Vocabulary rows projected at a time when a half or byte table is built, so that the f32
/// rows exist only a block at a time (2 MB for the default model's 512 gate columns).
const TABLE_BLOCK_WORDS: usize = 1024;

impl Prepared {
    fn new(embedding: &Tensor, layers: &[Vec<Recurrent>], precision: Precision) -> Result<Self> {
        let vocab_size = embedding.dims()[0];
        // As Candle's own products do: the threads of the pool the call runs in.
        let table_threads = rayon::current_num_threads();
        let table_bytes: usize = layers.first().map_or(0, |dirs| dirs.iter().map(|w| w.w_ih.dims()[0] * vocab_size * precision.table_bytes()).sum());
        let input_tables = match layers.first() {
            Some(dirs) if table_bytes <= MAX_INPUT_TABLE_BYTES => Some(
                dirs.iter()
                    .map(|w| -> Result<Tensor> {
                        let g_n = w.w_ih.dims2()?.0;
                        Ok(match precision {
                            Precision::F32 => embedding.matmul(&w.w_ih.t()?)?,
                            Precision::F16 => {
                                let mut halves = Vec::with_capacity(vocab_size * g_n);
                                project_by_blocks(embedding, &w.w_ih, table_threads, |rows| halves.extend(rows.iter().map(|&v| f32_to_half(v))))?;
                                Tensor::from_vec(halves, (vocab_size, g_n), &Device::Cpu)?
                            }
                            Precision::I16 => {
                                let mut packed = Vec::with_capacity(vocab_size * (byte_table::SCALE_BYTES + g_n));
                                project_by_blocks(embedding, &w.w_ih, table_threads, |rows| byte_table::push_rows(rows, g_n, &mut packed))?;
                                Tensor::from_vec(packed, (vocab_size, byte_table::SCALE_BYTES + g_n), &Device::Cpu)?
                            }
                        })
                    })
                    .collect::<Result<Vec<_>>>()?,
            ),
            _ => None,
        };
        let (mut small_row_weights, mut recurrent_weights) = (Vec::new(), Vec::new());
        for dirs in layers {
            let (mut small, mut whole) = (Vec::new(), Vec::new());
            for w in dirs {
                let (g_n, h_n) = w.w_hh.dims2()?;
                let values = w.w_hh.flatten_all()?.to_vec1::<f32>()?;
                small.push(SmallRowMatrix::new(&values, h_n, g_n, precision));
                whole.push(match precision {
                    // At i16 every product, of one review or many, reads the integers.
                    Precision::F32 | Precision::I16 => w.w_hh.clone(),
                    Precision::F16 => Tensor::from_vec(values.into_iter().map(round_to_half).collect::<Vec<f32>>(), (g_n, h_n), &Device::Cpu)?,
                });
            }
            small_row_weights.push(small);
            recurrent_weights.push(whole);
        }
        Ok(Self { precision, input_tables, small_row_weights, recurrent_weights })
    }
}

/// Hands `store` the rows of `embedding · w_ihᵀ` (vocab × G·H) [`TABLE_BLOCK_WORDS`] words at a
/// time, each block projected into one reused buffer of f32 rows: no block-sized temporaries are
/// freed for the allocator to keep as resident memory.
fn project_by_blocks(embedding: &Tensor, w_ih: &Tensor, threads: usize, mut store: impl FnMut(&[f32])) -> Result<()> {
    let ((vocab_size, e_n), g_n) = (embedding.dims2()?, w_ih.dims2()?.0);
    let (words, w_ih) = (Values::of(embedding)?, Values::of(w_ih)?);
    let mut rows = vec![0f32; TABLE_BLOCK_WORDS.min(vocab_size) * g_n];
    for start in (0..vocab_size).step_by(TABLE_BLOCK_WORDS) {
        let n = TABLE_BLOCK_WORDS.min(vocab_size - start);
        let block = Strided::rows(&words[start * e_n..(start + n) * e_n], e_n);
        gemm(n, g_n, e_n, StridedMut::rows(&mut rows, g_n), false, block, Strided::rows(&w_ih, e_n).t(), 1.0, threads);
        store(&rows[..n * g_n]);
    }
    Ok(())
}

/// Where weights come from: a seeded initialiser (training) or a model file's tensors.
pub enum Weights<'a> {
    Init { rng: &'a mut Rng, vars: &'a mut Vec<(String, Var)> },
    Load(&'a HashMap<String, Tensor>),
}

impl Weights<'_> {
    fn get(&mut self, name: &str, shape: &[usize], init: Init) -> Result<Tensor> {
        match self {
            Weights::Load(map) => {
                let t = map.get(name).ok_or_else(|| Error::model_file(format!("missing tensor {name:?}")))?;
                if t.dims() != shape {
                    return Err(Error::model_file(format!("tensor {name:?} has shape {:?}, the configuration needs {shape:?}", t.dims())));
                }
                if t.dtype() != DType::F32 {
                    return Err(Error::model_file(format!("tensor {name:?} is {:?}, expected f32", t.dtype())));
                }
                Ok(t.clone())
            }
            Weights::Init { rng, vars } => {
                #[allow(unused_mut)]
                let mut values = init.values(shape, rng);
                #[cfg(test)]
                if name == "head.bias" && test_hooks::POISON.with(|p| p.get()) {
                    values[0] = f32::NAN;
                }
                let var = Var::from_tensor(&Tensor::from_vec(values, shape, &Device::Cpu)?)?;
                let t = var.as_tensor().clone();
                vars.push((name.to_string(), var));
                Ok(t)
            }
        }
    }
}

#[derive(Clone, Copy)]
pub(crate) enum Init {
    Uniform(f32),
    /// Glorot/Xavier uniform for a (fan_out, fan_in) matrix.
    Glorot,
    /// Each (H × H) gate block of the recurrent matrix orthogonal, as Keras does.
    OrthogonalBlocks,
    /// Zeros, except the given gate block set to one (the LSTM forget gate).
    Bias { ones_block: Option<usize>, block: usize },
}

impl Init {
    fn values(self, shape: &[usize], rng: &mut Rng) -> Vec<f32> {
        let n: usize = shape.iter().product();
        match self {
            Init::Uniform(a) => (0..n).map(|_| (rng.next_f32() * 2.0 - 1.0) * a).collect(),
            Init::Glorot => {
                let a = (6.0 / (shape[0] + shape[1]) as f32).sqrt();
                Init::Uniform(a).values(shape, rng)
            }
            Init::OrthogonalBlocks => {
                let h = shape[1];
                (0..shape[0] / h).flat_map(|_| orthogonal(h, rng)).collect()
            }
            Init::Bias { ones_block, block } => {
                (0..n).map(|i| if Some(i / block) == ones_block { 1.0 } else { 0.0 }).collect()
            }
        }
    }
}

/// A random orthogonal n×n matrix (Gram–Schmidt on uniform noise; run once at initialisation).
fn orthogonal(n: usize, rng: &mut Rng) -> Vec<f32> {
    let mut rows: Vec<Vec<f64>> = Vec::with_capacity(n);
    while rows.len() < n {
        let mut v: Vec<f64> = (0..n).map(|_| rng.next_f32() as f64 * 2.0 - 1.0).collect();
        for r in &rows {
            let dot: f64 = v.iter().zip(r).map(|(a, b)| a * b).sum();
            v.iter_mut().zip(r).for_each(|(a, b)| *a -= dot * b);
        }
        let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        if norm > 1e-6 {
            rows.push(v.into_iter().map(|a| a / norm).collect());
        }
    }
    rows.into_iter().flatten().map(|x| x as f32).collect()
}

pub(crate) fn dropout(x: &Tensor, p: f32, rng: &mut Rng) -> Result<Tensor> {
    if p <= 0.0 {
        return Ok(x.clone());
    }
    let scale = 1.0 / (1.0 - p);
    let mask: Vec<f32> = (0..x.elem_count()).map(|_| if rng.next_f32() < p { 0.0 } else { scale }).collect();
    Ok(x.mul(&Tensor::from_vec(mask, x.shape(), x.device())?)?)
}

/// The distinct words at a batch's real steps, in order of first use, and each (row, step)'s
/// index among them (0 at padded steps, which nothing reads).
struct BatchWords {
    words: Vec<u32>,
    local: Arc<[u32]>,
}

impl BatchWords {
    fn new(ids: &[u32], lengths: &[usize], steps: usize, vocab: usize) -> Result<Self> {
        let mut slot = vec![u32::MAX; vocab];
        let mut words = Vec::new();
        let mut local = vec![0u32; ids.len()];
        for (row, &len) in lengths.iter().enumerate() {
            for at in row * steps..row * steps + len {
                let id = ids[at] as usize;
                if id >= vocab {
                    return Err(Error::invalid_argument(format!("token id {id} is outside the vocabulary of {vocab}")));
                }
                if slot[id] == u32::MAX {
                    slot[id] = words.len() as u32;
                    words.push(id as u32);
                }
                local[at] = slot[id];
            }
        }
        Ok(Self { words, local: Arc::from(local) })
    }
}

/// Embedding dropout by word: each distinct word of the batch loses its whole vector with
/// probability `p` (every occurrence alike), the rest are scaled by 1/(1-p) (Gal & Ghahramani,
/// 2016). `e` holds one row per distinct word.
fn word_dropout(e: &Tensor, p: f32, rng: &mut Rng) -> Result<Tensor> {
    if p <= 0.0 {
        return Ok(e.clone());
    }
    let scale = 1.0 / (1.0 - p);
    let rows = e.dims()[0];
    let mask: Vec<f32> = (0..rows).map(|_| if rng.next_f32() < p { 0.0 } else { scale }).collect();
    Ok(e.broadcast_mul(&Tensor::from_vec(mask, (rows, 1), e.device())?)?)
}

impl Classifier {
    pub fn new(config: &NetworkConfig, vocab_size: usize, classes: usize, mut weights: Weights) -> Result<Self> {
        let outputs = super::head_outputs(classes);
        let (e, h) = (config.embedding_dim, config.hidden_size);
        let g = config.cell.recurrent().map_or(0, |cell| cell.gates() * h);
        let mut named = Vec::new();
        let mut get = |name: String, shape: &[usize], init: Init| -> Result<Tensor> {
            let t = weights.get(&name, shape, init)?;
            named.push((name, t.clone()));
            Ok(t)
        };
        let embedding = get("embedding.weight".into(), &[vocab_size, e], Init::Uniform(0.05))?;
        let forget = (config.cell == CellKind::Lstm).then_some(1);
        let encoder = match (config.cell, config.transformer) {
            (CellKind::Transformer, Some(shape)) => Some(TransformerEncoder::new(config, shape, &mut get)?),
            (CellKind::Transformer, None) => return Err(Error::config("a transformer needs its heads and ff_size")),
            _ => None,
        };
        let recurrent_layers = if encoder.is_some() { 0 } else { config.layers };
        let mut layers = Vec::with_capacity(recurrent_layers);
        for l in 0..recurrent_layers {
            let input = if l == 0 { e } else { h * config.directions() };
            let mut dirs = Vec::new();
            for dir in ["fwd", "bwd"].into_iter().take(config.directions()) {
                let p = format!("rnn.{l}.{dir}");
                dirs.push(Recurrent {
                    w_ih: get(format!("{p}.w_ih"), &[g, input], Init::Glorot)?,
                    b_ih: get(format!("{p}.b_ih"), &[g], Init::Bias { ones_block: forget, block: h })?,
                    w_hh: get(format!("{p}.w_hh"), &[g, h], Init::OrthogonalBlocks)?,
                    b_hh: get(format!("{p}.b_hh"), &[g], Init::Bias { ones_block: None, block: h })?,
                });
            }
            layers.push(dirs);
        }
        let attention = match config.pooling {
            Pooling::Attention => {
                let (a, d) = (config.attention_size(), config.hidden_size * config.directions());
                Some(AttentionPool {
                    w: get("pool.attention.w".into(), &[a, d], Init::Glorot)?,
                    b: get("pool.attention.b".into(), &[a], Init::Bias { ones_block: None, block: 1 })?,
                    v: get("pool.attention.v".into(), &[a], Init::Uniform((3.0 / a as f32).sqrt()))?,
                })
            }
            _ => None,
        };
        let head_w = get("head.weight".into(), &[outputs, config.feature_size()], Init::Glorot)?;
        let head_b = get("head.bias".into(), &[outputs], Init::Bias { ones_block: None, block: 1 })?;
        let prepared = match weights {
            Weights::Load(_) if !layers.is_empty() => {
                Some(PreparedSlot { current: RwLock::new(None), switching: Mutex::new(()) })
            }
            _ => None,
        };
        Ok(Self { config: config.clone(), outputs, embedding, layers, encoder, attention, head_w, head_b, named, prepared })
    }

    /// What prediction reads now, for a call to hold across all its forward passes, so that a
    /// precision switched meanwhile never mixes into one call; built at f32 by the first call
    /// that needs it. None for a model being trained, or without recurrent layers.
    pub(crate) fn prepared(&self) -> Result<Option<Arc<Prepared>>> {
        let Some(slot) = &self.prepared else { return Ok(None) };
        if let Some(p) = slot.now() {
            return Ok(Some(p));
        }
        let _one_build_at_a_time = slot.switching.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = slot.now() {
            return Ok(Some(p));
        }
        let built = Arc::new(Prepared::new(&self.embedding, &self.layers, Precision::F32)?);
        *slot.current.write().unwrap_or_else(|e| e.into_inner()) = Some(built.clone());
        Ok(Some(built))
    }

    /// The precision prediction uses (f32 for a model being trained or without recurrent layers).
    pub fn precision(&self) -> Precision {
        self.prepared.as_ref().and_then(PreparedSlot::now).map_or(Precision::F32, |p| p.precision)
    }

    /// Makes later predictions of a loaded recurrent model store their input table and recurrent
    /// weights at `precision`; calls already running finish as they started. Does nothing for a
    /// model being trained, or one without recurrent layers (a transformer keeps f32).
    /// Whether anything was built: false when the model already predicts at `precision` or
    /// has no prepared weights.
    pub fn set_precision(&self, precision: Precision) -> Result<bool> {
        let Some(slot) = &self.prepared else { return Ok(false) };
        let _one_build_at_a_time = slot.switching.lock().unwrap_or_else(|e| e.into_inner());
        if self.precision() == precision {
            return Ok(false);
        }
        // Built outside the read-write lock: predictions go on meanwhile with the old one.
        let next = Arc::new(Prepared::new(&self.embedding, &self.layers, precision)?);
        *slot.current.write().unwrap_or_else(|e| e.into_inner()) = Some(next);
        Ok(true)
    }

    pub fn named_tensors(&self) -> &[(String, Tensor)] {
        &self.named
    }

    pub fn config(&self) -> &NetworkConfig {
        &self.config
    }

    /// Logits per review (1 for two classes).
    pub fn outputs(&self) -> usize {
        self.outputs
    }

    /// Logits, shape (batch, outputs).
    pub fn forward(&self, batch: &Batch, mode: Mode, threads: usize) -> Result<Tensor> {
        let prepared = if mode.differentiable() { None } else { self.prepared()? };
        self.forward_with(batch, mode, threads, prepared)
    }

    /// `forward` reading `prepared` (from `prepared()`; None in the differentiable modes).
    pub(crate) fn forward_with(&self, batch: &Batch, mut mode: Mode, threads: usize, prepared: Option<Arc<Prepared>>) -> Result<Tensor> {
        let (_, t) = batch.ids.dims2()?;
        let ids: Vec<u32> = batch.ids.flatten_all()?.to_vec1::<u32>()?;
        // The first layer reads each step's input projection from a per-word table by id: a
        // loaded model's table over the whole vocabulary, or else one made for this batch's
        // distinct words. A batch of 64 reviews of 200 tokens holds about 4,000 distinct words,
        // so the table costs a third of projecting every step, and the embedding's gradient
        // gathers there.
        let prepared = if mode.differentiable() { None } else { prepared };
        let first = match &prepared {
            Some(p) if p.input_tables.is_some() => FirstInput::Table { ids: Arc::from(ids) },
            _ if self.encoder.is_some() => {
                // Each step's embedding, through the batch's distinct words (word dropout).
                let words = BatchWords::new(&ids, &batch.lengths, t, self.embedding.dims()[0])?;
                let distinct = words.words.len();
                let mut e = self.embedding.index_select(&Tensor::from_vec(words.words, distinct, &Device::Cpu)?, 0)?;
                if let Mode::Train { rng } = &mut mode {
                    e = word_dropout(&e, self.config.embedding_dropout, rng)?;
                }
                let local = Tensor::from_slice(&words.local, words.local.len(), &Device::Cpu)?;
                FirstInput::Embedded(e.index_select(&local, 0)?)
            }
            _ => {
                let words = BatchWords::new(&ids, &batch.lengths, t, self.embedding.dims()[0])?;
                let distinct = words.words.len();
                let mut e = self.embedding.index_select(&Tensor::from_vec(words.words, distinct, &Device::Cpu)?, 0)?;
                if let Mode::Train { rng } = &mut mode {
                    e = word_dropout(&e, self.config.embedding_dropout, rng)?;
                }
                FirstInput::Words { embedded: e, ids: words.local }
            }
        };
        self.forward_from(first, t, &batch.lengths, mode, threads, prepared)
    }

    /// The first layer's input projections of embeddings `x` (steps, embedding), without bias:
    /// one (steps, G·H) tensor per direction.
    pub(crate) fn is_transformer(&self) -> bool {
        self.encoder.is_some()
    }

    pub(crate) fn first_projections(&self, x: &Tensor) -> Result<Vec<Tensor>> {
        Ok(self.layers[0].iter().map(|w| x.matmul(&w.w_ih.t()?)).collect::<candle_core::Result<Vec<_>>>()?)
    }

    pub(crate) fn embedding_dim(&self) -> usize {
        self.embedding.dims()[1]
    }

    /// The embedding rows of `ids`, (ids, embedding).
    pub(crate) fn embed(&self, ids: &[u32]) -> Result<Tensor> {
        let vocab = self.embedding.dims()[0];
        if let Some(&id) = ids.iter().find(|&&id| id as usize >= vocab) {
            return Err(Error::invalid_argument(format!("token id {id} is outside the vocabulary of {vocab}")));
        }
        Ok(self.embedding.index_select(&Tensor::from_slice(ids, ids.len(), &Device::Cpu)?, 0)?)
    }

    /// Logits, shape (batch, outputs), from the first layer's input: the layers, pooling and
    /// head that every mode shares. `lengths` holds each row's real steps of `steps`.
    /// `prepared`: what a prediction reads (`prepared()`), None in the differentiable modes.
    pub(crate) fn forward_from(&self, first: FirstInput, steps: usize, lengths: &Arc<[usize]>, mut mode: Mode, threads: usize, prepared: Option<Arc<Prepared>>) -> Result<Tensor> {
        let outputs = self.states_from(first, steps, lengths, &mut mode, threads, prepared)?;
        let mut features = self.pool(&outputs, lengths)?;
        if let Mode::Train { rng } = &mut mode {
            features = dropout(&features, self.config.dropout, rng)?;
        }
        Ok(features.matmul(&self.head_w.t()?)?.broadcast_add(&self.head_b)?)
    }

    /// For attention pooling: each real token's weight in the pooled vector of the review `ids`
    /// (they sum to 1); None for the other poolings.
    pub(crate) fn attention_weights(&self, ids: &[u32], threads: usize) -> Result<Option<Vec<f32>>> {
        let Some(attention) = &self.attention else { return Ok(None) };
        let batch = Batch::new(&[ids])?;
        let prepared = self.prepared()?;
        let first = match &prepared {
            Some(p) if p.input_tables.is_some() => FirstInput::Table { ids: Arc::from(ids) },
            _ if self.encoder.is_some() => FirstInput::Embedded(self.embed(ids)?),
            _ => FirstInput::Projected(self.first_projections(&self.embed(ids)?)?.into_iter().map(|p| p.unsqueeze(0)).collect::<candle_core::Result<Vec<_>>>()?),
        };
        let states = self.states_from(first, ids.len(), &batch.lengths, &mut Mode::Infer, threads, prepared)?;
        let states = if states.len() == 1 { states[0].clone() } else { Tensor::cat(&states, 2)? };
        Ok(Some(attention.weights(&states, &batch.lengths)?.flatten_all()?.to_vec1::<f32>()?))
    }

    /// The last layer's states, one (batch, steps, H) tensor per direction.
    fn states_from(&self, first: FirstInput, steps: usize, lengths: &Arc<[usize]>, mode: &mut Mode, threads: usize, prepared: Option<Arc<Prepared>>) -> Result<Vec<Tensor>> {
        if let Some(encoder) = &self.encoder {
            let FirstInput::Embedded(x) = first else {
                return Err(Error::invalid_argument("a transformer reads embeddings, not input projections"));
            };
            return Ok(vec![encoder.forward(&x, steps, lengths, mode)?]);
        }
        let (b, t) = (lengths.len(), steps);
        let training = mode.differentiable();
        let cfg = &self.config;
        let cell = cfg.cell.recurrent().ok_or_else(|| Error::invalid_argument("not a recurrent network"))?;
        let (from_table, first_words, first_ids, mut dense, projected) = match first {
            FirstInput::Table { ids } => (true, None, Some(ids), None, None),
            FirstInput::Words { embedded, ids } => (false, Some(embedded), Some(ids), None, None),
            FirstInput::Embedded(x) => (false, None, None, Some(x), None),
            FirstInput::Projected(gx) => (false, None, None, None, Some(gx)),
        };
        let prepared = if training { None } else { prepared };
        let first_tables = prepared.as_ref().and_then(|p| p.input_tables.as_ref());
        if from_table && first_tables.is_none() {
            return Err(Error::invalid_argument("the first layer reads a per-word table this call's weights do not have"));
        }
        let inputs_only = matches!(mode, Mode::Gradients);
        // Outside training, the two directions of a layer are independent runs over the same
        // input: on two cores each gets one, which halves a single review's recurrence (one
        // review's rows cannot be split). Training batches are split by rows instead.
        let split_directions = !training && threads >= 2;
        let mut outputs: Vec<Tensor> = Vec::new();
        for (l, dirs) in self.layers.iter().enumerate() {
            let x = if l > 0 {
                let mut next = Tensor::cat(&outputs, 2)?.reshape((b * t, ()))?;
                if let Mode::Train { rng } = mode {
                    next = dropout(&next, cfg.dropout, rng)?;
                }
                Some(next)
            } else {
                dense.take()
            };
            let direction = |d: usize, threads: usize| -> Result<Tensor> {
                let w = &dirs[d];
                let biases = Tensor::cat(&[&w.b_ih, &w.b_hh], 0)?;
                let w_small = prepared.as_ref().map(|p| p.small_row_weights[l][d].clone());
                let w_hh = prepared.as_ref().map_or(&w.w_hh, |p| &p.recurrent_weights[l][d]);
                let mut op = RecurrenceOp::new(cell, cfg.hidden_size, d == 1, lengths.clone(), threads, training).with_small_row_weights(w_small);
                if inputs_only {
                    op = op.inputs_gradient_only();
                }
                Ok(match (&x, &first_ids, &projected) {
                    (Some(x), _, _) => x.matmul(&w.w_ih.t()?)?.reshape((b, t, ()))?.apply_op3(w_hh, &biases, op)?,
                    (None, Some(ids), _) => {
                        let op = op.with_input_table_ids(ids.clone(), t);
                        match &first_words {
                            Some(e) => e.matmul(&w.w_ih.t()?)?.apply_op3(w_hh, &biases, op)?,
                            None => match first_tables {
                                Some(tables) => tables[d].apply_op3(w_hh, &biases, op)?,
                                None => unreachable!("a first layer read by id has a table or the batch's embeddings"),
                            },
                        }
                    }
                    (None, None, Some(gx)) => gx[d].apply_op3(w_hh, &biases, op)?,
                    (None, None, None) => unreachable!("the first layer reads a table, embeddings or projections"),
                })
            };
            outputs = if dirs.len() == 2 && split_directions {
                let (forward, backward) = rayon::join(|| direction(0, threads - threads / 2), || direction(1, threads / 2));
                vec![forward?, backward?]
            } else {
                (0..dirs.len()).map(|d| direction(d, threads)).collect::<Result<Vec<_>>>()?
            };
        }
        Ok(outputs)
    }

    /// Pools each direction's states over its real steps; features are the directions' pooled
    /// vectors side by side.
    fn pool(&self, outputs: &[Tensor], lengths: &Arc<[usize]>) -> Result<Tensor> {
        if let Some(attention) = &self.attention {
            let states = if outputs.len() == 1 { outputs[0].clone() } else { Tensor::cat(outputs, 2)? };
            return attention.pool(&states, lengths);
        }
        let parts = outputs
            .iter()
            .enumerate()
            .map(|(d, out)| out.apply_op1(PoolOp { pooling: self.config.pooling, lengths: lengths.clone(), reverse: d == 1 }))
            .collect::<candle_core::Result<Vec<_>>>()?;
        Ok(if parts.len() == 1 { parts.into_iter().next().unwrap() } else { Tensor::cat(&parts, 1)? })
    }
}

/// Test-only fault injection: lets a test start training from a non-finite weight.
#[cfg(test)]
pub(crate) mod test_hooks {
    thread_local! {
        pub(crate) static POISON: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(cell: CellKind, layers: usize, bidirectional: bool, pooling: Pooling) -> NetworkConfig {
        NetworkConfig { cell, embedding_dim: 6, hidden_size: 5, layers, bidirectional, pooling, dropout: 0.2, embedding_dropout: 0.1, transformer: None }
    }

    #[test]
    fn a_transformer_answers_a_review_alone_as_in_a_batch_and_trains() {
        let seqs: Vec<Vec<u32>> = vec![vec![2, 3, 4, 5, 6], vec![5], vec![6, 7, 2]];
        let refs: Vec<&[u32]> = seqs.iter().map(Vec::as_slice).collect();
        let batch = Batch::new(&refs).unwrap();
        for (embedding_dim, pooling, classes) in [(8, Pooling::MaxMean, 2), (6, Pooling::Attention, 3), (8, Pooling::Last, 2)] {
            let cfg = NetworkConfig {
                cell: CellKind::Transformer,
                embedding_dim,
                hidden_size: 8,
                layers: 2,
                bidirectional: true,
                pooling,
                dropout: 0.1,
                embedding_dropout: 0.1,
                transformer: Some(super::super::TransformerShape::new(2, 12, 8)),
            };
            cfg.validate(10, classes).unwrap();
            let (mut rng, mut vars) = (Rng::new(4), Vec::new());
            let model = Classifier::new(&cfg, 10, classes, Weights::Init { rng: &mut rng, vars: &mut vars }).unwrap();
            let params: usize = vars.iter().map(|(_, v)| v.elem_count()).sum();
            assert_eq!(params, cfg.parameter_count(10, classes), "{cfg:?}");
            let out = super::super::head_outputs(classes);
            let infer = model.forward(&batch, Mode::Infer, 1).unwrap().to_vec2::<f32>().unwrap();
            for (i, r) in refs.iter().enumerate() {
                let alone = model.forward(&Batch::new(&[r]).unwrap(), Mode::Infer, 1).unwrap().to_vec2::<f32>().unwrap();
                for k in 0..out {
                    assert!((infer[i][k] - alone[0][k]).abs() < 1e-5, "{cfg:?} row {i}: {} vs {}", infer[i][k], alone[0][k]);
                }
            }
            // Gradients reach every weight.
            let loss = model.forward(&batch, Mode::Train { rng: &mut Rng::new(5) }, 1).unwrap().sqr().unwrap().sum_all().unwrap();
            let grads = loss.backward().unwrap();
            for (name, var) in &vars {
                assert!(grads.get(var.as_tensor()).is_some(), "{name} gets no gradient");
            }
            // A loaded copy answers the same.
            let map: HashMap<String, Tensor> = vars.iter().map(|(n, v)| (n.clone(), v.as_tensor().detach())).collect();
            let loaded = Classifier::new(&cfg, 10, classes, Weights::Load(&map)).unwrap();
            assert_eq!(loaded.forward(&batch, Mode::Infer, 2).unwrap().to_vec2::<f32>().unwrap(), infer);
        }
    }

    #[test]
    fn shapes_for_every_configuration() {
        let seqs: Vec<Vec<u32>> = vec![vec![2, 3, 4], vec![5], vec![6, 7]];
        let refs: Vec<&[u32]> = seqs.iter().map(Vec::as_slice).collect();
        let batch = Batch::new(&refs).unwrap();
        for cell in [CellKind::Lstm, CellKind::Gru] {
            for pooling in [Pooling::Last, Pooling::Max, Pooling::Mean, Pooling::MaxMean, Pooling::Attention] {
                for (layers, bi) in [(1, false), (2, true)] {
                    let cfg = config(cell, layers, bi, pooling);
                    let (mut rng, mut vars) = (Rng::new(1), Vec::new());
                    let model = Classifier::new(&cfg, 10, 2, Weights::Init { rng: &mut rng, vars: &mut vars }).unwrap();
                    let attention = if pooling == Pooling::Attention { 3 } else { 0 };
                    assert_eq!(vars.len(), 1 + layers * cfg.directions() * 4 + attention + 2);
                    let params: usize = vars.iter().map(|(_, v)| v.elem_count()).sum();
                    assert_eq!(params, cfg.parameter_count(10, 2));
                    let infer = model.forward(&batch, Mode::Infer, 1).unwrap();
                    assert_eq!(infer.dims(), [3, 1]);
                    let train = model.forward(&batch, Mode::Train { rng: &mut Rng::new(2) }, 1).unwrap();
                    assert_eq!(train.dims(), [3, 1]);
                    // Inference is deterministic; a row's answer does not depend on its batch.
                    let alone = model.forward(&Batch::new(&refs[1..2]).unwrap(), Mode::Infer, 1).unwrap();
                    let (a, b) = (infer.to_vec2::<f32>().unwrap()[1][0], alone.to_vec2::<f32>().unwrap()[0][0]);
                    assert!((a - b).abs() < 1e-5, "{cfg:?}: {a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn a_loaded_model_answers_as_the_trained_one() {
        // Loading adds the input tables (read by token id in the recurrence) and the blocked
        // single-row weights; neither may change an answer. Hidden 40 gives gate widths across
        // the 64-column blocks; lengths 1 to 9 cover single rows and small and large groups.
        let seqs: Vec<Vec<u32>> = (0..9u32).map(|n| (0..=n).map(|i| (i * 7 + n) % 48 + 2).collect()).collect();
        let refs: Vec<&[u32]> = seqs.iter().map(Vec::as_slice).collect();
        for cell in [CellKind::Lstm, CellKind::Gru] {
            for (layers, bi) in [(1, false), (2, true)] {
                let cfg = NetworkConfig { hidden_size: 40, ..config(cell, layers, bi, Pooling::MaxMean) };
                let (mut rng, mut vars) = (Rng::new(3), Vec::new());
                let fresh = Classifier::new(&cfg, 50, 2, Weights::Init { rng: &mut rng, vars: &mut vars }).unwrap();
                let map: HashMap<String, Tensor> = vars.iter().map(|(n, v)| (n.clone(), v.as_tensor().clone())).collect();
                let loaded = Classifier::new(&cfg, 50, 2, Weights::Load(&map)).unwrap();
                // Nothing is prepared until a prediction needs it.
                assert!(loaded.prepared.as_ref().unwrap().now().is_none());
                assert!(loaded.prepared().unwrap().is_some_and(|p| p.input_tables.is_some() && p.precision == Precision::F32));
                let want = fresh.forward(&Batch::new(&refs).unwrap(), Mode::Infer, 1).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
                let got = loaded.forward(&Batch::new(&refs).unwrap(), Mode::Infer, 2).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
                for (i, r) in refs.iter().enumerate() {
                    let alone = loaded.forward(&Batch::new(&[r]).unwrap(), Mode::Infer, 1).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap()[0];
                    assert!((got[i] - want[i]).abs() < 1e-5 && (alone - want[i]).abs() < 1e-5, "{cfg:?} row {i}: {} {} {alone}", want[i], got[i]);
                }
                // At half precision: a half table and half single-row weights, answers close to
                // the trained ones; back at f32, the same answers as before.
                loaded.set_precision(Precision::F16).unwrap();
                let prepared = loaded.prepared().unwrap().unwrap();
                assert_eq!(prepared.precision, Precision::F16);
                assert!(prepared.input_tables.as_ref().unwrap().iter().all(|t| t.dtype() == DType::F16));
                let fused = super::super::half_precision::fused_product_available();
                assert!(prepared.small_row_weights.iter().flatten().all(|w| matches!(w, SmallRowMatrix::Half(_)) == fused));
                let half = loaded.forward(&Batch::new(&refs).unwrap(), Mode::Infer, 2).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
                for (i, r) in refs.iter().enumerate() {
                    let alone = loaded.forward(&Batch::new(&[r]).unwrap(), Mode::Infer, 1).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap()[0];
                    assert!((half[i] - want[i]).abs() < 2e-3 && (alone - want[i]).abs() < 2e-3, "{cfg:?} f16 row {i}: {} {} {alone}", want[i], half[i]);
                }
                assert!(half.iter().zip(&want).any(|(h, w)| h != w), "{cfg:?}: f16 changed nothing");
                // At i16: integer weights at every level, a byte table; a review scores the
                // same bits alone and in the batch (both multiply the same integers).
                loaded.set_precision(Precision::I16).unwrap();
                let prepared = loaded.prepared().unwrap().unwrap();
                assert!(prepared.input_tables.as_ref().unwrap().iter().all(|t| t.dtype() == DType::U8));
                assert!(prepared.small_row_weights.iter().flatten().all(|w| matches!(w, SmallRowMatrix::Int16(_))));
                let integers = loaded.forward(&Batch::new(&refs).unwrap(), Mode::Infer, 2).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
                for (i, r) in refs.iter().enumerate() {
                    let alone = loaded.forward(&Batch::new(&[r]).unwrap(), Mode::Infer, 1).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap()[0];
                    assert!((integers[i] - want[i]).abs() < 2e-3 && alone == integers[i], "{cfg:?} i16 row {i}: {} {} {alone}", want[i], integers[i]);
                }
                assert!(integers.iter().zip(&want).any(|(h, w)| h != w), "{cfg:?}: i16 changed nothing");
                loaded.set_precision(Precision::F32).unwrap();
                let again = loaded.forward(&Batch::new(&refs).unwrap(), Mode::Infer, 2).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
                assert_eq!(again, got, "{cfg:?}: back at f32");
            }
        }
    }

    /// A model switched before its first prediction builds only the new precision's tables, and
    /// answers as one switched after predicting at f32.
    #[test]
    fn a_switch_before_the_first_prediction_builds_one_set_of_tables() {
        let cfg = config(CellKind::Lstm, 1, false, Pooling::Last);
        let (mut rng, mut vars) = (Rng::new(5), Vec::new());
        Classifier::new(&cfg, 50, 2, Weights::Init { rng: &mut rng, vars: &mut vars }).unwrap();
        let map: HashMap<String, Tensor> = vars.iter().map(|(n, v)| (n.clone(), v.as_tensor().clone())).collect();
        let ids: Vec<u32> = (0..12).map(|i| i * 3 % 48 + 2).collect();
        let answer = |m: &Classifier| m.forward(&Batch::new(&[&ids[..]]).unwrap(), Mode::Infer, 1).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let early = Classifier::new(&cfg, 50, 2, Weights::Load(&map)).unwrap();
        assert!(early.set_precision(Precision::I16).unwrap(), "a switch from the f32 the model starts at builds");
        let built = early.prepared.as_ref().unwrap().now().expect("the switch built i16's tables");
        assert_eq!(built.precision, Precision::I16);
        let late = Classifier::new(&cfg, 50, 2, Weights::Load(&map)).unwrap();
        let at_f32 = answer(&late);
        late.set_precision(Precision::I16).unwrap();
        assert_eq!(answer(&early), answer(&late));
        assert_ne!(answer(&early), at_f32, "i16 rounds the weights");
        // The prediction read the tables the switch built: nothing was built again.
        assert!(Arc::ptr_eq(&built, &early.prepared().unwrap().unwrap()));
        // Back to f32 before predicting: nothing built, nothing to switch.
        let fresh = Classifier::new(&cfg, 50, 2, Weights::Load(&map)).unwrap();
        assert!(!fresh.set_precision(Precision::F32).unwrap() && fresh.prepared.as_ref().unwrap().now().is_none());
    }

    #[test]
    fn directions_on_two_threads_answer_as_on_one() {
        // With two threads or more, inference runs a layer's two directions at once, each on
        // its own thread; the answers must be the very same values, in the same order.
        let seqs: Vec<Vec<u32>> = (0..6u32).map(|n| (0..=2 * n).map(|i| (i * 5 + n) % 28 + 2).collect()).collect();
        let refs: Vec<&[u32]> = seqs.iter().map(Vec::as_slice).collect();
        for cell in [CellKind::Lstm, CellKind::Gru] {
            let cfg = NetworkConfig { hidden_size: 12, ..config(cell, 2, true, Pooling::MaxMean) };
            let (mut rng, mut vars) = (Rng::new(8), Vec::new());
            let fresh = Classifier::new(&cfg, 30, 2, Weights::Init { rng: &mut rng, vars: &mut vars }).unwrap();
            let map: HashMap<String, Tensor> = vars.iter().map(|(n, v)| (n.clone(), v.as_tensor().clone())).collect();
            let loaded = Classifier::new(&cfg, 30, 2, Weights::Load(&map)).unwrap();
            for (name, model) in [("fresh", &fresh), ("loaded", &loaded)] {
                for batch in [Batch::new(&refs).unwrap(), Batch::new(&refs[5..]).unwrap()] {
                    let answer = |threads| model.forward(&batch, Mode::Infer, threads).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
                    let one = answer(1);
                    assert_eq!(answer(2), one, "{cell:?} {name}");
                    assert_eq!(answer(3), one, "{cell:?} {name}");
                }
            }
        }
    }

    #[test]
    fn loading_rejects_wrong_shapes_and_missing_tensors() {
        let cfg = config(CellKind::Gru, 1, false, Pooling::Last);
        let (mut rng, mut vars) = (Rng::new(1), Vec::new());
        Classifier::new(&cfg, 10, 2, Weights::Init { rng: &mut rng, vars: &mut vars }).unwrap();
        let mut map: HashMap<String, Tensor> = vars.iter().map(|(n, v)| (n.clone(), v.as_tensor().clone())).collect();
        assert!(Classifier::new(&cfg, 10, 2, Weights::Load(&map)).is_ok());
        assert!(Classifier::new(&cfg, 11, 2, Weights::Load(&map)).is_err());
        map.remove("head.bias");
        assert!(Classifier::new(&cfg, 10, 2, Weights::Load(&map)).is_err());
    }
}
