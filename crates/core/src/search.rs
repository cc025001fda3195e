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
    }
}
