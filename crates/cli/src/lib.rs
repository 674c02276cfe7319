//! # nabla-cli
//!
//! The `nabla` command and the formula language it reads: a formula is parsed into a syntax
//! tree, compiled to a [`nabla_graph`] graph in `f64`, and differentiated there. Values,
//! gradients and Hessians that come out NaN or infinite are traced to the operation (and its
//! column) that produced them.
//!
//! ```
//! use nabla_cli::Formula;
//! // The guide's exercise 3: the gradient of log(e^x + e^y) is the softmax of (x, y).
//! let f = Formula::parse("log(exp(x) + exp(y))").unwrap();
//! assert_eq!(f.variables(), ["x", "y"]);
//! let d = f.gradient(&[0.0, 2f64.ln()]).unwrap();
//! assert!((d.value - 3f64.ln()).abs() < 1e-15);
//! assert!((d.gradient[0] - 1.0 / 3.0).abs() < 1e-15 && (d.gradient[1] - 2.0 / 3.0).abs() < 1e-15);
//!
//! // Exercise 4: x^2 y + x y^2 has a zero Hessian at the origin.
//! let h = Formula::parse("x^2*y + x*y^2").unwrap().hessian(&[0.0, 0.0]).unwrap();
//! assert_eq!(h.hessian, Some(vec![0.0; 4]));
//!
//! // Errors say what was expected and where; numeric failures name the operation.
//! let e = Formula::parse("2 * (x + 1").unwrap_err();
//! assert_eq!(e.to_string(), "expected an operator or `)` at column 11, found the end of the formula");
//! let e = Formula::parse("log(x)").unwrap().value(&[-1.0]).unwrap_err();
//! assert_eq!(e.to_string(), "log at column 1 gave NaN (argument -1)");
//! ```
//!
//! ## The formula language
//!
//! ```text
//! formula  = expr END
//! expr     = term { ("+" | "-") term }
//! term     = unary { ("*" | "/") unary }
//! unary    = "-" unary | power
//! power    = primary [ "^" unary ]
//! primary  = NUMBER | "pi" | VARIABLE | FUNCTION "(" expr { "," expr } ")" | "(" expr ")"
//! NUMBER   = DIGITS [ "." [ DIGITS ] ] [ EXPONENT ] | "." DIGITS [ EXPONENT ]
//! EXPONENT = ("e" | "E") [ "+" | "-" ] DIGITS
//! VARIABLE = LETTER { LETTER | DIGIT | "_" }      (not "pi", not a function's name)
//! FUNCTION = "exp" | "log" | "sqrt" | "sin" | "cos" | "tanh" | "sigmoid" | "softplus" | "abs"
//!          | "logsumexp"
//! ```
//!
//! Spaces and tabs separate tokens. Every function takes one argument except `logsumexp`, which
//! takes one or more; `log` is the natural logarithm. Variables are ordered by first
//! appearance.
//!
//! | precedence | operators | associativity | example |
//! |---|---|---|---|
//! | 1 (loosest) | `+` `-` | left | `x - y - z` is `(x - y) - z` |
//! | 2 | `*` `/` | left | `x / y / z` is `(x / y) / z` |
//! | 3 | unary `-` | prefix | `-x * y` is `(-x) * y` |
//! | 4 (tightest) | `^` | right | `-x^2` is `-(x^2)`; `2^3^2` is `2^9 = 512`; `2^-1` is `0.5` |
//!
//! Columns count characters from 1. Nesting (parentheses, calls, unary minus, exponents) is
//! limited to [`parser::MAX_DEPTH`] levels, so no input exhausts the stack.
//!
//! ## Numerics
//!
//! Evaluation is in `f64` with the stable forms: `softplus(x) = max(x, 0) + log1p(e^-|x|)`
//! (`softplus(-50)` is `1.9287e-22` to full relative accuracy) and `logsumexp` shifted by its
//! largest argument (`logsumexp(1000*x, 1000*y)` at `(1, 1)` is `1000 + ln 2`). A constant
//! integer exponent uses `powi` (`(-2)^3 = -8`, exact derivatives), another constant exponent
//! `powf`, and a variable exponent `exp(b log a)`, which needs a positive base.
//!
//! ## Modules
//! [`lexer`] (text to tokens), [`parser`] (tokens to [`ast::Expr`]), [`compile`] (the tree to
//! graph operations), [`formula`] (values and derivatives at a point, with failures traced),
//! [`error`], [`cli`] (the command line) and [`commands`] (running it).

pub mod ast;
pub mod cli;
pub mod commands;
pub mod compile;
pub mod error;
pub mod formula;
pub mod glyphs;
pub mod lexer;
pub mod parser;
pub mod plot;
pub mod search;
pub mod tour;

pub use error::{EvalError, ParseError, Stage};
pub use formula::{Derivatives, Formula};
