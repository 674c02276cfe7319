//! The lexer: formula text to tokens, each with the columns it spans.

use crate::error::{ParseError, ParseErrorKind};

/// Columns `start..end` of the formula, counted in characters from 1 (`end` exclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// The first column.
    pub start: usize,
    /// One past the last column.
    pub end: usize,
}

impl Span {
    /// The columns from `self`'s start to `other`'s end.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start,
            end: other.end,
        }
    }
}

/// What a token is.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    /// A number literal, with its value (finite, not negative).
    Num(f64),
    /// A name: a variable, a function or `pi`.
    Ident(String),
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `*`
    Star,
    /// `/`
    Slash,
    /// `^`
    Caret,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `,`
    Comma,
    /// The end of the formula.
    End,
}

impl Tok {
    /// How an error message names this token.
    pub fn describe(&self) -> String {
        match self {
            Tok::Num(v) => format!("the number {v}"),
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Plus => "`+`".into(),
            Tok::Minus => "`-`".into(),
            Tok::Star => "`*`".into(),
            Tok::Slash => "`/`".into(),
            Tok::Caret => "`^`".into(),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::Comma => "`,`".into(),
            Tok::End => "the end of the formula".into(),
        }
    }
}

/// A token and its columns.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    /// What it is.
    pub tok: Tok,
    /// Where it is.
    pub span: Span,
}

/// Splits `src` into tokens, ending with [`Tok::End`]. Spaces and tabs separate tokens.
///
/// # Errors
/// [`ParseErrorKind::UnexpectedChar`] for a character that starts no token,
/// [`ParseErrorKind::BadNumber`] for a literal too large for an `f64`.
pub fn lex(src: &str) -> Result<Vec<Token>, ParseError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        let single = |tok: Tok| Token {
            tok,
            span: Span {
                start: col,
                end: col + 1,
            },
        };
        match c {
            ' ' | '\t' => i += 1,
            '+' | '-' | '*' | '/' | '^' | '(' | ')' | ',' => {
                out.push(single(match c {
                    '+' => Tok::Plus,
                    '-' => Tok::Minus,
                    '*' => Tok::Star,
                    '/' => Tok::Slash,
                    '^' => Tok::Caret,
                    '(' => Tok::LParen,
                    ')' => Tok::RParen,
                    _ => Tok::Comma,
                }));
                i += 1;
            }
            c if c.is_ascii_digit() || (c == '.' && next_is_digit(&chars, i + 1)) => {
                let end = number_end(&chars, i);
                let text: String = chars[i..end].iter().collect();
                let span = Span {
                    start: col,
                    end: end + 1,
                };
                // The scanned text is always a valid float literal; it can only be too large.
                match text.parse::<f64>() {
                    Ok(v) if v.is_finite() => out.push(Token {
                        tok: Tok::Num(v),
                        span,
                    }),
                    _ => {
                        return Err(ParseError::new(ParseErrorKind::BadNumber(text), span));
                    }
                }
                i = end;
            }
            c if c.is_ascii_alphabetic() => {
                let mut end = i + 1;
                while end < chars.len() && (chars[end].is_ascii_alphanumeric() || chars[end] == '_')
                {
                    end += 1;
                }
                out.push(Token {
                    tok: Tok::Ident(chars[i..end].iter().collect()),
                    span: Span {
                        start: col,
                        end: end + 1,
                    },
                });
                i = end;
            }
            c => {
                return Err(ParseError::new(
                    ParseErrorKind::UnexpectedChar(c),
                    Span {
                        start: col,
                        end: col + 1,
                    },
                ));
            }
        }
    }
    let end = chars.len() + 1;
    out.push(Token {
        tok: Tok::End,
        span: Span { start: end, end },
    });
    Ok(out)
}

fn next_is_digit(chars: &[char], i: usize) -> bool {
    chars.get(i).is_some_and(|c| c.is_ascii_digit())
}

/// The end of the number starting at `i`: `digits [. digits] [e [+-] digits]` (or `. digits
/// ...`). An `e` not followed by digits is not part of the number.
fn number_end(chars: &[char], mut i: usize) -> usize {
    while next_is_digit(chars, i) {
        i += 1;
    }
    if chars.get(i) == Some(&'.') {
        i += 1;
        while next_is_digit(chars, i) {
            i += 1;
        }
    }
    if matches!(chars.get(i), Some('e' | 'E')) {
        let sign = usize::from(matches!(chars.get(i + 1), Some('+' | '-')));
        if next_is_digit(chars, i + 1 + sign) {
            i += 1 + sign;
            while next_is_digit(chars, i) {
                i += 1;
            }
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn numbers() {
        assert_eq!(toks("2"), [Tok::Num(2.0), Tok::End]);
        assert_eq!(toks("0.5"), [Tok::Num(0.5), Tok::End]);
        assert_eq!(toks("1e-3"), [Tok::Num(1e-3), Tok::End]);
        assert_eq!(toks("2.5E+2"), [Tok::Num(250.0), Tok::End]);
        assert_eq!(toks(".25"), [Tok::Num(0.25), Tok::End]);
        assert_eq!(toks("3."), [Tok::Num(3.0), Tok::End]);
        // An `e` without digits is a name: `2e` is 2 then `e`.
        assert_eq!(
            toks("2ex"),
            [Tok::Num(2.0), Tok::Ident("ex".into()), Tok::End]
        );
        assert_eq!(
            toks("1e+"),
            [Tok::Num(1.0), Tok::Ident("e".into()), Tok::Plus, Tok::End]
        );
    }

    #[test]
    fn spans_count_characters_from_one() {
        let t = lex("  foo_1 +\t2.5").unwrap();
        assert_eq!(t[0].span, Span { start: 3, end: 8 });
        assert_eq!(t[1].span, Span { start: 9, end: 10 });
        assert_eq!(t[2].span, Span { start: 11, end: 14 });
        assert_eq!(t[3].span, Span { start: 14, end: 14 });
        // Characters, not bytes.
        let e = lex("é").unwrap_err();
        assert_eq!(
            (e.kind, e.span.start),
            (ParseErrorKind::UnexpectedChar('é'), 1)
        );
    }

    #[test]
    fn errors() {
        let e = lex("x + 1e999").unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::BadNumber("1e999".into()));
        assert_eq!(e.span, Span { start: 5, end: 10 });
        let e = lex("x # y").unwrap_err();
        assert_eq!(
            (e.kind, e.span.start),
            (ParseErrorKind::UnexpectedChar('#'), 3)
        );
    }
}
