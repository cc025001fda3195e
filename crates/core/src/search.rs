//! Kirby's collection search (`?q=`): words, per-field scoring with weights, and ordering by
//! score. Works on any list of items given as (id-like fields, content fields).

/// Splits a query into Kirby's search words (whitespace and commas; words of 2+ chars).
pub fn words(query: &str) -> Vec<String> {
    query
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| w.chars().count() >= 2)
        .map(str::to_lowercase)
        .collect()
}

/// Scores one item. `fields` are (field name, value); `heavy` names get weight 64.
/// Returns 0 when nothing matches.
pub fn score<'a>(
    query: &str,
    words: &[String],
    fields: impl IntoIterator<Item = (&'a str, &'a str)>,
    heavy: &[&str],
) -> u64 {
    let q = query.to_lowercase();
    let mut total = 0u64;
    let mut hits = false;
    for (name, value) in fields {
        let weight = if heavy.contains(&name) { 64 } else { 1 };
        let v = value.to_lowercase();
        if v.is_empty() {
            continue;
        }
        let mut s = 0;
        if v == q {
            s += 16 * weight;
        } else if v.starts_with(&q) {
            s += 8 * weight;
        } else if v.contains(&q) {
            s += 2 * weight;
        }
        for w in words {
            if v.contains(w.as_str()) {
                s += weight;
            }
        }
        if s > 0 {
            hits = true;
            total += s;
        }
    }
    if hits { total } else { 0 }
}

/// A prepared search: the lowercase query and its words, with their substring finders
/// built once and reused for every item.
pub struct Query<'q> {
    q: &'q str,
    finder: memchr::memmem::Finder<'q>,
    words: Vec<memchr::memmem::Finder<'q>>,
}

impl<'q> Query<'q> {
    /// Prepares a lowercase query and its lowercase words.
    pub fn new(q: &'q str, words: &'q [String]) -> Self {
        Query {
            q,
            finder: memchr::memmem::Finder::new(q.as_bytes()),
            words: words
                .iter()
                .map(|w| memchr::memmem::Finder::new(w.as_bytes()))
                .collect(),
        }
    }

    /// Scores an item whose field values are already lowercase (see [`lowercase_fields`]).
    pub fn score<'a>(
        &self,
        fields: impl IntoIterator<Item = (&'a str, &'a str)>,
        heavy: &[&str],
    ) -> u64 {
        let mut total = 0u64;
        for (name, v) in fields {
            if v.is_empty() {
                continue;
            }
            let weight = if heavy.contains(&name) { 64 } else { 1 };
            let mut s = 0;
            if v == self.q {
                s += 16 * weight;
            } else if v.starts_with(self.q) {
                s += 8 * weight;
            } else if self.finder.find(v.as_bytes()).is_some() {
                s += 2 * weight;
            }
            for f in &self.words {
                if f.find(v.as_bytes()).is_some() {
                    s += weight;
                }
            }
            total += s;
        }
        total
    }
}

/// Scores one item whose field values are already lowercase, with a lowercase query.
pub fn score_lower<'a>(
    q: &str,
    words: &[String],
    fields: impl IntoIterator<Item = (&'a str, &'a str)>,
    heavy: &[&str],
) -> u64 {
    Query::new(q, words).score(fields, heavy)
}

/// Lowercased copies of an item's searchable fields, computed once per snapshot.
pub fn lowercase_fields<'a>(
    fields: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Vec<(String, String)> {
    fields
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_lowercase()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scoring() {
        let w = words("harbor map");
        assert_eq!(w, ["harbor", "map"]);
        let s = score(
            "harbor map",
            &w,
            [("title", "Harbor Map"), ("text", "x")],
            &["title"],
        );
        assert_eq!(s, 16 * 64 + 2 * 64);
        assert_eq!(
            score("zzz", &words("zzz"), [("title", "Harbor")], &["title"]),
            0
        );
        assert!(words("a").is_empty());
        let lower = lowercase_fields([("title", "Harbor Map"), ("text", "x")]);
        let fields = lower.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        assert_eq!(
            score_lower("harbor map", &w, fields, &["title"]),
            s,
            "both scorers agree"
        );
        let lower = lowercase_fields([("title", "Harbor Map"), ("text", "x")]);
        let s2 = score_lower(
            "harbor map",
            &w,
            lower.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            &["title"],
        );
        assert_eq!(s2, s, "both scorers agree");
    }
}
