//! Tokenizer for the expression language: bytes in, tokens with byte spans out.
//!
//! Errors carry the offset of the offending character and, where a common
//! mistake is recognisable (`&&`, `||`, `!`, `=`, `?:`, `~`), a hint.

use super::{ExprError, ExprFix};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Tok {
    Int(i64),
    Float(f64),
    /// A string literal; its decoded value is `Tokens::strings[i]`.
    Str(usize),
    /// An identifier or keyword; the text is `src[start..end]`.
    Word,
    LParen,
    RParen,
    LBrack,
    RBrack,
    LBrace,
    RBrace,
    Comma,
    Colon,
    Dot,
    Pipe,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    EqEq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    End,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

fn err(offset: usize, len: usize, message: impl Into<String>, hint: Option<&str>) -> ExprError {
    ExprError {
        offset,
        len,
        message: message.into(),
        hint: hint.map(str::to_owned),
        fix: None,
    }
}

/// The tokens of an expression and the decoded values of its string literals.
#[derive(Debug, Default)]
pub struct Tokens {
    pub tokens: Vec<Token>,
    pub strings: Vec<String>,
    /// The first lexical error; the tokens stop there.
    pub error: Option<ExprError>,
}

/// Splits `src` into tokens. The last token is always `Tok::End`: at
/// `src.len()`, or at the offset of the first lexical error, which is kept in
/// `error` so that the parser can report an earlier problem first (a filter
/// `x | map(attribute='a')` is reported at its `|`, not at the `=`).
pub fn tokenize(src: &str) -> Tokens {
    let mut t = Tokens {
        tokens: Vec::with_capacity(src.len() / 3 + 2),
        strings: Vec::new(),
        error: None,
    };
    let end = match lex(src, &mut t.tokens, &mut t.strings) {
        Ok(()) => src.len(),
        Err(e) => {
            let at = e.offset;
            t.error = Some(e);
            at
        }
    };
    t.tokens.push(Token {
        tok: Tok::End,
        start: end,
        end,
    });
    t
}

fn lex(src: &str, out: &mut Vec<Token>, strings: &mut Vec<String>) -> Result<(), ExprError> {
    let b = src.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let two = |n: u8| b.get(i + 1) == Some(&n);
        let (tok, len) = match c {
            b'(' => (Tok::LParen, 1),
            b')' => (Tok::RParen, 1),
            b'[' => (Tok::LBrack, 1),
            b']' => (Tok::RBrack, 1),
            b'{' => (Tok::LBrace, 1),
            b'}' => (Tok::RBrace, 1),
            b',' => (Tok::Comma, 1),
            b':' => (Tok::Colon, 1),
            b'.' => (Tok::Dot, 1),
            b'+' => (Tok::Plus, 1),
            b'-' => (Tok::Minus, 1),
            b'*' if two(b'*') => {
                return Err(err(
                    i,
                    2,
                    "the power operator '**' is not supported",
                    Some("multiply explicitly, e.g. x * x"),
                ));
            }
            b'*' => (Tok::Star, 1),
            b'/' if two(b'/') => {
                return Err(err(
                    i,
                    2,
                    "the floor-division operator '//' is not supported",
                    Some("use floor(a / b)"),
                ));
            }
            b'/' => (Tok::Slash, 1),
            b'%' => (Tok::Percent, 1),
            b'=' if two(b'=') => (Tok::EqEq, 2),
            b'=' => {
                return Err(err(
                    i,
                    1,
                    "unexpected '='",
                    Some("use '==' to compare; assignment and keyword arguments are not supported"),
                ));
            }
            b'!' if two(b'=') => (Tok::Ne, 2),
            b'!' => {
                let mut e = err(i, 1, "unexpected '!'", Some("use 'not' to negate"));
                e.fix = Some(Box::new(ExprFix::new(i, 1, "not ")));
                return Err(e);
            }
            b'<' if two(b'=') => (Tok::Le, 2),
            b'<' => (Tok::Lt, 1),
            b'>' if two(b'=') => (Tok::Ge, 2),
            b'>' => (Tok::Gt, 1),
            b'|' if two(b'|') => {
                let mut e = err(i, 2, "unexpected '||'", Some("use 'or'"));
                e.fix = Some(Box::new(ExprFix::new(i, 2, " or ")));
                return Err(e);
            }
            b'|' => (Tok::Pipe, 1),
            b'&' if two(b'&') => {
                let mut e = err(i, 2, "unexpected '&&'", Some("use 'and'"));
                e.fix = Some(Box::new(ExprFix::new(i, 2, " and ")));
                return Err(e);
            }
            b'?' => {
                return Err(err(
                    i,
                    1,
                    "the conditional operator '?:' is not supported",
                    Some("use two tasks or a `next` entry with a `when` condition"),
                ));
            }
            b'~' => {
                return Err(err(
                    i,
                    1,
                    "the '~' operator is not supported",
                    Some("join strings with '+', e.g. string(a) + string(b)"),
                ));
            }
            b'\'' | b'"' => {
                let (s, len) = lex_string(src, i)?;
                strings.push(s);
                (Tok::Str(strings.len() - 1), len)
            }
            b'0'..=b'9' => lex_number(src, i)?,
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                let mut j = i + 1;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                    j += 1;
                }
                (Tok::Word, j - i)
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                return Err(err(
                    i,
                    ch.len_utf8(),
                    format!("unexpected character '{}'", ch.escape_debug()),
                    None,
                ));
            }
        };
        i += len;
        out.push(Token { tok, start, end: i });
    }
    Ok(())
}

/// Lexes a quoted string starting at `start`; returns the value and the
/// number of bytes consumed (quotes included). Unknown escapes are kept as
/// written (`'C:\data'` stays `C:\data`), as in Jinja.
fn lex_string(src: &str, start: usize) -> Result<(String, usize), ExprError> {
    let bytes = src.as_bytes();
    let quote = bytes[start];
    let mut out = String::new();
    let mut chars = src[start + 1..].char_indices();
    while let Some((k, c)) = chars.next() {
        let at = start + 1 + k;
        match c {
            c if c as u32 == quote as u32 => return Ok((out, at + 1 - start)),
            '\\' => {
                let Some((_, e)) = chars.next() else { break };
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    '0' => out.push('\0'),
                    '\\' => out.push('\\'),
                    '\'' => out.push('\''),
                    '"' => out.push('"'),
                    'u' => {
                        let hex = src.get(at + 2..at + 6).unwrap_or("");
                        let value = if hex.len() == 4 && hex.bytes().all(|h| h.is_ascii_hexdigit())
                        {
                            u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
                        } else {
                            None
                        };
                        match value {
                            Some(ch) => {
                                out.push(ch);
                                for _ in 0..4 {
                                    chars.next();
                                }
                            }
                            None => {
                                return Err(err(
                                    at,
                                    2,
                                    "invalid unicode escape",
                                    Some("write \\u followed by four hex digits, e.g. \\u00e9"),
                                ));
                            }
                        }
                    }
                    other => {
                        out.push('\\');
                        out.push(other);
                    }
                }
            }
            c => out.push(c),
        }
    }
    Err(err(
        start,
        1,
        "unterminated string",
        Some(if quote == b'\'' {
            "close the string with '"
        } else {
            "close the string with \""
        }),
    ))
}

fn lex_number(src: &str, start: usize) -> Result<(Tok, usize), ExprError> {
    let b = src.as_bytes();
    let digits = |mut j: usize| {
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        j
    };
    let mut j = digits(start);
    let mut is_float = false;
    if b.get(j) == Some(&b'.') && b.get(j + 1).is_some_and(u8::is_ascii_digit) {
        is_float = true;
        j = digits(j + 1);
    }
    if matches!(b.get(j), Some(b'e' | b'E')) {
        let mut k = j + 1;
        if matches!(b.get(k), Some(b'+' | b'-')) {
            k += 1;
        }
        if b.get(k).is_some_and(u8::is_ascii_digit) {
            is_float = true;
            j = digits(k);
        }
    }
    if b.get(j)
        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
    {
        return Err(err(
            start,
            j + 1 - start,
            "invalid number",
            Some("separate the number from the name that follows it"),
        ));
    }
    let text = &src[start..j];
    let tok = if is_float {
        match text.parse::<f64>() {
            Ok(x) if x.is_finite() => Tok::Float(x),
            _ => return Err(err(start, j - start, "number out of range", None)),
        }
    } else {
        match text.parse::<i64>() {
            Ok(x) => Tok::Int(x),
            Err(_) => {
                return Err(err(
                    start,
                    j - start,
                    "integer too large",
                    Some("integers must fit in 64 bits"),
                ));
            }
        }
    };
    Ok((tok, j - start))
}
