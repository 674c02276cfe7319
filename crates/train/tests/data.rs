//! The loaders: the bundled files' shapes, label ranges and first rows, and the error messages
//! for malformed input (file and line).

use nabla_train::data::{
    Dataset, Standardizer, breast_cancer, digits, load_breast_cancer_from, load_digits_from,
};

#[test]
fn digits_shape_labels_and_first_row() {
    let d = digits().unwrap();
    assert_eq!((d.rows(), d.features, d.classes), (1797, 64, 10));
    assert_eq!(d.x.len(), 1797 * 64);
    // The class counts of the UCI test set (as scikit-learn's load_digits gives them).
    let mut counts = [0usize; 10];
    d.y.iter().for_each(|&l| counts[l] += 1);
    assert_eq!(counts, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
    assert!(
        d.x.iter()
            .all(|&v| (0.0..=16.0).contains(&v) && v.fract() == 0.0)
    );
    let first: Vec<f64> = [
        0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0, 0, 3, 15, 2, 0, 11, 8, 0, 0, 4, 12, 0,
        0, 8, 8, 0, 0, 5, 8, 0, 0, 9, 8, 0, 0, 4, 11, 0, 1, 12, 7, 0, 0, 2, 14, 5, 10, 12, 0, 0, 0,
        0, 6, 13, 10, 0, 0, 0,
    ]
    .map(f64::from)
    .to_vec();
    assert_eq!(d.row(0), &first[..]);
    assert_eq!(d.y[0], 0);
    assert_eq!(d.y[1796], 8);
}

#[test]
fn breast_cancer_shape_labels_and_first_row() {
    let d = breast_cancer().unwrap();
    assert_eq!((d.rows(), d.features, d.classes), (569, 30, 2));
    assert_eq!(d.class_names, ["malignant", "benign"]);
    assert_eq!(d.y.iter().filter(|&&l| l == 0).count(), 212);
    assert_eq!(d.y.iter().filter(|&&l| l == 1).count(), 357);
    let r = d.row(0);
    assert_eq!((r[0], r[1], r[2], r[3]), (17.99, 10.38, 122.8, 1001.0));
    assert_eq!((r[28], r[29]), (0.4601, 0.1189));
    assert_eq!(d.y[0], 0);
}

#[test]
fn errors_name_the_file_and_line() {
    let good = "0,".repeat(64) + "3\n";
    // Line 2 has one field too few.
    let text = format!("{good}{}3\n", "0,".repeat(63));
    let e = load_digits_from(text.as_bytes(), "d.csv").unwrap_err();
    assert_eq!((e.file.as_str(), e.line), ("d.csv", Some(2)));
    assert!(
        e.to_string()
            .starts_with("d.csv, line 2: expected 65 fields"),
        "{e}"
    );

    let text = format!("{good}{good}{}x,3\n", "0,".repeat(63));
    let e = load_digits_from(text.as_bytes(), "d.csv").unwrap_err();
    assert_eq!(e.line, Some(3));
    assert!(
        e.message.contains("column 64") && e.message.contains("not a number"),
        "{e}"
    );

    let text = format!("{}10\n", "0,".repeat(64));
    let e = load_digits_from(text.as_bytes(), "d.csv").unwrap_err();
    assert!(e.message.contains("label 10 out of range"), "{e}");

    let text = format!("{good}{}17,3\n", "0,".repeat(63));
    let e = load_digits_from(text.as_bytes(), "d.csv").unwrap_err();
    assert_eq!(e.line, Some(2));
    assert!(e.message.contains("outside 0..=16"), "{e}");

    assert_eq!(
        load_digits_from(&b""[..], "empty.csv")
            .unwrap_err()
            .to_string(),
        "empty.csv: no rows"
    );

    let e = load_breast_cancer_from(&b"2,1,a,b\n0.5,1\n"[..], "bc.csv").unwrap_err();
    assert_eq!(
        e.to_string(),
        "bc.csv: the header announces 2 rows but 1 follow"
    );
    let e = load_breast_cancer_from(&b"2,1,a,b\n0.5,1\n0.25,2\n"[..], "bc.csv").unwrap_err();
    assert_eq!(e.line, Some(3));
    let e = load_breast_cancer_from(&b"rows,1,a,b\n"[..], "bc.csv").unwrap_err();
    assert_eq!(e.line, Some(1));
    let ok = load_breast_cancer_from(&b"2,1,a,b\n0.5,1\n-0.25,0\n"[..], "bc.csv").unwrap();
    assert_eq!((ok.x, ok.y), (vec![0.5, -0.25], vec![1, 0]));
}

#[test]
fn standardizer_uses_the_fitted_split() {
    let d = Dataset {
        x: vec![1.0, 10.0, 3.0, 10.0],
        y: vec![0, 1],
        features: 2,
        classes: 2,
        class_names: vec![],
    };
    let s = Standardizer::fit(&d);
    assert_eq!(
        (s.mean.clone(), s.std.clone()),
        (vec![2.0, 10.0], vec![1.0, 1.0])
    );
    let other = Dataset {
        x: vec![4.0, 12.0],
        y: vec![0],
        ..d.clone()
    };
    assert_eq!(s.apply(&other).x, vec![2.0, 2.0]);
    assert_eq!(s.apply(&d).x, vec![-1.0, 0.0, 1.0, 0.0]);
}
