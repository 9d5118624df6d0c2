//! Recursive-descent (precedence-climbing) parser for the expression language.
//!
//! Precedence, loosest first: `or` < `and` < `not` < comparisons and `in` /
//! `not in` < `+ -` < `* / %` < unary `-` < postfix (`.name`, `[i]`, `(args)`).
//! Binary operators are left-associative; comparisons do not chain (`a < b < c`
//! is `(a < b) < c`).
//!
//! Two limits keep every later tree walk (checks, folding, printing, drop)
//! safe from stack overflow: nesting while parsing (parentheses, brackets,
//! unary chains) and the height of the finished tree are both capped at
//! [`MAX_DEPTH`]; beyond that the input is refused as "expression nested too
//! deeply".

use super::ast::{
    BinOp, Expr, ExprKind, Ident, PREC_ADD, PREC_AND, PREC_CMP, PREC_MUL, PREC_NOT, PREC_OR, Span,
    UnaryOp,
};
use super::lexer::{Tok, Token, Tokens, tokenize};
use super::{ExprError, ExprFix};

/// Maximum nesting depth and tree height of an expression.
pub const MAX_DEPTH: usize = 128;

/// Parses one expression (the text between `{{` and `}}`).
pub fn parse(src: &str) -> Result<Expr, ExprError> {
    let Tokens {
        tokens,
        strings,
        error,
    } = tokenize(src);
    let mut p = Parser {
        src,
        tokens,
        strings,
        pos: 0,
        nest: 0,
    };
    let parsed = p.parse_all();
    match (parsed, error) {
        (Ok(e), None) => Ok(e),
        // The parser ran into the end of the tokens where lexing failed; an
        // earlier parse error is the first problem in the text.
        (Err(pe), Some(le)) if pe.offset < le.offset => Err(pe),
        (_, Some(le)) => Err(le),
        (Err(pe), None) => Err(pe),
    }
}

struct Parser<'a> {
    src: &'a str,
    tokens: Vec<Token>,
    strings: Vec<String>,
    pos: usize,
    nest: usize,
}

/// A node and its height.
type P = (Expr, usize);

fn too_deep(offset: usize, len: usize) -> ExprError {
    ExprError {
        offset,
        len,
        message: "expression nested too deeply".into(),
        hint: Some(format!(
            "split the expression; at most {MAX_DEPTH} levels of nesting are allowed"
        )),
        fix: None,
    }
}

fn node(kind: ExprKind, start: usize, end: usize) -> Expr {
    Expr {
        kind,
        span: Span::new(start, end),
    }
}

impl<'a> Parser<'a> {
    fn parse_all(&mut self) -> Result<Expr, ExprError> {
        if self.peek().tok == Tok::End {
            return Err(ExprError {
                offset: 0,
                len: self.src.len(),
                message: "empty expression".into(),
                hint: Some("write an expression between '{{' and '}}'".into()),
                fix: None,
            });
        }
        let (expr, _) = self.expr()?;
        let t = self.peek();
        if t.tok != Tok::End {
            return Err(self.trailing_error(&t));
        }
        Ok(expr)
    }

    fn peek(&self) -> Token {
        self.peek_at(0)
    }

    /// The token `n` places ahead; past the end, the final `End` token.
    fn peek_at(&self, n: usize) -> Token {
        let last = self.tokens.len().saturating_sub(1);
        self.tokens
            .get((self.pos + n).min(last))
            .copied()
            .unwrap_or(Token {
                tok: Tok::End,
                start: self.src.len(),
                end: self.src.len(),
            })
    }

    fn bump(&mut self) -> Token {
        let t = self.peek();
        if t.tok != Tok::End {
            self.pos += 1;
        }
        t
    }

    fn text(&self, t: &Token) -> &'a str {
        self.src.get(t.start..t.end).unwrap_or("")
    }

    fn is_word(&self, t: &Token, w: &str) -> bool {
        t.tok == Tok::Word && self.text(t) == w
    }

    fn describe(&self, t: &Token) -> String {
        match t.tok {
            Tok::End => "the end of the expression".into(),
            Tok::Word => format!("'{}'", self.text(t)),
            _ => format!("'{}'", self.text(t)),
        }
    }

    fn error_at(&self, t: &Token, message: String, hint: Option<String>) -> ExprError {
        ExprError {
            offset: t.start,
            len: t.end - t.start,
            message,
            hint,
            fix: None,
        }
    }

    fn enter(&mut self, t: &Token) -> Result<(), ExprError> {
        self.nest += 1;
        if self.nest > MAX_DEPTH {
            return Err(too_deep(t.start, t.end - t.start));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.nest -= 1;
    }

    fn expect(&mut self, tok: Tok, what: &str) -> Result<Token, ExprError> {
        let t = self.peek();
        if t.tok == tok {
            Ok(self.bump())
        } else {
            Err(self.error_at(
                &t,
                format!("expected {what}, found {}", self.describe(&t)),
                None,
            ))
        }
    }

    fn expr(&mut self) -> Result<P, ExprError> {
        let t = self.peek();
        self.enter(&t)?;
        let r = self.binary(PREC_OR);
        self.leave();
        r
    }

    /// The binary operator at the cursor: (operator, precedence, tokens used).
    fn peek_binop(&self) -> Option<(BinOp, u8, usize)> {
        let t = self.peek();
        let op = match t.tok {
            Tok::EqEq => (BinOp::Eq, PREC_CMP, 1),
            Tok::Ne => (BinOp::Ne, PREC_CMP, 1),
            Tok::Lt => (BinOp::Lt, PREC_CMP, 1),
            Tok::Gt => (BinOp::Gt, PREC_CMP, 1),
            Tok::Le => (BinOp::Le, PREC_CMP, 1),
            Tok::Ge => (BinOp::Ge, PREC_CMP, 1),
            Tok::Plus => (BinOp::Add, PREC_ADD, 1),
            Tok::Minus => (BinOp::Sub, PREC_ADD, 1),
            Tok::Star => (BinOp::Mul, PREC_MUL, 1),
            Tok::Slash => (BinOp::Div, PREC_MUL, 1),
            Tok::Percent => (BinOp::Mod, PREC_MUL, 1),
            Tok::Word => match self.text(&t) {
                "or" => (BinOp::Or, PREC_OR, 1),
                "and" => (BinOp::And, PREC_AND, 1),
                "in" => (BinOp::In, PREC_CMP, 1),
                "not" if self.is_word(&self.peek_at(1), "in") => (BinOp::NotIn, PREC_CMP, 2),
                _ => return None,
            },
            _ => return None,
        };
        Some(op)
    }

    fn binary(&mut self, min: u8) -> Result<P, ExprError> {
        let first = self.peek();
        let (mut lhs, mut h) = if min <= PREC_NOT && self.is_word(&first, "not") {
            self.bump();
            self.enter(&first)?;
            let r = self.binary(PREC_NOT);
            self.leave();
            let (e, h) = r?;
            let end = e.span.end;
            (
                node(ExprKind::Unary(UnaryOp::Not, Box::new(e)), first.start, end),
                h + 1,
            )
        } else {
            self.unary()?
        };
        while let Some((op, prec, ntok)) = self.peek_binop() {
            if prec < min {
                break;
            }
            let op_tok = self.peek();
            for _ in 0..ntok {
                self.bump();
            }
            let (rhs, rh) = self.binary(prec + 1)?;
            h = h.max(rh) + 1;
            if h > MAX_DEPTH {
                return Err(too_deep(op_tok.start, op_tok.end - op_tok.start));
            }
            let (start, end) = (lhs.span.start, rhs.span.end);
            lhs = node(
                ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
                start,
                end,
            );
        }
        Ok((lhs, h))
    }

    fn unary(&mut self) -> Result<P, ExprError> {
        let t = self.peek();
        if t.tok == Tok::Minus {
            self.bump();
            self.enter(&t)?;
            let r = self.unary();
            self.leave();
            let (e, h) = r?;
            let end = e.span.end;
            return Ok((
                node(ExprKind::Unary(UnaryOp::Neg, Box::new(e)), t.start, end),
                h + 1,
            ));
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Result<P, ExprError> {
        let (mut e, mut h) = self.primary()?;
        loop {
            let t = self.peek();
            let start = e.span.start;
            match t.tok {
                Tok::Dot => {
                    self.bump();
                    let name = self.peek();
                    if name.tok != Tok::Word {
                        let hint = matches!(name.tok, Tok::Int(_) | Tok::Float(_))
                            .then(|| "use indexing for list items, e.g. a[0]".to_string());
                        return Err(self.error_at(
                            &name,
                            format!("expected a name after '.', found {}", self.describe(&name)),
                            hint,
                        ));
                    }
                    self.bump();
                    let field = Ident {
                        name: self.text(&name).to_string(),
                        span: Span::new(name.start, name.end),
                    };
                    e = node(ExprKind::Member(Box::new(e), field), start, name.end);
                }
                Tok::LBrack => {
                    self.bump();
                    let (index, ih) = self.expr()?;
                    h = h.max(ih);
                    let close = self.expect(Tok::RBrack, "']'")?;
                    e = node(
                        ExprKind::Index(Box::new(e), Box::new(index)),
                        start,
                        close.end,
                    );
                }
                Tok::LParen => {
                    self.bump();
                    let (args, ah, close) = self.sequence(Tok::RParen, "')'")?;
                    h = h.max(ah);
                    e = node(ExprKind::Call(Box::new(e), args), start, close.end);
                }
                Tok::Pipe => return Err(self.filter_error(&e, &t)),
                _ => break,
            }
            h += 1;
            if h > MAX_DEPTH {
                return Err(too_deep(t.start, t.end - t.start));
            }
        }
        Ok((e, h))
    }

    /// Comma-separated expressions up to `close` (a trailing comma is allowed).
    fn sequence(&mut self, close: Tok, what: &str) -> Result<(Vec<Expr>, usize, Token), ExprError> {
        let mut items = Vec::new();
        let mut h = 0;
        loop {
            if self.peek().tok == close {
                break;
            }
            let (e, eh) = self.expr()?;
            h = h.max(eh);
            items.push(e);
            let t = self.peek();
            if t.tok == Tok::Comma {
                self.bump();
            } else if t.tok != close {
                return Err(self.error_at(
                    &t,
                    format!("expected ',' or {what}, found {}", self.describe(&t)),
                    None,
                ));
            }
        }
        let end = self.bump();
        Ok((items, h, end))
    }

    fn primary(&mut self) -> Result<P, ExprError> {
        let t = self.peek();
        let leaf = |kind| Ok((node(kind, t.start, t.end), 1));
        match &t.tok {
            Tok::Int(i) => {
                let i = *i;
                self.bump();
                leaf(ExprKind::Int(i))
            }
            Tok::Float(x) => {
                let x = *x;
                self.bump();
                leaf(ExprKind::Float(x))
            }
            Tok::Str(i) => {
                let s = self
                    .strings
                    .get_mut(*i)
                    .map(std::mem::take)
                    .unwrap_or_default();
                self.bump();
                leaf(ExprKind::Str(s))
            }
            Tok::Word => {
                let kind = match self.text(&t) {
                    "true" | "True" => ExprKind::Bool(true),
                    "false" | "False" => ExprKind::Bool(false),
                    "null" | "None" => ExprKind::Null,
                    w @ ("and" | "or" | "not" | "in" | "is" | "if" | "else") => {
                        return Err(self.error_at(
                            &t,
                            format!("expected an expression, found keyword '{w}'"),
                            None,
                        ));
                    }
                    w => ExprKind::Name(w.to_string()),
                };
                self.bump();
                leaf(kind)
            }
            Tok::LParen => {
                self.bump();
                let (e, h) = self.expr()?;
                self.expect(Tok::RParen, "')'")?;
                // Parentheses only group: the node keeps its own span.
                Ok((e, h))
            }
            Tok::LBrack => {
                self.bump();
                let (items, h, close) = self.sequence(Tok::RBrack, "']'")?;
                Ok((node(ExprKind::List(items), t.start, close.end), h + 1))
            }
            Tok::LBrace => {
                self.bump();
                let (entries, h, close) = self.map_body()?;
                Ok((node(ExprKind::Map(entries), t.start, close.end), h + 1))
            }
            _ => Err(self.error_at(
                &t,
                format!("expected an expression, found {}", self.describe(&t)),
                None,
            )),
        }
    }

    #[allow(clippy::type_complexity)]
    fn map_body(&mut self) -> Result<(Vec<(Expr, Expr)>, usize, Token), ExprError> {
        let mut entries = Vec::new();
        let mut h = 0;
        loop {
            if self.peek().tok == Tok::RBrace {
                break;
            }
            let (k, kh) = self.expr()?;
            self.expect(Tok::Colon, "':' after the map key")?;
            let (v, vh) = self.expr()?;
            h = h.max(kh).max(vh);
            entries.push((k, v));
            let t = self.peek();
            if t.tok == Tok::Comma {
                self.bump();
            } else if t.tok != Tok::RBrace {
                return Err(self.error_at(
                    &t,
                    format!("expected ',' or '}}', found {}", self.describe(&t)),
                    None,
                ));
            }
        }
        let end = self.bump();
        Ok((entries, h, end))
    }

    /// `x | name(args) | …`: Jinja filters are not supported. The hint
    /// gives the whole chain in function form, with the edit, or says
    /// plainly which filter has no equivalent ([`super::filters`]).
    fn filter_error(&self, operand: &Expr, pipe: &Token) -> ExprError {
        let (hint, fix) = super::filters::proposal(self.src, operand.span, pipe.start);
        ExprError {
            offset: pipe.start,
            len: 1,
            message: "unexpected '|': jinja filters are not supported".into(),
            hint: Some(hint),
            fix: fix.map(Box::new),
        }
    }

    fn trailing_error(&self, t: &Token) -> ExprError {
        let (message, hint) = match t.tok {
            Tok::Word if self.text(t) == "if" => (
                "conditional expressions ('a if c else b') are not supported".to_string(),
                Some("use a `when` condition on the task or a `next` entry".to_string()),
            ),
            Tok::Word if self.text(t) == "is" => (
                "jinja tests ('x is defined') are not supported".to_string(),
                Some("compare explicitly, e.g. x != null".to_string()),
            ),
            Tok::Word if self.text(t) == "not" => {
                let mut e = self.error_at(
                    t,
                    "unexpected 'not'".to_string(),
                    Some("did you mean 'not in'?".to_string()),
                );
                e.fix = Some(Box::new(ExprFix::new(t.start, t.end - t.start, "not in")));
                return e;
            }
            Tok::RParen | Tok::RBrack | Tok::RBrace => (
                format!("unmatched {}", self.describe(t)),
                Some("remove it or add the opening bracket".to_string()),
            ),
            _ => (
                format!(
                    "expected an operator or the end of the expression, found {}",
                    self.describe(t)
                ),
                None,
            ),
        };
        self.error_at(t, message, hint)
    }
}
