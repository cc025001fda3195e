//! Natural ordering of names, as PHP's `natsort` orders folder and file names: runs of digits
//! compare by numeric value, everything else byte by byte (so case-sensitive).

use std::cmp::Ordering;

/// Compares two strings in natural order.
pub fn cmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
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
}
