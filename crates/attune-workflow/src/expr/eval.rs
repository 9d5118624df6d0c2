//! Constant folding: evaluates an expression that uses no names and no calls.
//!
//! Used by `constant_condition` to spot a `when` that is always true or always
//! false. Anything that depends on run-time data (a name, a call, a member
//! access) or fails (type mismatch, division by zero, overflow) yields `None`:
//! folding never guesses. Truthiness follows Jinja/Python: `false`, `null`,
//! `0`, `0.0`, `''`, `[]` and `{}` are false, everything else is true.

use super::ast::{BinOp, Expr, ExprKind, UnaryOp};

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Value>),
    Map(Vec<(Value, Value)>),
}

impl Value {
    pub fn truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(x) => *x != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.is_empty(),
        }
    }

    fn num(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(x) => Some(*x),
            Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            _ => None,
        }
    }

    fn int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Bool(b) => Some(i64::from(*b)),
            _ => None,
        }
    }
}

fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| equal(p, q))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.iter().any(|(k2, v2)| equal(k, k2) && equal(v, v2)))
        }
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Null, Value::Null) => true,
        _ => match (a.num(), b.num()) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
    }
}

fn ordering(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        _ => a.num()?.partial_cmp(&b.num()?),
    }
}

/// Evaluates `e` if it is a constant expression.
pub fn eval(e: &Expr) -> Option<Value> {
    Some(match &e.kind {
        ExprKind::Null => Value::Null,
        ExprKind::Bool(b) => Value::Bool(*b),
        ExprKind::Int(i) => Value::Int(*i),
        ExprKind::Float(x) => Value::Float(*x),
        ExprKind::Str(s) => Value::Str(s.clone()),
        ExprKind::List(items) => Value::List(items.iter().map(eval).collect::<Option<_>>()?),
        ExprKind::Map(entries) => Value::Map(
            entries
                .iter()
                .map(|(k, v)| Some((eval(k)?, eval(v)?)))
                .collect::<Option<_>>()?,
        ),
        ExprKind::Name(_) | ExprKind::Member(..) | ExprKind::Call(..) => return None,
        ExprKind::Index(base, index) => {
            let base = eval(base)?;
            let index = eval(index)?;
            match (base, index) {
                (Value::List(l), Value::Int(i)) => {
                    let len = i64::try_from(l.len()).ok()?;
                    let i = if i < 0 { i.checked_add(len)? } else { i };
                    l.into_iter().nth(usize::try_from(i).ok()?)?
                }
                (Value::Map(m), k) => m.into_iter().find(|(key, _)| equal(key, &k))?.1,
                _ => return None,
            }
        }
        ExprKind::Unary(UnaryOp::Not, x) => Value::Bool(!eval(x)?.truthy()),
        ExprKind::Unary(UnaryOp::Neg, x) => match eval(x)? {
            Value::Int(i) => Value::Int(i.checked_neg()?),
            Value::Float(f) => Value::Float(-f),
            _ => return None,
        },
        ExprKind::Binary(op, l, r) => {
            let l = eval(l)?;
            match op {
                BinOp::And => return if l.truthy() { eval(r) } else { Some(l) },
                BinOp::Or => return if l.truthy() { Some(l) } else { eval(r) },
                _ => {}
            }
            let r = eval(r)?;
            binary(*op, l, r)?
        }
    })
}

fn binary(op: BinOp, l: Value, r: Value) -> Option<Value> {
    use std::cmp::Ordering::*;
    Some(match op {
        BinOp::Eq => Value::Bool(equal(&l, &r)),
        BinOp::Ne => Value::Bool(!equal(&l, &r)),
        BinOp::Lt => Value::Bool(ordering(&l, &r)? == Less),
        BinOp::Gt => Value::Bool(ordering(&l, &r)? == Greater),
        BinOp::Le => Value::Bool(ordering(&l, &r)? != Greater),
        BinOp::Ge => Value::Bool(ordering(&l, &r)? != Less),
        BinOp::In | BinOp::NotIn => {
            let found = match (&l, &r) {
                (Value::Str(needle), Value::Str(hay)) => hay.contains(needle.as_str()),
                (x, Value::List(items)) => items.iter().any(|i| equal(x, i)),
                (x, Value::Map(entries)) => entries.iter().any(|(k, _)| equal(x, k)),
                _ => return None,
            };
            Value::Bool(found == (op == BinOp::In))
        }
        BinOp::Add => match (l, r) {
            (Value::Str(a), Value::Str(b)) => Value::Str(a + &b),
            (Value::List(mut a), Value::List(b)) => {
                a.extend(b);
                Value::List(a)
            }
            (a, b) => arith(op, &a, &b)?,
        },
        BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => arith(op, &l, &r)?,
        BinOp::And | BinOp::Or => return None,
    })
}

fn arith(op: BinOp, l: &Value, r: &Value) -> Option<Value> {
    if op != BinOp::Div
        && let (Some(a), Some(b)) = (l.int(), r.int())
    {
        return Some(Value::Int(match op {
            BinOp::Add => a.checked_add(b)?,
            BinOp::Sub => a.checked_sub(b)?,
            BinOp::Mul => a.checked_mul(b)?,
            BinOp::Mod => {
                if b == 0 {
                    return None;
                }
                a.checked_rem(b)?.checked_add(b)?.checked_rem(b)?
            }
            _ => return None,
        }));
    }
    let (a, b) = (l.num()?, r.num()?);
    let x = match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::Div => {
            if b == 0.0 {
                return None;
            }
            a / b
        }
        BinOp::Mod => {
            if b == 0.0 {
                return None;
            }
            a - b * (a / b).floor()
        }
        _ => return None,
    };
    x.is_finite().then_some(Value::Float(x))
}
