// SPDX-License-Identifier: MIT OR Apache-2.0
//! Every data source, well-formed and malformed, through the public loader.

use std::path::{Path, PathBuf};

use senti::{ErrorKind, Format, Split, data};

struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("senti-data-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn data_error(path: &Path, format: Format, split: Option<Split>) -> String {
    let err = data::load(path, format, split).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Data, "{err}");
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()) || msg.contains("aclImdb"), "error does not name the file: {msg}");
    msg
}

#[test]
fn jsonl_good_and_bad() {
    let s = Scratch::new("jsonl");
    let ok = s.file("ok.jsonl", b"{\"text\": \"fine\", \"label\": 1}\n{\"text\": \"bad\", \"label\": 0}\n");
    let ex = data::load(&ok, Format::Auto, None).unwrap();
    assert_eq!((ex.len(), ex[0].label.as_str(), ex[1].text.as_str()), (2, "1", "bad"));
    assert!(data_error(&s.file("label.jsonl", b"{\"text\": \"a\", \"label\": -3}\n"), Format::Jsonl, None).contains("line 1"));
    assert!(data_error(&s.file("utf8.jsonl", b"{\"text\": \"a\", \"label\": 1}\n{\"text\": \"\xff\", \"label\": 1}\n"), Format::Jsonl, None).contains("line 2"));
    assert!(data_error(&s.file("empty.jsonl", b""), Format::Jsonl, None).contains("no examples"));
    // A JSONL file is one set: asking for a split is a configuration error.
    assert_eq!(data::load(&ok, Format::Jsonl, Some(Split::Test)).unwrap_err().kind(), ErrorKind::Config);
}

#[test]
fn csv_good_and_bad() {
    let s = Scratch::new("csv");
    let ok = s.file("ok.csv", b"label,text\n1,\"good, really\"\n0,awful\n");
    let ex = data::load(&ok, Format::Auto, None).unwrap();
    assert_eq!(ex[0].text, "good, really");
    assert!(data_error(&s.file("label.csv", b"text,label\nok,1\nno,\n"), Format::Csv, None).contains("line 3"));
    assert!(data_error(&s.file("utf8.csv", b"text,label\n\xfe,1\n"), Format::Csv, None).contains("UTF-8"));
    assert!(data_error(&s.file("empty.csv", b""), Format::Csv, None).contains("empty"));
    assert!(data_error(&s.file("header.csv", b"text,label\n"), Format::Csv, None).contains("no examples"));
}

#[test]
fn imdb_json_bad_inputs() {
    let s = Scratch::new("imdbjson");
    assert!(data_error(&s.file("bad.json", b"[{\"t\": \"a\", \"s\": 1}, {\"t\": 5, \"s\": 0}]"), Format::ImdbJson, Some(Split::Train)).contains("entry 1"));
    assert!(data_error(&s.file("empty.json", b""), Format::ImdbJson, Some(Split::Train)).contains("empty.json"));
    assert!(data_error(&s.file("utf8.json", b"[{\"t\": \"\xc3\", \"s\": 1}]"), Format::ImdbJson, Some(Split::Train)).contains("UTF-8"));
    // Well-formed but not the 50,000-entry layout the split is recovered from.
    assert!(data_error(&s.file("short.json", b"[{\"t\": \"a\", \"s\": 1}]"), Format::ImdbJson, Some(Split::Test)).contains("50000"));
    // Without a split an IMDB source is ambiguous.
    assert_eq!(data::load(&s.0.join("short.json"), Format::ImdbJson, None).unwrap_err().kind(), ErrorKind::Config);
}

#[test]
fn imdb_json_real_file_splits() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/imdb/reviews.json");
    let train = data::load(&path, Format::Auto, Some(Split::Train)).unwrap();
    let test = data::load(&path, Format::Auto, Some(Split::Test)).unwrap();
    assert_eq!((train.len(), test.len()), (25_000, 25_000));
    assert_eq!(train.iter().filter(|e| e.label == "positive").count(), 12_500);
    assert_eq!(test.iter().filter(|e| e.label == "positive").count(), 12_500);
    // train/pos opens with this review in the original corpus.
    assert!(train[12_500].text.starts_with("Bromwell High is a cartoon comedy"));
}

#[test]
fn aclimdb_folder() {
    let s = Scratch::new("acl");
    for split in ["train", "test"] {
        s.file(&format!("aclImdb/{split}/pos/10_9.txt"), b"Loved it.");
        s.file(&format!("aclImdb/{split}/pos/2_8.txt"), b"Great<br />fun.");
        s.file(&format!("aclImdb/{split}/neg/0_1.txt"), b"Hated it.");
    }
    s.file("aclImdb/train/unsup/0_0.txt", b"ignored");
    // Both the folder and its parent work; files come in numeric id order.
    for root in [s.0.join("aclImdb"), s.0.clone()] {
        let train = data::load(&root, Format::Auto, Some(Split::Train)).unwrap();
        let texts: Vec<&str> = train.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(texts, ["Hated it.", "Great<br />fun.", "Loved it."]);
        assert_eq!(train.iter().map(|e| e.label.as_str()).collect::<Vec<_>>(), ["negative", "positive", "positive"]);
    }
    s.file("aclImdb/test/neg/5_2.txt", b"");
    assert!(data_error(&s.0, Format::Aclimdb, Some(Split::Test)).contains("5_2.txt"));
    s.file("aclImdb/test/neg/5_2.txt", b"\xff\xfe");
    assert!(data_error(&s.0, Format::Aclimdb, Some(Split::Test)).contains("UTF-8"));
    std::fs::remove_dir_all(s.0.join("aclImdb/train/neg")).unwrap();
    assert!(data_error(&s.0, Format::Aclimdb, Some(Split::Train)).contains("missing folder"));
}

#[test]
fn special_files_are_refused_without_reading() {
    for path in ["/dev/zero", "/dev/null"] {
        let err = data::load(Path::new(path), Format::Jsonl, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io, "{err}");
        assert!(err.to_string().contains("not a regular file"), "{err}");
    }
}

#[test]
fn missing_paths_are_io_errors() {
    let err = data::load(Path::new("/nonexistent/x.jsonl"), Format::Auto, None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert!(err.to_string().contains("/nonexistent/x.jsonl"));
}

#[test]
fn class_folders_with_and_without_splits() {
    let s = Scratch::new("folders");
    s.file("flat/sports/1.txt", b"A late goal won the match.");
    s.file("flat/sports/2.txt", b"The team lost again.");
    s.file("flat/business/a.txt", b"Shares fell on the news.");
    s.file("flat/politics/x.txt", b"The vote was close.");
    s.file("flat/politics/notes.md", b"not read");
    s.file("flat/.hidden/y.txt", b"not read");
    let flat = data::load(&s.0.join("flat"), Format::Auto, None).unwrap();
    let labels: Vec<&str> = flat.iter().map(|e| e.label.as_str()).collect();
    assert_eq!(labels, ["business", "politics", "sports", "sports"]);
    assert!(flat[3].origin.to_string().ends_with("sports/2.txt"));
    // With train/ and test/, a split must be chosen, and each split has its own classes.
    for split in ["train", "test"] {
        s.file(&format!("split/{split}/neutral/1.txt"), b"It was a film.");
        s.file(&format!("split/{split}/positive/1.txt"), b"Loved it.");
    }
    s.file("split/train/negative/1.txt", b"Hated it.");
    assert_eq!(data::load(&s.0.join("split"), Format::Auto, Some(Split::Train)).unwrap().len(), 3);
    assert_eq!(data::load(&s.0.join("split"), Format::Folders, Some(Split::Test)).unwrap().len(), 2);
    assert_eq!(data::load(&s.0.join("split"), Format::Auto, None).unwrap_err().kind(), ErrorKind::Config);
    assert_eq!(data::load(&s.0.join("flat"), Format::Auto, Some(Split::Test)).unwrap_err().kind(), ErrorKind::Config);
    s.file("flat/sports/3.txt", b"  ");
    assert!(data_error(&s.0.join("flat"), Format::Folders, None).contains("3.txt"));
    std::fs::create_dir_all(s.0.join("empty/none")).unwrap();
    assert!(data_error(&s.0.join("empty"), Format::Folders, None).contains("no .txt files"));
}

#[test]
fn string_and_integer_labels_in_jsonl_and_csv() {
    let s = Scratch::new("labels");
    let j = s.file("stars.jsonl", b"{\"text\": \"a\", \"label\": 5}\n{\"text\": \"b\", \"label\": \"neutral\"}\n");
    let ex = data::load(&j, Format::Auto, None).unwrap();
    assert_eq!((ex[0].label.as_str(), ex[1].label.as_str()), ("5", "neutral"));
    let c = s.file("topics.csv", b"text,label\n\"x, y\",\"world news\"\nz,3\n");
    let ex = data::load(&c, Format::Auto, None).unwrap();
    assert_eq!((ex[0].label.as_str(), ex[1].label.as_str()), ("world news", "3"));
    assert!(ex[1].origin.to_string().ends_with("topics.csv: line 3"));
}
