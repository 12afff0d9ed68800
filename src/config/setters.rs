// SPDX-License-Identifier: MIT OR Apache-2.0
//! Typed access to `TrainParams`, driven by the table of src/config/fields.rs: the struct and
//! its `Default`, the setters (`set`, `reset`, `get`) and the per-field range checks of
//! `validate` are all generated from it by `define_train_params!`, so a field cannot be added,
//! renamed or retyped in one place and not the others.
//!
//! Conversions: an integer is accepted for a float field (as JSON accepts `1` for `1.0`); a
//! float is refused for an integer field (as JSON refuses `2.0` for `epochs`), and nothing else
//! converts: a bool is not an integer, a number is not a string.

use std::borrow::Cow;
use std::fmt::Display;
use std::path::PathBuf;

use super::fields::{FIELDS, Field, FieldValue, Range};
use super::{LrSchedule, Optimizer};
use crate::data::Format;
use crate::error::{Error, Result};
use crate::nn::{CellKind, Pooling};
use crate::text::Truncation;

/// One Rust type of `TrainParams` as a parameter value.
pub(crate) trait FieldType: Sized {
    /// Converts `value`, checking its type and `field`'s range.
    fn from_value(value: FieldValue, field: &Field) -> Result<Self>;
    fn to_value(&self) -> FieldValue;
    /// Checks a stored value (JSON fills the struct without `from_value`).
    fn check(&self, field: &Field) -> Result<()>;
}

/// "must be between 1 and 4096", as `validate` has always said it.
fn expected(field: &Field) -> String {
    match field.range {
        Range::Int { min, max: u64::MAX } => format!("at least {min}"),
        Range::Int { min, max } => format!("between {min} and {max}"),
        Range::ZeroOr { zero, min, max } => format!("0 ({zero}) or between {min} and {max}"),
        Range::Float { min, max, .. } if max.is_infinite() => format!("finite and >= {min}"),
        Range::Float { min, min_open, max, max_open } => format!(
            "{}in {}{min}, {max}{}",
            if min_open { "a finite number " } else { "" },
            if min_open { "(" } else { "[" },
            if max_open { ")" } else { "]" }
        ),
        Range::OneOf(values) => format!("one of {}", values.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", ")),
        Range::Bool | Range::Path => format!("{}", field.kind().article()),
    }
}

fn out_of_range(field: &Field, got: impl Display) -> Error {
    Error::config(format!("{} must be {}, got {got}", field.name, expected(field)))
}

fn wrong_type(field: &Field, got: &FieldValue) -> Error {
    let absent = if field.optional() { " or no value (automatic)" } else { "" };
    Error::config(format!("training parameter `{}` takes {}{absent}, got {}", field.name, field.kind().article(), got.describe()))
}

fn check_int(field: &Field, v: i128) -> Result<()> {
    let ok = match field.range {
        Range::Int { min, max } => (min as i128..=max as i128).contains(&v),
        Range::ZeroOr { min, max, .. } => v == 0 || (min as i128..=max as i128).contains(&v),
        _ => false,
    };
    if ok { Ok(()) } else { Err(out_of_range(field, v)) }
}

/// `single`: the field is an `f32`, so the bounds are compared as `f32` too (0.9 as an `f32`
/// is not below 0.9 as an `f32`, though it is below 0.9 as an `f64`).
fn check_float(field: &Field, v: f64, single: bool, shown: impl Display) -> Result<()> {
    let Range::Float { mut min, min_open, mut max, max_open } = field.range else { return Err(out_of_range(field, shown)) };
    if single {
        (min, max) = (min as f32 as f64, max as f32 as f64);
    }
    let above = if min_open { v > min } else { v >= min };
    let below = if max_open { v < max } else { v <= max };
    let ok = v.is_finite() && above && below;
    if ok { Ok(()) } else { Err(out_of_range(field, shown)) }
}

fn check_str(field: &Field, s: &str) -> Result<()> {
    match field.range {
        Range::OneOf(values) if !values.contains(&s) => Err(out_of_range(field, format!("`{s}`"))),
        _ => Ok(()),
    }
}

macro_rules! unsigned_field {
    ($($t:ty),*) => {$(
        impl FieldType for $t {
            fn from_value(value: FieldValue, field: &Field) -> Result<Self> {
                match value {
                    FieldValue::Int(v) => {
                        check_int(field, v)?;
                        <$t>::try_from(v).map_err(|_| out_of_range(field, v))
                    }
                    other => Err(wrong_type(field, &other)),
                }
            }
            fn to_value(&self) -> FieldValue {
                FieldValue::Int(*self as i128)
            }
            fn check(&self, field: &Field) -> Result<()> {
                check_int(field, *self as i128)
            }
        }
    )*};
}
unsigned_field!(usize, u64);

macro_rules! float_field {
    ($($t:ty),*) => {$(
        impl FieldType for $t {
            fn from_value(value: FieldValue, field: &Field) -> Result<Self> {
                let v = match value {
                    FieldValue::Float(v) => v as $t,
                    FieldValue::Int(v) => v as f64 as $t,
                    other => return Err(wrong_type(field, &other)),
                };
                v.check(field)?;
                Ok(v)
            }
            fn to_value(&self) -> FieldValue {
                FieldValue::Float(*self as f64)
            }
            fn check(&self, field: &Field) -> Result<()> {
                check_float(field, *self as f64, size_of::<$t>() == 4, self)
            }
        }
    )*};
}
float_field!(f32, f64);

impl FieldType for bool {
    fn from_value(value: FieldValue, field: &Field) -> Result<Self> {
        match value {
            FieldValue::Bool(b) => Ok(b),
            other => Err(wrong_type(field, &other)),
        }
    }
    fn to_value(&self) -> FieldValue {
        FieldValue::Bool(*self)
    }
    fn check(&self, _: &Field) -> Result<()> {
        Ok(())
    }
}

impl FieldType for PathBuf {
    fn from_value(value: FieldValue, field: &Field) -> Result<Self> {
        match value {
            FieldValue::Str(s) => Ok(PathBuf::from(s.into_owned())),
            other => Err(wrong_type(field, &other)),
        }
    }
    fn to_value(&self) -> FieldValue {
        FieldValue::Str(Cow::Owned(self.to_string_lossy().into_owned()))
    }
    fn check(&self, _: &Field) -> Result<()> {
        Ok(())
    }
}

/// The optional fields: absent lets the library decide.
impl<T: FieldType> FieldType for Option<T> {
    fn from_value(value: FieldValue, field: &Field) -> Result<Self> {
        match value {
            FieldValue::Absent => Ok(None),
            other => T::from_value(other, field).map(Some),
        }
    }
    fn to_value(&self) -> FieldValue {
        self.as_ref().map_or(FieldValue::Absent, T::to_value)
    }
    fn check(&self, field: &Field) -> Result<()> {
        self.as_ref().map_or(Ok(()), |v| v.check(field))
    }
}

/// The enum-like fields go by their serde names, which the table lists.
macro_rules! named_field {
    ($($t:ty),*) => {$(
        impl FieldType for $t {
            fn from_value(value: FieldValue, field: &Field) -> Result<Self> {
                let FieldValue::Str(s) = value else { return Err(wrong_type(field, &value)) };
                check_str(field, &s)?;
                serde_json::from_value(serde_json::Value::String(s.into_owned()))
                    .map_err(|e| Error::config(format!("training parameter `{}`: {e}", field.name)))
            }
            fn to_value(&self) -> FieldValue {
                match serde_json::to_value(self) {
                    Ok(serde_json::Value::String(s)) => FieldValue::Str(Cow::Owned(s)),
                    other => unreachable!("{} serializes as a string, not {other:?}", stringify!($t)),
                }
            }
            fn check(&self, field: &Field) -> Result<()> {
                match self.to_value() {
                    FieldValue::Str(s) => check_str(field, &s),
                    _ => Ok(()),
                }
            }
        }
    )*};
}
named_field!(Format, CellKind, Pooling, Truncation, Optimizer, LrSchedule);

/// The table's upper bound of an integer field.
const fn max_of(range: Range) -> usize {
    match range {
        Range::Int { max, .. } | Range::ZeroOr { max, .. } => max as usize,
        _ => 0,
    }
}

// The table repeats limits that the rest of the library states as constants; they must agree.
const _: () = {
    use super::fields::by_name;
    use super::MAX_BATCH;
    use crate::nn::{MAX_DIM, MAX_LAYERS};
    use crate::text::{MAX_LEN, MAX_VOCAB};
    assert!(max_of(by_name::vocab_size.range) == MAX_VOCAB);
    assert!(max_of(by_name::embedding_dim.range) == MAX_DIM);
    assert!(max_of(by_name::hidden_size.range) == MAX_DIM);
    assert!(max_of(by_name::layers.range) == MAX_LAYERS);
    assert!(max_of(by_name::max_len.range) == MAX_LEN);
    assert!(max_of(by_name::batch_size.range) == MAX_BATCH);
    assert!(max_of(by_name::wide_buckets.range) == crate::wide::MAX_BUCKETS);
};

/// The table entry of `name`, or a config error naming the closest field.
pub(crate) fn field(name: &str) -> Result<&'static Field> {
    FIELDS.iter().find(|f| f.name == name).ok_or_else(|| {
        let closest = FIELDS.iter().map(|f| (edit_distance(name, f.name), f.name)).min();
        let hint = match closest {
            Some((d, best)) if d <= 2.max(name.len() / 3) => format!("; did you mean `{best}`?"),
            _ => String::new(),
        };
        Error::config(format!("unknown training parameter `{name}`{hint}"))
    })
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let next = (diag + usize::from(ca != cb)).min(row[j] + 1).min(row[j + 1] + 1);
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// Generates `TrainParams` from the table: the struct (with the table's docs), `Default`,
/// `set`, `get` and the per-field checks. Invoked once, in src/config.rs.
macro_rules! define_train_params {
    ($($name:ident : $ty:ty { range: $range:expr, default: $default:expr, doc: $doc:expr $(,)? })*) => {
        /// The parameters of `senti_train` and of a `senti_params` object, flat as the JSON is.
        /// Generated from the table in src/config/fields.rs, which documents every field.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct TrainParams {
            $(#[doc = $doc] pub $name: $ty,)*
        }

        impl Default for TrainParams {
            fn default() -> Self {
                use $crate::config::setters::FieldType as _;
                Self {
                    $($name: <$ty>::from_value(fields::by_name::$name.default, &fields::by_name::$name)
                        .expect("the table's defaults are valid"),)*
                }
            }
        }

        impl TrainParams {
            /// Sets one field, checked at once against its type and range (see
            /// src/config/fields.rs). An integer is accepted for a float field; `FieldValue::Absent`
            /// only for the optional fields. Checks that involve several fields wait for
            /// `validate`, so fields may be set in any order. On error nothing changes.
            pub fn set(&mut self, name: &str, value: FieldValue) -> $crate::error::Result<()> {
                use $crate::config::setters::FieldType as _;
                match name {
                    $(stringify!($name) => self.$name = <$ty>::from_value(value, &fields::by_name::$name)?,)*
                    _ => return Err($crate::config::setters::field(name).err().expect("not a field")),
                }
                Ok(())
            }

            /// The value of one field; optional fields that are unset are `FieldValue::Absent`.
            pub fn get(&self, name: &str) -> $crate::error::Result<FieldValue> {
                use $crate::config::setters::FieldType as _;
                match name {
                    $(stringify!($name) => Ok(self.$name.to_value()),)*
                    _ => Err($crate::config::setters::field(name).err().expect("not a field")),
                }
            }

            /// Each field against its own range in the table.
            fn check_fields(&self) -> $crate::error::Result<()> {
                use $crate::config::setters::FieldType as _;
                $(self.$name.check(&fields::by_name::$name)?;)*
                Ok(())
            }
        }
    };
}
pub(crate) use define_train_params;

impl super::TrainParams {
    /// Sets `name` back to its default (for an optional field: absent).
    pub fn reset(&mut self, name: &str) -> Result<()> {
        self.set(name, field(name)?.default.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::super::fields::{self, Kind};
    use super::*;
    use crate::config::TrainParams;
    use crate::error::ErrorKind;

    fn int(v: i128) -> FieldValue {
        FieldValue::Int(v)
    }
    fn s(v: &str) -> FieldValue {
        FieldValue::Str(Cow::Owned(v.to_string()))
    }

    fn config_error(r: Result<()>) -> String {
        let e = r.expect_err("accepted");
        assert_eq!(e.kind(), ErrorKind::Config, "{e}");
        e.to_string()
    }

    /// A valid value other than the default, for every kind of range.
    fn other_value(f: &Field) -> FieldValue {
        match (f.range, &f.default) {
            (Range::Int { min, .. }, FieldValue::Int(d)) if *d == min as i128 => int(min as i128 + 1),
            (Range::Int { min, .. } | Range::ZeroOr { min, .. }, _) => int(min as i128),
            (Range::Float { min, max, .. }, _) if max.is_infinite() => FieldValue::Float(min + 2.5),
            (Range::Float { min, max, .. }, _) => FieldValue::Float(min + (max - min) * 0.375),
            (Range::Bool, FieldValue::Bool(b)) => FieldValue::Bool(!b),
            (Range::OneOf(values), d) => s(values.iter().find(|v| d != &s(v)).expect("two values at least")),
            (Range::Path, _) => s("dir \"with\" \\ odd/data set.jsonl"),
            other => panic!("{}: no test value for {other:?}", f.name),
        }
    }

    #[test]
    fn the_struct_and_its_defaults_are_the_table() {
        let text = serde_json::to_string(&TrainParams::default()).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        let mut names: Vec<&str> = FIELDS.iter().map(|f| f.name).collect();
        // Serialized in the table's order.
        let at: Vec<usize> = names.iter().map(|n| text.find(&format!("\"{n}\":")).unwrap()).collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
        keys.sort_unstable();
        names.sort_unstable();
        assert_eq!(keys, names, "the struct's fields are the table's");
        let p = TrainParams::default();
        for f in FIELDS {
            let want = match &f.default {
                FieldValue::Int(v) => serde_json::json!(*v as u64),
                FieldValue::Float(v) => serde_json::json!(v),
                FieldValue::Bool(v) => serde_json::json!(v),
                FieldValue::Str(v) => serde_json::json!(v),
                FieldValue::Absent => serde_json::Value::Null,
            };
            assert_eq!(json[f.name], want, "default of {}", f.name);
            let mut q = p.clone();
            q.set(f.name, f.default.clone()).unwrap();
            assert_eq!(q, p, "setting {} to the table's default", f.name);
            assert!(p.get(f.name).is_ok());
        }
    }

    #[test]
    fn the_defaults_are_the_measured_recipe() {
        // The values the README's results were measured with, written out once more here so
        // that a change to a default in the table is deliberate.
        let p = TrainParams::default();
        assert_eq!(
            (p.data_path.to_str(), p.data_format, p.train_limit, p.validation_fraction, p.cell, p.embedding_dim, p.hidden_size, p.layers),
            (Some("data/imdb/reviews.json"), Format::Auto, None, 0.1, CellKind::Lstm, 128, 128, 1)
        );
        assert_eq!(
            (p.bidirectional, p.pooling, p.dropout, p.embedding_dropout, p.embedding_pretrain_epochs, p.vocab_size, p.max_len, p.truncation),
            (true, Pooling::MaxMean, 0.3, 0.1, None, 30_000, 800, Truncation::KeepEnd)
        );
        assert_eq!(
            (p.epochs, p.batch_size, p.optimizer, p.learning_rate, p.lr_schedule, p.weight_decay, p.clip_norm, p.restore_best, p.seed, p.threads),
            (3, 64, Optimizer::Adam, 2e-3, LrSchedule::Cosine, 0.0, 1.0, true, 42, 0)
        );
        assert_eq!((p.wide_ngrams, p.wide_buckets, p.wide_epochs, p.wide_learning_rate, p.wide_l2), (2, 0, 3, 0.03, 1e-6));
    }

    #[test]
    fn every_field_round_trips_through_set_get_and_json() {
        let mut p = TrainParams::default();
        for f in FIELDS {
            let v = other_value(f);
            p.set(f.name, v.clone()).unwrap_or_else(|e| panic!("{}: {e}", f.name));
            let got = p.get(f.name).unwrap();
            match (&got, &v) {
                (FieldValue::Float(a), FieldValue::Float(b)) => assert!((a - b).abs() < 1e-6, "{}: {a} vs {b}", f.name),
                _ => assert_eq!(got, v, "{}", f.name),
            }
            // Set back what get returned: the same struct.
            let mut q = p.clone();
            q.set(f.name, got).unwrap();
            assert_eq!(q, p, "{}", f.name);
        }
        // Every field differs from its default now; the JSON carries them all.
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(TrainParams::from_json(&json).unwrap(), p, "{json}");
        for f in FIELDS {
            assert_ne!(p.get(f.name).unwrap(), TrainParams::default().get(f.name).unwrap(), "{}", f.name);
            p.reset(f.name).unwrap();
        }
        assert_eq!(p, TrainParams::default());
    }

    #[test]
    fn unknown_fields_name_the_closest() {
        let mut p = TrainParams::default();
        let e = config_error(p.set("epoch", int(2)));
        assert_eq!(e, "unknown training parameter `epoch`; did you mean `epochs`?");
        let e = config_error(p.set("foo", int(2)));
        assert_eq!(e, "unknown training parameter `foo`");
        assert!(config_error(p.reset("hiden_size")).contains("did you mean `hidden_size`"));
        assert!(p.get("nope").is_err());
        assert_eq!(p, TrainParams::default());
    }

    #[test]
    fn wrong_types_name_the_field_and_its_type() {
        let mut p = TrainParams::default();
        let e = config_error(p.set("epochs", FieldValue::Float(2.0)));
        assert_eq!(e, "training parameter `epochs` takes an integer, got a float");
        assert!(config_error(p.set("bidirectional", int(1))).contains("`bidirectional` takes a bool, got an integer"));
        assert!(config_error(p.set("cell", int(1))).contains("`cell` takes a string"));
        assert!(config_error(p.set("data_path", FieldValue::Bool(true))).contains("`data_path` takes a string"));
        assert!(config_error(p.set("learning_rate", s("0.1"))).contains("`learning_rate` takes a float"));
        assert!(config_error(p.set("epochs", FieldValue::Absent)).contains("`epochs` takes an integer, got no value"));
        let e = config_error(p.set("train_limit", FieldValue::Float(3.0)));
        assert!(e.contains("`train_limit` takes an integer or no value (automatic)"), "{e}");
        assert_eq!(p, TrainParams::default());
        // An integer for a float field is fine, as in JSON.
        p.set("learning_rate", int(1)).unwrap();
        p.set("validation_fraction", int(0)).unwrap();
        assert_eq!((p.learning_rate, p.validation_fraction), (1.0, 0.0));
        // Optional fields take absent, and reset makes them absent again.
        p.set("train_limit", int(500)).unwrap();
        assert_eq!(p.train_limit, Some(500));
        p.set("train_limit", FieldValue::Absent).unwrap();
        assert_eq!(p.train_limit, None);
        p.set("embedding_pretrain_epochs", int(0)).unwrap();
        p.reset("embedding_pretrain_epochs").unwrap();
        assert_eq!(p.embedding_pretrain_epochs, None);
    }

    #[test]
    fn out_of_range_names_the_field_and_the_range() {
        let mut p = TrainParams::default();
        let cases: &[(&str, FieldValue, &str)] = &[
            ("epochs", int(0), "epochs must be between 1 and 10000, got 0"),
            ("epochs", int(-1), "epochs must be between 1 and 10000, got -1"),
            ("hidden_size", int(5000), "hidden_size must be between 1 and 4096, got 5000"),
            ("vocab_size", int(2), "vocab_size must be between 3 and 2000000, got 2"),
            ("train_limit", int(0), "train_limit must be at least 1, got 0"),
            ("seed", int(-1), "seed must be at least 0, got -1"),
            ("seed", int(1 << 64), "seed must be at least 0, got 18446744073709551616"),
            ("threads", int(2000), "threads must be between 0 and 1024, got 2000"),
            ("wide_ngrams", int(4), "wide_ngrams must be 0 (no wide path) or between 1 and 3, got 4"),
            ("wide_buckets", int(100), "wide_buckets must be 0 (automatic) or between 1024 and 67108864, got 100"),
            ("dropout", FieldValue::Float(1.0), "dropout must be in [0, 1), got 1"),
            ("validation_fraction", FieldValue::Float(0.9), "validation_fraction must be in [0, 0.9), got 0.9"),
            ("learning_rate", FieldValue::Float(0.0), "learning_rate must be a finite number in (0, 10], got 0"),
            ("learning_rate", FieldValue::Float(f64::NAN), "learning_rate must be a finite number in (0, 10], got NaN"),
            ("weight_decay", int(2), "weight_decay must be in [0, 1], got 2"),
            ("clip_norm", FieldValue::Float(f64::INFINITY), "clip_norm must be finite and >= 0, got inf"),
            ("dropout", FieldValue::Float(1e300), "dropout must be in [0, 1), got inf"),
            ("cell", s("rnn"), "cell must be one of `lstm`, `gru`, `transformer`, got `rnn`"),
            ("data_format", s("JSONL"), "data_format must be one of `auto`, `imdb-json`, `aclimdb`, `jsonl`, `csv`, `folders`, got `JSONL`"),
        ];
        for (name, value, want) in cases {
            assert_eq!(config_error(p.set(name, value.clone())), *want);
        }
        assert_eq!(p, TrainParams::default(), "a refused value changes nothing");
        // The edges are accepted.
        for (name, value) in [("epochs", int(10_000)), ("wide_buckets", int(1 << 26)), ("wide_ngrams", int(0)), ("seed", int(u64::MAX as i128))] {
            p.set(name, value).unwrap();
        }
        p.set("validation_fraction", FieldValue::Float(0.8999)).unwrap();
    }

    #[test]
    fn json_keeps_its_messages_and_checks_the_table_ranges() {
        let e = TrainParams::from_json(r#"{"epochs": 0}"#).unwrap_err().to_string();
        assert_eq!(e, "epochs must be between 1 and 10000, got 0");
        let e = TrainParams::from_json(r#"{"epochs": 2.5}"#).unwrap_err().to_string();
        assert!(e.starts_with("training parameters: field `epochs`: invalid type"), "{e}");
        let e = TrainParams::from_json(r#"{"validation_fraction": 0.9}"#).unwrap_err().to_string();
        assert_eq!(e, "validation_fraction must be in [0, 0.9), got 0.9");
        let e = TrainParams::from_json(r#"{"weight_decay": 0.01}"#).unwrap_err().to_string();
        assert_eq!(e, "weight_decay needs \"optimizer\": \"adamw\"");
        TrainParams::from_json(r#"{"weight_decay": 0.01, "optimizer": "adamw"}"#).unwrap();
        let e = TrainParams::from_json(r#"{"seed": 18446744073709551615}"#).unwrap();
        assert_eq!(e.seed, u64::MAX);
    }

    #[test]
    fn every_kind_is_in_the_table_and_the_docs_name_every_field() {
        for kind in [Kind::Int, Kind::Float, Kind::Bool, Kind::Str] {
            assert!(FIELDS.iter().any(|f| f.kind() == kind), "{kind:?}");
        }
        let header = fields::header_block(FIELDS);
        let readme = fields::readme_table(FIELDS);
        for f in FIELDS {
            assert!(header.contains(&format!(" *   {}: ", f.name)), "{}", f.name);
            assert!(readme.contains(&format!("| `{}` |", f.name)), "{}", f.name);
            assert!(!f.doc.is_empty() && f.doc.ends_with('.'), "{}: a sentence", f.name);
        }
    }

    /// The generated docs in the tree are what the table generates now: build.rs writes them,
    /// so this fails when its generation is broken or the files were edited by hand.
    #[test]
    fn header_and_readme_document_the_table() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let header = std::fs::read_to_string(root.join("include/senti.h")).unwrap();
        assert!(
            header.contains(&fields::header_block(FIELDS)),
            "include/senti.h's TRAINING PARAMETERS block differs from src/config/fields.rs; build.rs regenerates it \
             (touch src/config/fields.rs && cargo build --release)"
        );
        let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
        let region = fields::readme_region(&readme).expect("README.md has the <!-- params:begin --> / <!-- params:end --> markers");
        assert!(
            region == fields::readme_table(FIELDS),
            "README.md's parameter table differs from src/config/fields.rs; build.rs regenerates it \
             (touch src/config/fields.rs && cargo build --release)"
        );
    }
}
