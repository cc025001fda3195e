//! Natural ordering of names, as PHP's `natsort` orders folder and file names: runs of digits
//! compare by numeric value, everything else byte by byte (so case-sensitive).

use std::cmp::Ordering;

/// Compares two strings in natural order.
pub fn cmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    // the common prefix decides nothing: start at the digit run holding the first difference
    // (the bytes before it are equal, so both split into the same runs up to there)
    let mut k = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    while k > 0 && a[k - 1].is_ascii_digit() {
        k -= 1;
    }
    let (mut i, mut j) = (k, k);
    while i < a.len() && j < b.len() {
        if a[i].is_ascii_digit() && b[j].is_ascii_digit() {
            let si = i;
            while i < a.len() && a[i].is_ascii_digit() {
                i += 1;
            }
            let sj = j;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            let da = trim_zeros(&a[si..i]);
            let db = trim_zeros(&b[sj..j]);
            let mut ord = da.len().cmp(&db.len());
            if ord == Ordering::Equal {
                // digit by digit: runs are short, a library call costs more
                ord = da
                    .iter()
                    .zip(db)
                    .map(|(x, y)| x.cmp(y))
                    .find(|o| *o != Ordering::Equal)
                    .unwrap_or(Ordering::Equal);
            }
            if ord != Ordering::Equal {
                return ord;
            }
        } else {
            let ord = a[i].cmp(&b[j]);
            if ord != Ordering::Equal {
                return ord;
            }
            i += 1;
            j += 1;
        }
    }
    (a.len() - i).cmp(&(b.len() - j))
}

fn trim_zeros(d: &[u8]) -> &[u8] {
    let n = d.iter().take_while(|c| **c == b'0').count();
    if n == d.len() {
        &d[d.len().saturating_sub(1)..]
    } else {
        &d[n..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_compare_numerically() {
        let mut v = vec![
            "10_x",
            "2_b",
            "1_a",
            "archive",
            "Zed",
            "20240212_t",
            "20240105_f",
        ];
        v.sort_by(|a, b| cmp(a, b));
        assert_eq!(
            v,
            [
                "1_a",
                "2_b",
                "10_x",
                "20240105_f",
                "20240212_t",
                "Zed",
                "archive"
            ]
        );
    }

    #[test]
    fn a_shared_prefix_inside_a_number_still_compares_whole_numbers() {
        assert_eq!(cmp("19", "100"), Ordering::Less);
        assert_eq!(cmp("x19y", "x100y"), Ordering::Less);
        assert_eq!(cmp("2024-03-05", "2024-04-01"), Ordering::Less);
        assert_eq!(cmp("2024-12-05", "2024-9-05"), Ordering::Greater);
        assert_eq!(cmp("a007", "a7"), Ordering::Equal);
        assert_eq!(cmp("a007b", "a7c"), Ordering::Less);
        assert_eq!(cmp("same", "same"), Ordering::Equal);
        assert_eq!(cmp("abc", "abcd"), Ordering::Less);
        assert_eq!(cmp("10", "10"), Ordering::Equal);
    }

    #[test]
    fn the_shortcut_orders_like_a_scan_from_the_start() {
        // every pair of a small alphabet of digit/letter strings
        let words: Vec<String> = (0..400)
            .map(|n: u32| {
                let alphabet = [b'0', b'1', b'9', b'a', b'-'];
                let mut x = n;
                let mut w = Vec::new();
                while x > 0 {
                    w.push(alphabet[(x % 5) as usize]);
                    x /= 5;
                }
                String::from_utf8(w).unwrap()
            })
            .collect();
        for a in &words {
            for b in &words {
                assert_eq!(cmp(a, b), slow(a, b), "{a:?} {b:?}");
            }
        }
    }

    /// The plain scan, for reference.
    fn slow(a: &str, b: &str) -> Ordering {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            if a[i].is_ascii_digit() && b[j].is_ascii_digit() {
                let (si, sj) = (i, j);
                while i < a.len() && a[i].is_ascii_digit() {
                    i += 1;
                }
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
                let (da, db) = (trim_zeros(&a[si..i]), trim_zeros(&b[sj..j]));
                let ord = da.len().cmp(&db.len()).then_with(|| da.cmp(db));
                if ord != Ordering::Equal {
                    return ord;
                }
            } else {
                let ord = a[i].cmp(&b[j]);
                if ord != Ordering::Equal {
                    return ord;
                }
                i += 1;
                j += 1;
            }
        }
        (a.len() - i).cmp(&(b.len() - j))
    }
}
