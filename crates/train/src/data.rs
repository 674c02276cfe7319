//! The two bundled data sets and their CSV loaders.
//!
//! Both files ship in `crates/train/data/` (see the `README.md` there for sources and the
//! CC BY 4.0 licence) and are compiled into the library with `include_bytes!`, so nothing is
//! read from outside the crate at run time; [`load_digits_from`] and
//! [`load_breast_cancer_from`] read the same formats from any reader (for other copies, and for
//! the tests of the error messages).
//!
//! The digits are stored gzip-compressed as distributed (57 KB instead of 265 KB of CSV) and
//! inflated with `flate2`'s pure-Rust backend: the file stays byte-identical to its source and
//! the repository small, for one small dependency.

use flate2::read::GzDecoder;
use std::fmt;
use std::io::Read;

/// The digits file as shipped (gzip-compressed CSV).
pub const DIGITS_GZ: &[u8] = include_bytes!("../data/digits.csv.gz");
/// The breast-cancer file as shipped (CSV with a one-line header).
pub const BREAST_CANCER_CSV: &[u8] = include_bytes!("../data/breast_cancer.csv");

/// A labelled data set: `rows x features` values, row-major, and one class label per row.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// The feature values, row-major (`rows * features` entries).
    pub x: Vec<f64>,
    /// One class label per row, each `< classes`.
    pub y: Vec<usize>,
    /// Features per row.
    pub features: usize,
    /// The number of classes (labels are `0..classes`).
    pub classes: usize,
    /// The class names, where the file gives them (empty otherwise).
    pub class_names: Vec<String>,
}

impl Dataset {
    /// The number of rows.
    pub fn rows(&self) -> usize {
        self.y.len()
    }

    /// Row `i`'s features.
    ///
    /// # Panics
    /// If `i >= self.rows()`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.features..(i + 1) * self.features]
    }

    /// The rows at `indices`, in that order (a split or a mini-batch).
    ///
    /// # Panics
    /// If an index is out of range.
    pub fn select(&self, indices: &[usize]) -> Dataset {
        let mut x = Vec::with_capacity(indices.len() * self.features);
        for &i in indices {
            x.extend_from_slice(self.row(i));
        }
        Dataset {
            x,
            y: indices.iter().map(|&i| self.y[i]).collect(),
            features: self.features,
            classes: self.classes,
            class_names: self.class_names.clone(),
        }
    }

    /// Every feature multiplied by `factor` (the digits' `1/16` puts pixels in `[0, 1]`).
    pub fn scaled(mut self, factor: f64) -> Dataset {
        self.x.iter_mut().for_each(|v| *v *= factor);
        self
    }
}

/// A data file that could not be read: which file, which line (1-based, where known), and what
/// was wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataError {
    /// The file's name as given to the loader.
    pub file: String,
    /// The 1-based line of the offending record, or `None` for errors of the whole file.
    pub line: Option<u64>,
    /// What was wrong.
    pub message: String,
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}, line {line}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for DataError {}

fn error(file: &str, line: Option<u64>, message: impl Into<String>) -> DataError {
    DataError {
        file: file.to_string(),
        line,
        message: message.into(),
    }
}

/// Parses the records of a header-less CSV whose rows are `features` numbers then an integer
/// label below `classes`. `first_line` is the file line of the first record (for messages).
fn parse_rows(
    reader: impl Read,
    file: &str,
    features: usize,
    classes: usize,
    first_line: u64,
) -> Result<(Vec<f64>, Vec<usize>), DataError> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(reader);
    let (mut x, mut y) = (Vec::new(), Vec::new());
    let mut record = csv::StringRecord::new();
    loop {
        match csv.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map(|p| p.line() + first_line - 1);
                return Err(error(file, line, format!("unreadable CSV: {e}")));
            }
        }
        let line = record.position().map(|p| p.line() + first_line - 1);
        if record.len() != features + 1 {
            return Err(error(
                file,
                line,
                format!(
                    "expected {} fields ({features} features and a label), found {}",
                    features + 1,
                    record.len()
                ),
            ));
        }
        for (col, field) in record.iter().take(features).enumerate() {
            let v: f64 = field.trim().parse().map_err(|_| {
                error(
                    file,
                    line,
                    format!("column {}: {field:?} is not a number", col + 1),
                )
            })?;
            if !v.is_finite() {
                return Err(error(
                    file,
                    line,
                    format!("column {}: {field:?} is not finite", col + 1),
                ));
            }
            x.push(v);
        }
        let label = &record[features];
        let l: usize = label.trim().parse().map_err(|_| {
            error(
                file,
                line,
                format!("label {label:?} is not a non-negative integer"),
            )
        })?;
        if l >= classes {
            return Err(error(
                file,
                line,
                format!("label {l} out of range (classes are 0..{classes})"),
            ));
        }
        y.push(l);
    }
    Ok((x, y))
}

/// Reads the digits format: no header, each row 64 integers `0..=16` (an 8x8 image, row-major)
/// then the label `0..=9`. `file` names the source in error messages.
///
/// # Errors
/// A [`DataError`] naming the file and line of the first bad record: wrong field count, a value
/// that is not a number or lies outside `0..=16`, a label outside `0..=9`; or no rows at all.
pub fn load_digits_from(reader: impl Read, file: &str) -> Result<Dataset, DataError> {
    let (x, y) = parse_rows(reader, file, 64, 10, 1)?;
    if let Some(i) = x.iter().position(|v| !(0.0..=16.0).contains(v)) {
        return Err(error(
            file,
            Some((i / 64) as u64 + 1),
            format!("column {}: pixel {} outside 0..=16", i % 64 + 1, x[i]),
        ));
    }
    if y.is_empty() {
        return Err(error(file, None, "no rows"));
    }
    Ok(Dataset {
        x,
        y,
        features: 64,
        classes: 10,
        class_names: (0..10).map(|d| d.to_string()).collect(),
    })
}

/// Reads the breast-cancer format: a header `rows,features,name0,name1`, then `rows` rows of
/// `features` real numbers followed by the class `0` or `1`. `file` names the source in error
/// messages.
///
/// # Errors
/// A [`DataError`] naming the file and line: a malformed header, a bad record (as
/// [`load_digits_from`]), or a row count that differs from the header's.
pub fn load_breast_cancer_from(reader: impl Read, file: &str) -> Result<Dataset, DataError> {
    let mut reader = std::io::BufReader::new(reader);
    let mut header = String::new();
    std::io::BufRead::read_line(&mut reader, &mut header)
        .map_err(|e| error(file, Some(1), format!("unreadable header: {e}")))?;
    let fields: Vec<&str> = header.trim().split(',').collect();
    let bad_header = || {
        error(
            file,
            Some(1),
            format!(
                "header {:?} is not `rows,features,class0,class1`",
                header.trim()
            ),
        )
    };
    let [rows, features, c0, c1] = fields[..] else {
        return Err(bad_header());
    };
    let rows: usize = rows.parse().map_err(|_| bad_header())?;
    let features: usize = features.parse().map_err(|_| bad_header())?;
    let (x, y) = parse_rows(reader, file, features, 2, 2)?;
    if y.len() != rows {
        return Err(error(
            file,
            None,
            format!("the header announces {rows} rows but {} follow", y.len()),
        ));
    }
    Ok(Dataset {
        x,
        y,
        features,
        classes: 2,
        class_names: vec![c0.to_string(), c1.to_string()],
    })
}

/// The bundled UCI handwritten digits: 1797 rows of 64 pixels `0..=16`, labels `0..=9`.
///
/// # Errors
/// As [`load_digits_from`] (not expected for the bundled file, which the tests read).
pub fn digits() -> Result<Dataset, DataError> {
    load_digits_from(GzDecoder::new(DIGITS_GZ), "digits.csv.gz")
}

/// The bundled Wisconsin diagnostic breast-cancer data: 569 rows of 30 features, class
/// 0 = malignant, 1 = benign.
///
/// # Errors
/// As [`load_breast_cancer_from`] (not expected for the bundled file, which the tests read).
pub fn breast_cancer() -> Result<Dataset, DataError> {
    load_breast_cancer_from(BREAST_CANCER_CSV, "breast_cancer.csv")
}

/// Per-feature mean and standard deviation, fitted on one split and applied to any: the
/// test split is standardized with the training split's statistics.
#[derive(Clone, Debug, PartialEq)]
pub struct Standardizer {
    /// Each feature's mean.
    pub mean: Vec<f64>,
    /// Each feature's (population) standard deviation; 1 where the feature is constant.
    pub std: Vec<f64>,
}

impl Standardizer {
    /// Fits on `data`'s rows.
    ///
    /// # Panics
    /// If `data` has no rows.
    pub fn fit(data: &Dataset) -> Standardizer {
        let (n, d) = (data.rows(), data.features);
        assert!(n > 0, "Standardizer::fit on no rows");
        let mut mean = vec![0.0; d];
        for i in 0..n {
            mean.iter_mut().zip(data.row(i)).for_each(|(m, v)| *m += v);
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        let mut var = vec![0.0; d];
        for i in 0..n {
            for ((s, v), m) in var.iter_mut().zip(data.row(i)).zip(&mean) {
                *s += (v - m) * (v - m);
            }
        }
        let std = var
            .into_iter()
            .map(|s| {
                let sd = (s / n as f64).sqrt();
                if sd > 0.0 { sd } else { 1.0 }
            })
            .collect();
        Standardizer { mean, std }
    }

    /// `(x - mean) / std` for every row of `data`.
    ///
    /// # Panics
    /// If `data` has a different number of features.
    pub fn apply(&self, data: &Dataset) -> Dataset {
        assert_eq!(
            data.features,
            self.mean.len(),
            "Standardizer: feature count"
        );
        let mut out = data.clone();
        for row in out.x.chunks_exact_mut(data.features) {
            for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.std) {
                *v = (*v - m) / s;
            }
        }
        out
    }
}
