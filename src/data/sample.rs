// SPDX-License-Identifier: MIT OR Apache-2.0
//! Seeded samples and splits that keep every class represented.

use std::collections::BTreeMap;

use super::Example;
use crate::rng::Rng;

/// Example positions grouped by label, each group in input order, groups in label order.
fn by_class(examples: &[Example]) -> Vec<Vec<usize>> {
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, e) in examples.iter().enumerate() {
        groups.entry(e.label.as_str()).or_default().push(i);
    }
    groups.into_values().collect()
}

/// The examples at the positions `picked`, in their input order.
fn take(examples: Vec<Example>, picked: &[usize]) -> Vec<Example> {
    let mut keep = vec![false; examples.len()];
    picked.iter().for_each(|&i| keep[i] = true);
    examples.into_iter().zip(keep).filter_map(|(e, k)| k.then_some(e)).collect()
}

/// A seeded, class-balanced sample of at most `limit` examples, shuffled: the classes share
/// `limit` equally, and what a small class cannot fill goes to the others.
pub fn balanced(examples: Vec<Example>, limit: usize, rng: &mut Rng) -> Vec<Example> {
    if limit >= examples.len() {
        return examples;
    }
    let mut groups = by_class(&examples);
    for g in &mut groups {
        rng.shuffle(g);
    }
    // Smallest classes first, each taking its fair share of what is left.
    groups.sort_by_key(Vec::len);
    let mut left = limit;
    let mut picked = Vec::with_capacity(limit);
    for (k, g) in groups.iter().enumerate() {
        let share = left.div_ceil(groups.len() - k).min(g.len());
        picked.extend_from_slice(&g[..share]);
        left -= share;
    }
    let mut out = take(examples, &picked);
    rng.shuffle(&mut out);
    out
}

/// Splits shuffled `examples` into (fit, validation) with about `fraction` of every class in
/// validation (at least one example of a class with two or more), both in their given order.
pub fn stratified_split(examples: Vec<Example>, fraction: f32) -> (Vec<Example>, Vec<Example>) {
    if fraction <= 0.0 || examples.len() < 2 {
        return (examples, Vec::new());
    }
    let mut held = vec![false; examples.len()];
    for g in by_class(&examples) {
        let n = ((g.len() as f64 * fraction as f64).round() as usize).min(g.len().saturating_sub(1));
        let n = if g.len() >= 2 { n.max(1) } else { n };
        for &i in &g[..n] {
            held[i] = true;
        }
    }
    let (mut fit, mut val) = (Vec::new(), Vec::new());
    for (e, h) in examples.into_iter().zip(held) {
        if h { val.push(e) } else { fit.push(e) }
    }
    (fit, val)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Origin;

    fn examples(counts: &[(&str, usize)]) -> Vec<Example> {
        let mut out = Vec::new();
        for &(label, n) in counts {
            for i in 0..n {
                out.push(Example { text: format!("{label}{i}"), label: label.into(), origin: Origin::Memory { index: out.len() as u32 } });
            }
        }
        out
    }

    fn count(ex: &[Example], label: &str) -> usize {
        ex.iter().filter(|e| e.label == label).count()
    }

    #[test]
    fn balanced_sample_shares_the_limit_between_classes() {
        let s = balanced(examples(&[("neg", 70), ("pos", 30)]), 20, &mut Rng::new(1));
        assert_eq!((s.len(), count(&s, "pos")), (20, 10));
        let s = balanced(examples(&[("a", 3), ("b", 50), ("c", 50)]), 30, &mut Rng::new(1));
        assert_eq!((count(&s, "a"), count(&s, "b") + count(&s, "c"), s.len()), (3, 27, 30));
        assert!(count(&s, "b").abs_diff(count(&s, "c")) <= 1);
    }

    #[test]
    fn stratified_split_holds_out_every_class() {
        let (fit, val) = stratified_split(examples(&[("a", 90), ("b", 9), ("c", 2)]), 0.1);
        assert_eq!((count(&val, "a"), count(&val, "b"), count(&val, "c")), (9, 1, 1));
        assert_eq!(fit.len() + val.len(), 101);
        let (fit, val) = stratified_split(examples(&[("a", 5)]), 0.0);
        assert_eq!((fit.len(), val.len()), (5, 0));
    }
}
