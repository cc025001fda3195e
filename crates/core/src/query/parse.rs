//! The query language's tokenizer and parser: a query string such as
//! `page.children.listed.sortBy("date", "desc").first.title` becomes an [`Expr`] tree.
//! The grammar is Kirby 5's: literals, arrays, variables, global calls, member access with
//! `.`/`?.`/`[…]` and optional arguments, closures `(a, b) => …`, arithmetic, comparison,
//! `&&`/`||`, `??` and the ternaries `a ? b : c` / `a ?: b`.

use std::sync::Arc;

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A literal value.
    Lit(Lit),
    /// `[a, b, …]`.
    Array(Vec<Expr>),
    /// A bare name (`page`, `site`, a closure argument).
    Var(String),
    /// A global function call (`page("blog")`).
    Global(String, Vec<Expr>),
    /// `object.member` / `object?.member` / `object[member]`, called when `args` is given.
    Member {
        object: Box<Expr>,
        member: Box<Expr>,
        args: Option<Vec<Expr>>,
        nullsafe: bool,
    },
    /// `(a, b) => body`.
    Closure(Arc<(Vec<String>, Expr)>),
    /// `left ?? right`.
    Coalesce(Box<Expr>, Box<Expr>),
    /// `cond ? yes : no`; `cond ?: no` when `yes` is `None`.
    Ternary(Box<Expr>, Option<Box<Expr>>, Box<Expr>),
    /// `+ - * / %`.
    Arith(char, Box<Expr>, Box<Expr>),
    /// `== === != !== < <= > >=`.
    Compare(&'static str, Box<Expr>, Box<Expr>),
    /// `&&` (true) or `||` (false).
    Logical(bool, Box<Expr>, Box<Expr>),
}

/// A literal in a query.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Lit(Lit),
    Ident(String),
    Coalesce,
    Nullsafe,
    TernaryDefault,
    Arrow,
    And,
    Or,
    Cmp(&'static str),
    Punct(char),
}

/// Why a query could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError(pub String);

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Unescapes a quoted string body the way PHP's `stripcslashes` does for the common escapes.
fn unescape(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('0') => out.push('\0'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

fn tokenize(src: &str) -> Result<Vec<Tok>, SyntaxError> {
    let chars: Vec<char> = src.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    let word_at = |i: usize, w: &str| -> bool {
        let n = w.chars().count();
        if i + n > chars.len() {
            return false;
        }
        let cand: String = chars[i..i + n].iter().collect();
        cand.eq_ignore_ascii_case(w) && chars.get(i + n).is_none_or(|c| !is_ident_char(*c))
    };
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        // keywords
        let mut keyword = None;
        for (w, lit) in [
            ("true", Lit::Bool(true)),
            ("false", Lit::Bool(false)),
            ("null", Lit::Null),
        ] {
            if word_at(i, w) {
                keyword = Some((w.len(), Tok::Lit(lit)));
                break;
            }
        }
        if keyword.is_none() {
            for (w, t) in [("AND", Tok::And), ("OR", Tok::Or)] {
                let n = w.len();
                if i + n <= chars.len()
                    && chars[i..i + n].iter().collect::<String>() == w
                    && chars.get(i + n).is_none_or(|c| !is_ident_char(*c))
                {
                    keyword = Some((n, t));
                    break;
                }
            }
        }
        if let Some((n, t)) = keyword {
            out.push(t);
            i += n;
            continue;
        }
        // strings
        if c == '"' || c == '\'' {
            let mut j = i + 1;
            let mut body = String::new();
            let mut closed = false;
            while j < chars.len() {
                if chars[j] == '\\' && j + 1 < chars.len() {
                    body.push('\\');
                    body.push(chars[j + 1]);
                    j += 2;
                    continue;
                }
                if chars[j] == c {
                    closed = true;
                    break;
                }
                body.push(chars[j]);
                j += 1;
            }
            if !closed {
                return Err(SyntaxError("unterminated string".into()));
            }
            out.push(Tok::Lit(Lit::Str(unescape(&body))));
            i = j + 1;
            continue;
        }
        // numbers (a leading minus only where a value may start)
        let value_may_start = matches!(
            out.last(),
            None | Some(
                Tok::Punct('(' | '[' | ',' | ':' | '?' | '+' | '-' | '*' | '/' | '%')
                    | Tok::Coalesce
                    | Tok::TernaryDefault
                    | Tok::Arrow
                    | Tok::And
                    | Tok::Or
                    | Tok::Cmp(_)
            )
        );
        let digits_from = if c == '-' && value_may_start {
            i + 1
        } else {
            i
        };
        if chars.get(digits_from).is_some_and(char::is_ascii_digit)
            && (digits_from == i || value_may_start)
        {
            let mut j = digits_from;
            while j < chars.len() && chars[j].is_ascii_digit() {
                j += 1;
            }
            let mut float = false;
            if j + 1 < chars.len() && chars[j] == '.' && chars[j + 1].is_ascii_digit() {
                float = true;
                j += 1;
                while j < chars.len() && chars[j].is_ascii_digit() {
                    j += 1;
                }
            }
            if chars.get(j).is_none_or(|c| !is_ident_char(*c)) {
                let text: String = chars[i..j].iter().collect();
                let lit = if float {
                    Lit::Float(text.parse().map_err(|_| SyntaxError("bad number".into()))?)
                } else {
                    match text.parse::<i64>() {
                        Ok(n) => Lit::Int(n),
                        Err(_) => Lit::Float(text.parse().unwrap_or(0.0)),
                    }
                };
                out.push(Tok::Lit(lit));
                i = j;
                continue;
            }
        }
        let next = chars.get(i + 1).copied();
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        let three: String = chars[i..(i + 3).min(chars.len())].iter().collect();
        if two == "??" {
            out.push(Tok::Coalesce);
            i += 2;
            continue;
        }
        if c == '?' {
            // `?.` and `?:`, with optional whitespace between
            let mut j = i + 1;
            while j < chars.len() && chars[j].is_whitespace() {
                j += 1;
            }
            if chars.get(j) == Some(&'.') && !chars.get(j + 1).is_some_and(char::is_ascii_digit) {
                out.push(Tok::Nullsafe);
                i = j + 1;
                continue;
            }
            if chars.get(j) == Some(&':') {
                out.push(Tok::TernaryDefault);
                i = j + 1;
                continue;
            }
        }
        if two == "=>" {
            out.push(Tok::Arrow);
            i += 2;
            continue;
        }
        if two == "&&" {
            out.push(Tok::And);
            i += 2;
            continue;
        }
        if two == "||" {
            out.push(Tok::Or);
            i += 2;
            continue;
        }
        let cmp3 = ["===", "!=="].into_iter().find(|op| *op == three);
        if let Some(op) = cmp3 {
            out.push(Tok::Cmp(op));
            i += 3;
            continue;
        }
        let cmp2 = ["<=", ">=", "==", "!="].into_iter().find(|op| *op == two);
        if let Some(op) = cmp2 {
            out.push(Tok::Cmp(op));
            i += 2;
            continue;
        }
        match c {
            '<' => {
                out.push(Tok::Cmp("<"));
                i += 1;
                continue;
            }
            '>' => {
                out.push(Tok::Cmp(">"));
                i += 1;
                continue;
            }
            '.' | '(' | ')' | '[' | ']' | ',' | ':' | '+' | '-' | '*' | '/' | '%' | '?' => {
                out.push(Tok::Punct(c));
                i += 1;
                continue;
            }
            _ => {}
        }
        if is_ident_char(c) {
            let mut j = i;
            while j < chars.len() && is_ident_char(chars[j]) {
                j += 1;
            }
            out.push(Tok::Ident(chars[i..j].iter().collect()));
            i = j;
            continue;
        }
        let _ = next;
        return Err(SyntaxError(format!("unexpected character {c:?}")));
    }
    Ok(out)
}

/// How deeply expressions may nest (brackets, calls, ternaries): deeper queries are refused
/// rather than risking the stack.
const MAX_DEPTH: usize = 64;

/// How many tokens a query may have (member chains and operator runs nest the tree too).
const MAX_TOKENS: usize = 1024;

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == Some(t) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, t: &Tok, what: &str) -> Result<(), SyntaxError> {
        if self.eat(t) {
            Ok(())
        } else {
            Err(SyntaxError(format!("expected {what}")))
        }
    }

    fn expression(&mut self) -> Result<Expr, SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(SyntaxError("the query nests too deeply".into()));
        }
        let result = self.expression_inner();
        self.depth -= 1;
        result
    }

    fn expression_inner(&mut self) -> Result<Expr, SyntaxError> {
        let cond = self.coalesce()?;
        if self.eat(&Tok::TernaryDefault) {
            let no = self.expression()?;
            return Ok(Expr::Ternary(Box::new(cond), None, Box::new(no)));
        }
        if self.eat(&Tok::Punct('?')) {
            let yes = self.expression()?;
            self.expect(&Tok::Punct(':'), "\":\" after the true branch")?;
            let no = self.expression()?;
            return Ok(Expr::Ternary(
                Box::new(cond),
                Some(Box::new(yes)),
                Box::new(no),
            ));
        }
        Ok(cond)
    }

    fn coalesce(&mut self) -> Result<Expr, SyntaxError> {
        let mut node = self.logical()?;
        while self.eat(&Tok::Coalesce) {
            node = Expr::Coalesce(Box::new(node), Box::new(self.logical()?));
        }
        Ok(node)
    }

    fn logical(&mut self) -> Result<Expr, SyntaxError> {
        let mut node = self.comparison()?;
        loop {
            let and = match self.peek() {
                Some(Tok::And) => true,
                Some(Tok::Or) => false,
                _ => break,
            };
            self.pos += 1;
            node = Expr::Logical(and, Box::new(node), Box::new(self.comparison()?));
        }
        Ok(node)
    }

    fn comparison(&mut self) -> Result<Expr, SyntaxError> {
        let mut node = self.arithmetic()?;
        while let Some(Tok::Cmp(op)) = self.peek().cloned() {
            self.pos += 1;
            node = Expr::Compare(op, Box::new(node), Box::new(self.arithmetic()?));
        }
        Ok(node)
    }

    fn arithmetic(&mut self) -> Result<Expr, SyntaxError> {
        let mut node = self.term()?;
        while let Some(Tok::Punct(op @ ('+' | '-'))) = self.peek().cloned() {
            self.pos += 1;
            node = Expr::Arith(op, Box::new(node), Box::new(self.term()?));
        }
        Ok(node)
    }

    fn term(&mut self) -> Result<Expr, SyntaxError> {
        let mut node = self.member()?;
        while let Some(Tok::Punct(op @ ('*' | '/' | '%'))) = self.peek().cloned() {
            self.pos += 1;
            node = Expr::Arith(op, Box::new(node), Box::new(self.member()?));
        }
        Ok(node)
    }

    fn member(&mut self) -> Result<Expr, SyntaxError> {
        let mut object = self.atomic()?;
        loop {
            let (nullsafe, bracket) = match self.peek() {
                Some(Tok::Punct('.')) => (false, false),
                Some(Tok::Nullsafe) => (true, false),
                Some(Tok::Punct('[')) => (false, true),
                _ => break,
            };
            self.pos += 1;
            let member = if bracket {
                let m = self.expression()?;
                self.expect(&Tok::Punct(']'), "\"]\"")?;
                m
            } else {
                match self.peek().cloned() {
                    Some(Tok::Ident(name)) => {
                        self.pos += 1;
                        Expr::Lit(Lit::Str(name))
                    }
                    Some(Tok::Lit(Lit::Int(n))) => {
                        self.pos += 1;
                        Expr::Lit(Lit::Int(n))
                    }
                    // `page.null` or `item.true`: keywords are names after a dot
                    Some(Tok::Lit(Lit::Null)) => {
                        self.pos += 1;
                        Expr::Lit(Lit::Str("null".into()))
                    }
                    Some(Tok::Lit(Lit::Bool(b))) => {
                        self.pos += 1;
                        Expr::Lit(Lit::Str(b.to_string()))
                    }
                    _ => return Err(SyntaxError("expected a name after \".\"".into())),
                }
            };
            let args = if self.eat(&Tok::Punct('(')) {
                Some(self.list(')')?)
            } else {
                None
            };
            object = Expr::Member {
                object: Box::new(object),
                member: Box::new(member),
                args,
                nullsafe,
            };
        }
        Ok(object)
    }

    fn list(&mut self, close: char) -> Result<Vec<Expr>, SyntaxError> {
        let mut items = Vec::new();
        while self.peek().is_some() && self.peek() != Some(&Tok::Punct(close)) {
            items.push(self.expression()?);
            if !self.eat(&Tok::Punct(',')) {
                break;
            }
        }
        self.expect(&Tok::Punct(close), &format!("\"{close}\""))?;
        Ok(items)
    }

    fn atomic(&mut self) -> Result<Expr, SyntaxError> {
        match self.peek().cloned() {
            Some(Tok::Lit(l)) => {
                self.pos += 1;
                Ok(Expr::Lit(l))
            }
            Some(Tok::Punct('[')) => {
                self.pos += 1;
                Ok(Expr::Array(self.list(']')?))
            }
            Some(Tok::Ident(name)) => {
                self.pos += 1;
                if self.eat(&Tok::Punct('(')) {
                    Ok(Expr::Global(name, self.list(')')?))
                } else {
                    Ok(Expr::Var(name))
                }
            }
            Some(Tok::Punct('(')) => {
                self.pos += 1;
                let items = self.list(')')?;
                if self.eat(&Tok::Arrow) {
                    let body = self.expression()?;
                    let mut names = Vec::new();
                    for item in items {
                        match item {
                            Expr::Var(n) => names.push(n),
                            _ => {
                                return Err(SyntaxError(
                                    "closure arguments must be plain names".into(),
                                ));
                            }
                        }
                    }
                    return Ok(Expr::Closure(Arc::new((names, body))));
                }
                if items.len() != 1 {
                    return Err(SyntaxError(
                        "expected \"=>\" after the argument list".into(),
                    ));
                }
                Ok(items.into_iter().next().unwrap_or(Expr::Lit(Lit::Null)))
            }
            Some(_) => Err(SyntaxError("expected an expression".into())),
            None => Err(SyntaxError("unexpected end of the query".into())),
        }
    }
}

/// Parses a whole query.
pub fn parse(src: &str) -> Result<Expr, SyntaxError> {
    let toks = tokenize(src.trim())?;
    if toks.is_empty() {
        return Err(SyntaxError("empty query".into()));
    }
    if toks.len() > MAX_TOKENS {
        return Err(SyntaxError("the query is too long".into()));
    }
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
    };
    let e = p.expression()?;
    if p.pos != p.toks.len() {
        return Err(SyntaxError("unexpected input after the expression".into()));
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Box<Expr> {
        Box::new(Expr::Lit(Lit::Str(x.into())))
    }

    #[test]
    fn member_chains_and_calls() {
        let e = parse("page.children.listed.limit(3)").unwrap();
        let Expr::Member {
            object,
            member,
            args,
            ..
        } = e
        else {
            panic!("not a member")
        };
        assert_eq!(member, s("limit"));
        assert_eq!(args, Some(vec![Expr::Lit(Lit::Int(3))]));
        assert!(matches!(*object, Expr::Member { .. }));
    }

    #[test]
    fn literals_operators_and_closures() {
        assert_eq!(parse("-2").unwrap(), Expr::Lit(Lit::Int(-2)));
        assert_eq!(parse("1.5").unwrap(), Expr::Lit(Lit::Float(1.5)));
        assert_eq!(parse("'a\\'b'").unwrap(), Expr::Lit(Lit::Str("a'b".into())));
        assert!(matches!(parse("a ?? 'b'").unwrap(), Expr::Coalesce(..)));
        assert!(matches!(
            parse("a ? 1 : 2").unwrap(),
            Expr::Ternary(_, Some(_), _)
        ));
        assert!(matches!(
            parse("a ?: 2").unwrap(),
            Expr::Ternary(_, None, _)
        ));
        assert!(matches!(
            parse("a?.b").unwrap(),
            Expr::Member { nullsafe: true, .. }
        ));
        assert!(matches!(parse("1 + 2 * 3").unwrap(), Expr::Arith('+', ..)));
        assert!(matches!(
            parse("a == 1 && b").unwrap(),
            Expr::Logical(true, ..)
        ));
        assert!(matches!(parse("(p) => p.title").unwrap(), Expr::Closure(_)));
        assert!(matches!(parse("page('blog')").unwrap(), Expr::Global(..)));
        assert!(matches!(parse("[1, 'x', null]").unwrap(), Expr::Array(v) if v.len() == 3));
        // a name that starts like a keyword is still a name
        assert_eq!(parse("nullable").unwrap(), Expr::Var("nullable".into()));
        // minus after a value is subtraction
        assert!(matches!(parse("a -1").unwrap(), Expr::Arith('-', ..)));
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let deep = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(parse(&deep).is_err());
        assert!(parse(&format!("page{}", ".title".repeat(2000))).is_err());
        let fine = format!("{}1{}", "(".repeat(20), ")".repeat(20));
        assert_eq!(parse(&fine).unwrap(), Expr::Lit(Lit::Int(1)));
    }

    #[test]
    fn syntax_errors() {
        for bad in ["", "page.", "page.(", "'open", "a ? b", "(a, b)", "page #"] {
            assert!(parse(bad).is_err(), "{bad:?} should not parse");
        }
    }
}
