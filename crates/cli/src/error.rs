//! The errors: parse errors (with the caret display) and evaluation failures.

use crate::lexer::Span;
use std::fmt;

/// What went wrong while reading a formula.
#[derive(Clone, Debug, PartialEq)]
pub enum ParseErrorKind {
    /// A character that starts no token.
    UnexpectedChar(char),
    /// A number literal too large for an `f64` (its text).
    BadNumber(String),
    /// Something else was expected here.
    Expected {
        /// What the parser wanted, e.g. "an expression" or "`)`".
        expected: String,
        /// What it found, e.g. "the end of the formula".
        found: String,
    },
    /// A call of a function the language does not have.
    UnknownFunction(String),
    /// A known function called with the wrong number of arguments.
    WrongArgumentCount {
        /// The function.
        function: &'static str,
        /// How many it takes, in words ("1", "at least 1").
        expected: &'static str,
        /// How many it was given.
        found: usize,
    },
    /// Parentheses, unary minuses or powers nested deeper than [`crate::parser::MAX_DEPTH`].
    TooDeep,
}

/// A parse error: what and where. [`ParseError::render`] adds the formula with a caret.
#[derive(Clone, Debug, PartialEq)]
pub struct ParseError {
    /// What went wrong.
    pub kind: ParseErrorKind,
    /// Where (columns from 1).
    pub span: Span,
}

impl ParseError {
    /// An error of `kind` at `span`.
    pub fn new(kind: ParseErrorKind, span: Span) -> Self {
        ParseError { kind, span }
    }

    /// The column the error points at (from 1).
    pub fn column(&self) -> usize {
        self.span.start
    }

    /// Three lines: the message, the formula, and a caret under the column. Characters that
    /// would break the display (control characters) are shown as `?`.
    pub fn render(&self, src: &str) -> String {
        let echo: String = src
            .chars()
            .map(|c| if c.is_control() && c != '\t' { '?' } else { c })
            .collect();
        // Tabs in the echo are kept, so the caret line copies them to stay aligned.
        let pad: String = echo
            .chars()
            .chain(std::iter::repeat(' '))
            .take(self.column() - 1)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        format!("{self}\n  {echo}\n  {pad}^")
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let col = self.column();
        match &self.kind {
            ParseErrorKind::UnexpectedChar(c) => write!(
                f,
                "expected a number, a name, an operator or a parenthesis at column {col}, found {}",
                describe_char(*c)
            ),
            ParseErrorKind::BadNumber(text) => write!(
                f,
                "expected a finite number at column {col}, found {text} (too large for a 64-bit float)"
            ),
            ParseErrorKind::Expected { expected, found } => {
                write!(f, "expected {expected} at column {col}, found {found}")
            }
            ParseErrorKind::UnknownFunction(name) => write!(
                f,
                "expected a known function at column {col}, found `{name}` (the functions: {})",
                crate::ast::Func::NAMES.join(", ")
            ),
            ParseErrorKind::WrongArgumentCount {
                function,
                expected,
                found,
            } => write!(
                f,
                "expected {expected} argument{} to {function} at column {col}, found {found}",
                if expected.ends_with(" 1") || *expected == "1" {
                    ""
                } else {
                    "s"
                }
            ),
            ParseErrorKind::TooDeep => write!(
                f,
                "expected at most {} levels of nesting at column {col}, found more",
                crate::parser::MAX_DEPTH
            ),
        }
    }
}

impl std::error::Error for ParseError {}

fn describe_char(c: char) -> String {
    if c.is_control() || c.is_whitespace() {
        format!("the character U+{:04X}", u32::from(c))
    } else {
        format!("`{c}`")
    }
}

/// Which result of an evaluation went non-finite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// The value itself.
    Value,
    /// The gradient.
    Gradient,
    /// The Hessian.
    Hessian,
}

/// Why a formula could not be evaluated at a point.
#[derive(Clone, Debug, PartialEq)]
pub enum EvalError {
    /// The point has the wrong number of coordinates.
    WrongDimension {
        /// The number of variables.
        expected: usize,
        /// The number of coordinates given.
        found: usize,
    },
    /// A coordinate is NaN or infinite.
    NonFiniteInput {
        /// The variable.
        variable: String,
        /// Its value.
        value: f64,
    },
    /// An operation gave NaN or an infinity from finite arguments (in its value, or in its
    /// gradient or Hessian: the innermost operation whose derivative is not finite while its
    /// arguments' are).
    NonFinite {
        /// The operation: a function's name, or `addition`, `division`, `power`, ...
        op: &'static str,
        /// Its column in the formula (from 1).
        column: usize,
        /// Which result went non-finite.
        stage: Stage,
        /// The non-finite result (for a derivative, its first non-finite entry).
        result: f64,
        /// The operation's arguments at the point.
        arguments: Vec<f64>,
    },
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvalError::WrongDimension { expected, found } => write!(
                f,
                "the formula has {expected} variable(s) but the point has {found} coordinate(s)"
            ),
            EvalError::NonFiniteInput { variable, value } => {
                write!(
                    f,
                    "the variable {variable} is {}, not a finite number",
                    number(*value)
                )
            }
            EvalError::NonFinite {
                op,
                column,
                stage,
                result,
                arguments,
            } => {
                let r#in = match stage {
                    Stage::Value => "",
                    Stage::Gradient => " in its gradient",
                    Stage::Hessian => " in its Hessian",
                };
                let args: Vec<String> = arguments.iter().map(|&a| number(a)).collect();
                let args = match args.len() {
                    0 => String::new(),
                    1 => format!(" (argument {})", args[0]),
                    _ => format!(" (arguments {})", args.join(", ")),
                };
                write!(
                    f,
                    "{op} at column {column} gave {}{in}{args}",
                    number(*result),
                    r#in = r#in
                )
            }
        }
    }
}

impl std::error::Error for EvalError {}

/// A number as messages and reports show it: the shortest digits that read back as the same
/// `f64`, plain (`-1`, `0.25`, `1000.6931471805599`) from `1e-4` to below `1e16` and with an
/// exponent beyond (`1e200`, `2.5e-5`), the thresholds of Rust's `{:?}` (so a formula never
/// prints longer than its `{:?}`-written numbers); `NaN`, `inf`, `-inf`.
pub fn number(x: f64) -> String {
    let a = x.abs();
    if x == 0.0 || !x.is_finite() || (1e-4..1e16).contains(&a) {
        x.to_string()
    } else {
        format!("{x:e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_under_the_column() {
        let e = ParseError::new(
            ParseErrorKind::Expected {
                expected: "an expression".into(),
                found: "the end of the formula".into(),
            },
            Span { start: 5, end: 5 },
        );
        assert_eq!(
            e.render("x + "),
            "expected an expression at column 5, found the end of the formula\n  x + \n      ^"
        );
        // A tab before the column is copied, so the caret stays under it; a newline is shown
        // as `?` so the echo stays one line.
        let e = ParseError::new(
            ParseErrorKind::UnexpectedChar('#'),
            Span { start: 3, end: 4 },
        );
        assert!(e.render("\tx#\n").ends_with("  \tx#?\n  \t ^"));
    }

    #[test]
    fn numbers_read_back() {
        for (x, s) in [
            (-1.0, "-1"),
            (0.25, "0.25"),
            (1e200, "1e200"),
            (-1.5e-7, "-1.5e-7"),
            (123456.5, "123456.5"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-inf"),
            (-0.0, "-0"),
        ] {
            assert_eq!(number(x), s);
            if x.is_finite() {
                assert_eq!(s.parse::<f64>().unwrap().to_bits(), x.to_bits());
            }
        }
    }

    #[test]
    fn numeric_messages() {
        let e = EvalError::NonFinite {
            op: "log",
            column: 1,
            stage: Stage::Value,
            result: f64::NAN,
            arguments: vec![-1.0],
        };
        assert_eq!(e.to_string(), "log at column 1 gave NaN (argument -1)");
        let e = EvalError::NonFinite {
            op: "division",
            column: 2,
            stage: Stage::Gradient,
            result: f64::NEG_INFINITY,
            arguments: vec![1.0, 0.0],
        };
        assert_eq!(
            e.to_string(),
            "division at column 2 gave -inf in its gradient (arguments 1, 0)"
        );
    }
}
