//! The parser: tokens to an [`Expr`] by recursive descent, one function per precedence level.
//!
//! ```text
//! formula = expr END
//! expr    = term { ("+" | "-") term }
//! term    = unary { ("*" | "/") unary }
//! unary   = "-" unary | power
//! power   = primary [ "^" unary ]
//! primary = NUMBER | "pi" | VARIABLE | FUNCTION "(" expr { "," expr } ")" | "(" expr ")"
//! ```

use crate::ast::{BinOp, Expr, Func, Kind, Node, NodeId};
use crate::error::{ParseError, ParseErrorKind};
use crate::lexer::{Span, Tok, Token, lex};

/// The deepest nesting accepted (parentheses, calls, unary minuses and exponents all count),
/// so that no input can exhaust the stack.
pub const MAX_DEPTH: usize = 200;

/// Parses a formula.
///
/// # Errors
/// A [`ParseError`] naming what was expected and where.
pub fn parse(src: &str) -> Result<Expr, ParseError> {
    let tokens = lex(src)?;
    let mut p = Parser {
        tokens,
        pos: 0,
        depth: 0,
        expr: Expr {
            nodes: Vec::new(),
            variables: Vec::new(),
        },
    };
    p.expr()?;
    p.expect_end()?;
    Ok(p.expr)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
    expr: Expr,
}

impl Parser {
    fn peek(&self) -> &Token {
        // `lex` ends every list with `End`, and nothing moves past it.
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if t.tok != Tok::End {
            self.pos += 1;
        }
        t
    }

    fn push(&mut self, kind: Kind, span: Span) -> NodeId {
        self.expr.nodes.push(Node { kind, span });
        self.expr.nodes.len() - 1
    }

    fn expected(&self, what: &str) -> ParseError {
        let t = self.peek();
        ParseError::new(
            ParseErrorKind::Expected {
                expected: what.to_string(),
                found: t.tok.describe(),
            },
            t.span,
        )
    }

    fn expect_end(&self) -> Result<(), ParseError> {
        if self.peek().tok == Tok::End {
            Ok(())
        } else {
            Err(self.expected("an operator or the end of the formula"))
        }
    }

    /// `expr = term { ("+" | "-") term }`
    fn expr(&mut self) -> Result<NodeId, ParseError> {
        let mut left = self.term()?;
        loop {
            let op = match self.peek().tok {
                Tok::Plus => BinOp::Add,
                Tok::Minus => BinOp::Sub,
                _ => return Ok(left),
            };
            let span = self.bump().span;
            let right = self.term()?;
            left = self.push(Kind::Bin(op, [left, right]), span);
        }
    }

    /// `term = unary { ("*" | "/") unary }`
    fn term(&mut self) -> Result<NodeId, ParseError> {
        let mut left = self.unary()?;
        loop {
            let op = match self.peek().tok {
                Tok::Star => BinOp::Mul,
                Tok::Slash => BinOp::Div,
                _ => return Ok(left),
            };
            let span = self.bump().span;
            let right = self.unary()?;
            left = self.push(Kind::Bin(op, [left, right]), span);
        }
    }

    /// `unary = "-" unary | power`. Every recursion of the grammar passes through here, so
    /// this is where the depth is bounded.
    fn unary(&mut self) -> Result<NodeId, ParseError> {
        if self.depth >= MAX_DEPTH {
            return Err(ParseError::new(ParseErrorKind::TooDeep, self.peek().span));
        }
        self.depth += 1;
        let r = if self.peek().tok == Tok::Minus {
            let span = self.bump().span;
            self.unary().map(|a| self.push(Kind::Neg(a), span))
        } else {
            self.power()
        };
        self.depth -= 1;
        r
    }

    /// `power = primary [ "^" unary ]`: right-associative, and its exponent may carry a unary
    /// minus (`2^-x`), while `-x^2` is `-(x^2)`.
    fn power(&mut self) -> Result<NodeId, ParseError> {
        let base = self.primary()?;
        if self.peek().tok != Tok::Caret {
            return Ok(base);
        }
        let span = self.bump().span;
        let exponent = self.unary()?;
        Ok(self.push(Kind::Bin(BinOp::Pow, [base, exponent]), span))
    }

    /// `primary = NUMBER | "pi" | VARIABLE | FUNCTION "(" args ")" | "(" expr ")"`
    fn primary(&mut self) -> Result<NodeId, ParseError> {
        let t = self.peek().clone();
        match t.tok {
            Tok::Num(v) => {
                self.bump();
                Ok(self.push(Kind::Num(v), t.span))
            }
            Tok::LParen => {
                self.bump();
                let inner = self.expr()?;
                if self.peek().tok != Tok::RParen {
                    return Err(self.expected("an operator or `)`"));
                }
                self.bump();
                Ok(inner)
            }
            Tok::Ident(name) => {
                self.bump();
                let call = self.peek().tok == Tok::LParen;
                match (Func::from_name(&name), call) {
                    (Some(f), true) => self.call(f, t.span),
                    (Some(f), false) => {
                        Err(self.expected(&format!("`(` after the function {}", f.name())))
                    }
                    (None, true) => Err(ParseError::new(
                        ParseErrorKind::UnknownFunction(name),
                        t.span,
                    )),
                    (None, false) if name == "pi" => Ok(self.push(Kind::Pi, t.span)),
                    (None, false) => {
                        let vars = &mut self.expr.variables;
                        let i = vars.iter().position(|v| *v == name).unwrap_or_else(|| {
                            vars.push(name);
                            vars.len() - 1
                        });
                        Ok(self.push(Kind::Var(i), t.span))
                    }
                }
            }
            _ => Err(self.expected("an expression")),
        }
    }

    /// The arguments of a call of `f` (named at `span`), from its `(`.
    fn call(&mut self, f: Func, span: Span) -> Result<NodeId, ParseError> {
        self.bump(); // `(`
        let mut args = Vec::new();
        if self.peek().tok != Tok::RParen {
            loop {
                args.push(self.expr()?);
                match self.peek().tok {
                    Tok::Comma => {
                        self.bump();
                    }
                    Tok::RParen => break,
                    _ => return Err(self.expected("an operator, `,` or `)`")),
                }
            }
        }
        self.bump(); // `)`
        if !f.accepts(args.len()) {
            return Err(ParseError::new(
                ParseErrorKind::WrongArgumentCount {
                    function: f.name(),
                    expected: f.arity(),
                    found: args.len(),
                },
                span,
            ));
        }
        Ok(self.push(Kind::Call(f, args), span))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tree as an s-expression: `(op a b)`, numbers and names as themselves.
    fn sexp(src: &str) -> String {
        let e = parse(src).unwrap_or_else(|err| panic!("{src}: {err}"));
        let mut out: Vec<String> = Vec::new();
        for node in &e.nodes {
            let s = match &node.kind {
                Kind::Num(v) => v.to_string(),
                Kind::Pi => "pi".into(),
                Kind::Var(i) => e.variables[*i].clone(),
                Kind::Neg(a) => format!("(neg {})", out[*a]),
                Kind::Bin(op, [a, b]) => format!("({} {} {})", op.symbol(), out[*a], out[*b]),
                Kind::Call(f, args) => {
                    let a: Vec<&str> = args.iter().map(|&i| out[i].as_str()).collect();
                    format!("({} {})", f.name(), a.join(" "))
                }
            };
            out.push(s);
        }
        out.pop().expect("a root")
    }

    fn err(src: &str) -> (ParseErrorKind, usize) {
        let e = parse(src).expect_err(src);
        (e.kind.clone(), e.column())
    }

    fn expected(what: &str, found: &str) -> ParseErrorKind {
        ParseErrorKind::Expected {
            expected: what.into(),
            found: found.into(),
        }
    }

    #[test]
    fn precedence() {
        assert_eq!(sexp("-x^2"), "(neg (^ x 2))");
        assert_eq!(sexp("2^3^2"), "(^ 2 (^ 3 2))");
        assert_eq!(sexp("x/y/z"), "(/ (/ x y) z)");
        assert_eq!(sexp("x-y-z"), "(- (- x y) z)");
        assert_eq!(sexp("x+y*z"), "(+ x (* y z))");
        assert_eq!(sexp("x*y+z"), "(+ (* x y) z)");
        assert_eq!(sexp("-x*y"), "(* (neg x) y)");
        assert_eq!(sexp("x*-y"), "(* x (neg y))");
        assert_eq!(sexp("2^-x"), "(^ 2 (neg x))");
        assert_eq!(sexp("2^-3^2"), "(^ 2 (neg (^ 3 2)))");
        assert_eq!(sexp("(-x)^2"), "(^ (neg x) 2)");
        assert_eq!(sexp("--x"), "(neg (neg x))");
        assert_eq!(sexp("x^2*y"), "(* (^ x 2) y)");
        assert_eq!(sexp("(x+y)*z"), "(* (+ x y) z)");
        assert_eq!(sexp("a - -b"), "(- a (neg b))");
    }

    #[test]
    fn atoms_and_calls() {
        assert_eq!(sexp("pi"), "pi");
        assert_eq!(sexp("1e-3 + 0.5"), "(+ 0.001 0.5)");
        assert_eq!(sexp("exp(x)^2"), "(^ (exp x) 2)");
        assert_eq!(sexp("logsumexp(x, 2*y, z)"), "(logsumexp x (* 2 y) z)");
        assert_eq!(sexp("logsumexp(x)"), "(logsumexp x)");
        assert_eq!(
            sexp("sigmoid(softplus(abs(x_1)))"),
            "(sigmoid (softplus (abs x_1)))"
        );
    }

    #[test]
    fn variables_in_order_of_first_appearance() {
        let e = parse("y * x + y^z2 - x").unwrap();
        assert_eq!(e.variables, ["y", "x", "z2"]);
        assert!(parse("2 + pi").unwrap().variables.is_empty());
    }

    #[test]
    fn spans_point_at_operators_and_names() {
        let e = parse("x + log(y)").unwrap();
        let root = &e.nodes[e.root()];
        assert_eq!((root.span.start, root.span.end), (3, 4));
        let call = e
            .nodes
            .iter()
            .find(|n| matches!(n.kind, Kind::Call(..)))
            .unwrap();
        assert_eq!((call.span.start, call.span.end), (5, 8));
    }

    #[test]
    fn every_error_kind_with_its_column() {
        let end = "the end of the formula";
        assert_eq!(err(""), (expected("an expression", end), 1));
        assert_eq!(err("x +"), (expected("an expression", end), 4));
        assert_eq!(err("x * )"), (expected("an expression", "`)`"), 5));
        assert_eq!(err("(x + 1"), (expected("an operator or `)`", end), 7));
        assert_eq!(
            err("x y"),
            (expected("an operator or the end of the formula", "`y`"), 3)
        );
        assert_eq!(
            err("x)"),
            (expected("an operator or the end of the formula", "`)`"), 2)
        );
        assert_eq!(
            err("2 3"),
            (
                expected("an operator or the end of the formula", "the number 3"),
                3
            )
        );
        assert_eq!(
            err("exp + 1"),
            (expected("`(` after the function exp", "`+`"), 5)
        );
        assert_eq!(
            err("logsumexp(x y)"),
            (expected("an operator, `,` or `)`", "`y`"), 13)
        );
        assert_eq!(err("logsumexp(x,)"), (expected("an expression", "`)`"), 13));
        assert_eq!(
            err("1 + foo(x)"),
            (ParseErrorKind::UnknownFunction("foo".into()), 5)
        );
        assert_eq!(
            err("pi(2)"),
            (ParseErrorKind::UnknownFunction("pi".into()), 1)
        );
        assert_eq!(
            err("x + exp(x, y)"),
            (
                ParseErrorKind::WrongArgumentCount {
                    function: "exp",
                    expected: "1",
                    found: 2
                },
                5
            )
        );
        assert_eq!(
            err("logsumexp()"),
            (
                ParseErrorKind::WrongArgumentCount {
                    function: "logsumexp",
                    expected: "at least 1",
                    found: 0
                },
                1
            )
        );
        assert_eq!(err("x $ 2"), (ParseErrorKind::UnexpectedChar('$'), 3));
        assert_eq!(err("1e400"), (ParseErrorKind::BadNumber("1e400".into()), 1));
        let deep = format!("{}x{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert_eq!(err(&deep), (ParseErrorKind::TooDeep, MAX_DEPTH + 1));
        let ok = format!(
            "{}x{}",
            "(".repeat(MAX_DEPTH - 1),
            ")".repeat(MAX_DEPTH - 1)
        );
        assert!(parse(&ok).is_ok());
        assert_eq!(
            err(&"-".repeat(100_000)),
            (ParseErrorKind::TooDeep, MAX_DEPTH + 1)
        );
        assert_eq!(err(&"2^".repeat(100_000)).0, ParseErrorKind::TooDeep);
    }

    #[test]
    fn messages() {
        let e = parse("x + exp(x, y)").unwrap_err();
        assert_eq!(
            e.to_string(),
            "expected 1 argument to exp at column 5, found 2"
        );
        let e = parse("logsumexp()").unwrap_err();
        assert_eq!(
            e.to_string(),
            "expected at least 1 argument to logsumexp at column 1, found 0"
        );
    }

    #[test]
    fn long_flat_formulas_are_fine() {
        // Left-associative chains build no recursion: 100,000 terms parse, print and drop.
        let src = vec!["x"; 100_000].join("+");
        let e = parse(&src).unwrap();
        assert_eq!(e.nodes.len(), 199_999);
        assert_eq!(e.to_string().len(), src.len() + 2 * 99_999);
    }
}
