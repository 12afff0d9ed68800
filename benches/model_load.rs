// SPDX-License-Identifier: MIT OR Apache-2.0
//! What loading a model costs, and how much of it the checksum takes.
//!
//! `cargo bench --bench model_load [-- MODEL]`, MODEL defaulting to the main job's
//! `reports/lstm.safetensors` (the default recipe's BiLSTM). The model is saved again first, so an
//! older file is timed in the current format (with its checksum). Prints the median of 15 loads
//! from memory, the median of 15 checksum passes over the same bytes, and the machine.

use std::time::Instant;

fn median_ms(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[runs / 2]
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".to_string())
}

fn main() {
    let path = std::env::args().skip(1).find(|a| !a.starts_with("--")).unwrap_or_else(|| "reports/lstm.safetensors".to_string());
    let model = senti::Model::load(&path).unwrap_or_else(|e| panic!("{path}: {e} (run the main job first, or pass a model file)"));
    let saved = std::env::temp_dir().join(format!("senti-model-load-{}.safetensors", std::process::id()));
    model.save(&saved).unwrap();
    drop(model);
    let bytes = std::fs::read(&saved).unwrap();
    std::fs::remove_file(&saved).unwrap();

    let load = median_ms(15, || drop(senti::model_file::from_bytes(&bytes).unwrap()));
    let mut copy = bytes.clone();
    // Sealing locates the entry and computes the CRC over every byte, as verifying does.
    let checksum = median_ms(15, || senti::model_file::seal(&mut copy).unwrap());
    assert_eq!(copy, bytes, "sealing an intact file changed it");

    println!("machine: {}, {} CPUs, kernels: {}", cpu_model(), std::thread::available_parallelism().map_or(0, |n| n.get()), senti::simd_level());
    println!("model: {path} ({:.1} MB as saved now)", bytes.len() as f64 / 1e6);
    println!("load from memory: {load:.2} ms median of 15");
    println!("checksum pass:    {checksum:.2} ms median of 15 ({:.1}% of the load, {:.1} GB/s)", 100.0 * checksum / load, bytes.len() as f64 / checksum / 1e6);
}
