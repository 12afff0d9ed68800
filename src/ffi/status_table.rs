// SPDX-License-Identifier: MIT OR Apache-2.0
//! The one list of status codes. build.rs reads it (it includes this file) and generates
//! `src/ffi/status.rs` (the `senti_status` enum, the names `senti_status_name` returns and the
//! mapping from the core's error kinds) and `src/error/kind.rs` (the core's `ErrorKind`), so
//! the codes, their names and their kinds cannot drift apart. Codes are stable: append new
//! ones, never renumber or reuse one.

pub struct Status {
    pub code: i32,
    pub name: &'static str,
    /// The core's `ErrorKind` variant that maps to this status, for the statuses the core raises;
    /// `None` for those only the C boundary produces.
    pub kind: Option<&'static str>,
    pub meaning: &'static str,
}

pub const STATUSES: &[Status] = &[
    Status { code: 0, name: "SENTI_OK", kind: None, meaning: "Success." },
    Status {
        code: 1,
        name: "SENTI_ERR_INVALID_ARGUMENT",
        kind: Some("InvalidArgument"),
        meaning: "An argument is unusable (empty batch, bad length, oversized text, bad data spec).",
    },
    Status { code: 2, name: "SENTI_ERR_NULL_POINTER", kind: None, meaning: "A required pointer argument is NULL." },
    Status { code: 3, name: "SENTI_ERR_INVALID_HANDLE", kind: None, meaning: "A handle that was freed, never issued by this library, or of the wrong kind." },
    Status { code: 4, name: "SENTI_ERR_INVALID_UTF8", kind: Some("InvalidUtf8"), meaning: "Text that is not valid UTF-8." },
    Status {
        code: 5,
        name: "SENTI_ERR_CONFIG",
        kind: Some("Config"),
        meaning: "Training parameters: malformed JSON, unknown field, wrong type or out-of-range value.",
    },
    Status {
        code: 6,
        name: "SENTI_ERR_IO",
        kind: Some("Io"),
        meaning: "The operating system refused a read or a write (missing file, permissions, full disk).",
    },
    Status {
        code: 7,
        name: "SENTI_ERR_DATA",
        kind: Some("Data"),
        meaning: "Labeled data is malformed or unusable (a bad line, an unknown label, one class); the message names the file and the line or entry.",
    },
    Status { code: 8, name: "SENTI_ERR_MODEL_FILE", kind: Some("ModelFile"), meaning: "A model file is damaged, truncated, foreign or of an unsupported version." },
    Status { code: 9, name: "SENTI_ERR_CANCELLED", kind: Some("Cancelled"), meaning: "The progress callback returned nonzero; no model was produced." },
    Status { code: 10, name: "SENTI_ERR_DIVERGED", kind: Some("Diverged"), meaning: "Training diverged (the loss became NaN or infinite); no model was produced." },
    Status { code: 11, name: "SENTI_ERR_RESOURCE_LIMIT", kind: Some("ResourceLimit"), meaning: "The request would need more memory than the library allows itself." },
    Status { code: 12, name: "SENTI_ERR_BUFFER_TOO_SMALL", kind: None, meaning: "A caller-supplied buffer is too small; the needed length was reported." },
    Status { code: 13, name: "SENTI_ERR_INTERNAL", kind: Some("Internal"), meaning: "A bug in the library, including a caught panic. Please report it." },
];

#[cfg(test)]
mod tests {
    use super::STATUSES;

    #[test]
    fn codes_are_unique_consecutive_and_named_by_convention() {
        for (i, s) in STATUSES.iter().enumerate() {
            assert_eq!(s.code, i as i32, "{} breaks the numbering", s.name);
            assert!(s.name == "SENTI_OK" || s.name.starts_with("SENTI_ERR_"), "{}", s.name);
            assert!(!s.meaning.is_empty() && s.meaning.ends_with('.'), "{}: {:?}", s.name, s.meaning);
        }
        let mut kinds: Vec<_> = STATUSES.iter().filter_map(|s| s.kind).collect();
        kinds.sort();
        let n = kinds.len();
        kinds.dedup();
        assert_eq!(kinds.len(), n, "two statuses claim one error kind");
    }
}
