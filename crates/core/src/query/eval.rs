//! The query evaluator: walks an [`Expr`] in a [`Scope`], with PHP's comparison, arithmetic
//! and truthiness rules, and hands member access to [`super::methods`].

use std::cmp::Ordering;
use std::sync::Arc;

use super::parse::{Expr, Lit};
use super::{FileRef, Model, QueryError, Scope, Val, methods};
use crate::Snapshot;
use crate::model::File;

/// A content field: its owner, its (lowercase) key and its value (`None` when the model
/// has no such field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldVal {
    pub owner: Option<Model>,
    pub key: String,
    pub value: Option<String>,
}

/// The file a [`FileRef`] points at.
pub(crate) fn file(snap: &Snapshot, f: FileRef) -> &File {
    &snap.files_of(f.parent)[f.idx]
}

/// Closure arguments bound while a closure body runs.
pub(crate) type Locals<'l> = &'l [(String, Val)];

pub(crate) fn eval(scope: &Scope<'_>, expr: &Expr, locals: Locals<'_>) -> Result<Val, QueryError> {
    Ok(match expr {
        Expr::Lit(l) => lit(l),
        Expr::Array(items) => Val::List(
            items
                .iter()
                .map(|e| eval(scope, e, locals))
                .collect::<Result<_, _>>()?,
        ),
        Expr::Var(name) => {
            if let Some((_, v)) = locals.iter().rev().find(|(n, _)| n == name) {
                v.clone()
            } else if let Some(v) = scope.var(name) {
                v.clone()
            } else {
                methods::global(scope, name, Vec::new(), false)?
            }
        }
        Expr::Global(name, args) => {
            let args = args
                .iter()
                .map(|e| eval(scope, e, locals))
                .collect::<Result<Vec<_>, _>>()?;
            if let Some((_, Val::Closure(c))) = locals.iter().rev().find(|(n, _)| n == name) {
                return call_closure(scope, c, args, locals);
            }
            methods::global(scope, name, args, true)?
        }
        Expr::Member {
            object,
            member,
            args,
            nullsafe,
        } => {
            let target = eval(scope, object, locals)?;
            if matches!(target, Val::Null) && *nullsafe {
                return Ok(Val::Null);
            }
            let member = eval(scope, member, locals)?;
            let args = match args {
                Some(a) => Some(
                    a.iter()
                        .map(|e| eval(scope, e, locals))
                        .collect::<Result<Vec<_>, _>>()?,
                ),
                None => None,
            };
            member_of(scope, &target, &member, args, locals)?
        }
        Expr::Closure(c) => Val::Closure(c.clone()),
        Expr::Coalesce(a, b) => match eval(scope, a, locals) {
            // KQL's (legacy) runner lets errors through `??`
            Err(e) if scope.kql.is_some() => return Err(e),
            Ok(Val::Null) | Err(_) => eval(scope, b, locals)?,
            Ok(v) => v,
        },
        Expr::Ternary(cond, yes, no) => {
            let c = eval(scope, cond, locals)?;
            if c.truthy() {
                match yes {
                    Some(y) => eval(scope, y, locals)?,
                    None => c,
                }
            } else {
                eval(scope, no, locals)?
            }
        }
        Expr::Logical(and, a, b) => {
            let left = eval(scope, a, locals)?.truthy();
            Val::Bool(if *and {
                left && eval(scope, b, locals)?.truthy()
            } else {
                left || eval(scope, b, locals)?.truthy()
            })
        }
        Expr::Compare(op, a, b) => {
            let l = eval(scope, a, locals)?;
            let r = eval(scope, b, locals)?;
            Val::Bool(compare(scope, op, &l, &r))
        }
        Expr::Arith(op, a, b) => {
            let l = number(&eval(scope, a, locals)?);
            let r = number(&eval(scope, b, locals)?);
            arith(*op, l, r)?
        }
    })
}

fn lit(l: &Lit) -> Val {
    match l {
        Lit::Null => Val::Null,
        Lit::Bool(b) => Val::Bool(*b),
        Lit::Int(n) => Val::Int(*n),
        Lit::Float(f) => Val::Float(*f),
        Lit::Str(s) => Val::Str(s.clone()),
    }
}

fn member_of(
    scope: &Scope<'_>,
    target: &Val,
    member: &Val,
    args: Option<Vec<Val>>,
    locals: Locals<'_>,
) -> Result<Val, QueryError> {
    if let Some(policy) = scope.kql {
        let name = match member {
            Val::Str(s) => s.clone(),
            other => scalar_text(other),
        };
        return super::kql::member(scope, policy, target, &name, args, locals);
    }
    // arrays: keys and indexes
    match (target, member) {
        (Val::List(items), Val::Int(i)) if args.is_none() => {
            return Ok(usize::try_from(*i)
                .ok()
                .and_then(|i| items.get(i).cloned())
                .unwrap_or(Val::Null));
        }
        (Val::Map(map), _) if args.is_none() => {
            let key = scalar_text(member);
            if let Some(v) = map.get(&key) {
                return Ok(v.clone());
            }
            if let Some(v) = map.get(&key.to_lowercase()) {
                return Ok(v.clone());
            }
        }
        _ => {}
    }
    let name = match member {
        Val::Str(s) => s.clone(),
        Val::Int(n) => n.to_string(),
        other => scalar_text(other),
    };
    if let Val::Null = target {
        return Err(QueryError::Unknown { name, on: "null" });
    }
    methods::call(scope, target, &name, args.unwrap_or_default(), locals)
}

/// Runs a closure with its arguments bound.
pub(crate) fn call_closure(
    scope: &Scope<'_>,
    closure: &Arc<(Vec<String>, Expr)>,
    args: Vec<Val>,
    locals: Locals<'_>,
) -> Result<Val, QueryError> {
    let (names, body) = &**closure;
    let mut bound: Vec<(String, Val)> = locals.to_vec();
    for (i, name) in names.iter().enumerate() {
        bound.push((name.clone(), args.get(i).cloned().unwrap_or(Val::Null)));
    }
    eval(scope, body, &bound)
}

/// A scalar view of a value for comparisons: fields by value, models by id.
pub(crate) fn scalar(v: &Val) -> Val {
    match v {
        Val::Field(f) => match &f.value {
            Some(s) => Val::Str(s.clone()),
            None => Val::Null,
        },
        other => other.clone(),
    }
}

pub(crate) fn scalar_text(v: &Val) -> String {
    match scalar(v) {
        Val::Null => String::new(),
        Val::Bool(true) => "1".into(),
        Val::Bool(false) => String::new(),
        Val::Int(n) => n.to_string(),
        Val::Float(f) => super::php_float(f),
        Val::Str(s) => s,
        _ => String::new(),
    }
}

/// PHP's numeric reading of a value (`"12abc"` is not numeric: 0).
pub(crate) fn number(v: &Val) -> f64 {
    match scalar(v) {
        Val::Int(n) => n as f64,
        Val::Float(f) => f,
        Val::Bool(b) => f64::from(u8::from(b)),
        Val::Str(s) => s.trim().parse().unwrap_or(0.0),
        Val::List(l) => l.len() as f64,
        _ => 0.0,
    }
}

fn is_numeric(v: &Val) -> bool {
    match v {
        Val::Int(_) | Val::Float(_) => true,
        Val::Str(s) => {
            let t = s.trim();
            !t.is_empty() && t.parse::<f64>().is_ok_and(f64::is_finite)
        }
        _ => false,
    }
}

fn arith(op: char, l: f64, r: f64) -> Result<Val, QueryError> {
    let v = match op {
        '+' => l + r,
        '-' => l - r,
        '*' => l * r,
        '/' | '%' if r == 0.0 => return Err(QueryError::Argument("division by zero".into())),
        '/' => l / r,
        '%' => ((l as i64) % (r as i64)) as f64,
        _ => return Err(QueryError::Argument(format!("unknown operator {op}"))),
    };
    Ok(
        if v.fract() == 0.0 && v.abs() < 9.0e15 && op != '/' || (op == '/' && v.fract() == 0.0) {
            Val::Int(v as i64)
        } else {
            Val::Float(v)
        },
    )
}

/// PHP 8's loose ordering of two scalar values.
pub(crate) fn loose_cmp(l: &Val, r: &Val) -> Ordering {
    let (l, r) = (scalar(l), scalar(r));
    match (&l, &r) {
        (Val::Null, Val::Null) => Ordering::Equal,
        (Val::Bool(_), _) | (_, Val::Bool(_)) | (Val::Null, _) | (_, Val::Null) => {
            l.truthy().cmp(&r.truthy())
        }
        _ if is_numeric(&l) && is_numeric(&r) => number(&l)
            .partial_cmp(&number(&r))
            .unwrap_or(Ordering::Equal),
        (Val::Int(_) | Val::Float(_), Val::Str(_)) | (Val::Str(_), Val::Int(_) | Val::Float(_)) => {
            // a number against a non-numeric string compares as strings
            scalar_text(&l).cmp(&scalar_text(&r))
        }
        _ => scalar_text(&l).cmp(&scalar_text(&r)),
    }
}

fn same(l: &Val, r: &Val) -> bool {
    match (scalar(l), scalar(r)) {
        (Val::Null, Val::Null) => true,
        (Val::Bool(a), Val::Bool(b)) => a == b,
        (Val::Int(a), Val::Int(b)) => a == b,
        (Val::Float(a), Val::Float(b)) => a == b,
        (Val::Str(a), Val::Str(b)) => a == b,
        (Val::Page(a), Val::Page(b)) | (Val::User(a), Val::User(b)) => a == b,
        (Val::File(a), Val::File(b)) => a == b,
        (Val::Site, Val::Site) | (Val::Kirby, Val::Kirby) => true,
        _ => false,
    }
}

fn loose_eq(scope: &Scope<'_>, l: &Val, r: &Val) -> bool {
    let models = |v: &Val| {
        matches!(
            v,
            Val::Page(_) | Val::File(_) | Val::User(_) | Val::Site | Val::Kirby
        )
    };
    if models(l) || models(r) {
        return same(l, r);
    }
    let _ = scope;
    loose_cmp(l, r) == Ordering::Equal
}

fn compare(scope: &Scope<'_>, op: &str, l: &Val, r: &Val) -> bool {
    match op {
        "==" => loose_eq(scope, l, r),
        "!=" => !loose_eq(scope, l, r),
        "===" => same(l, r),
        "!==" => !same(l, r),
        "<" => loose_cmp(l, r) == Ordering::Less,
        "<=" => loose_cmp(l, r) != Ordering::Greater,
        ">" => loose_cmp(l, r) == Ordering::Greater,
        ">=" => loose_cmp(l, r) != Ordering::Less,
        _ => false,
    }
}
