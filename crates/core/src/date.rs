//! Dates as Kirby reads and prints them: `toDate()` reads a date field (`2025-03-01`,
//! `2025-03-01 12:30`, ISO 8601, or a unix time) and formats it with PHP `date()` format
//! characters. Times without an offset are taken as UTC; there is no calendar crate.

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A broken-down UTC time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Civil {
    y: i64,
    m: u32,
    d: u32,
    h: u32,
    mi: u32,
    s: u32,
    /// 0 = Sunday.
    wd: u32,
    /// 0-based day of the year.
    yday: u32,
}

fn civil(ts: i64) -> Civil {
    let days = ts.div_euclid(86_400);
    let secs = ts.rem_euclid(86_400) as u32;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    Civil {
        y,
        m,
        d,
        h: secs / 3600,
        mi: (secs / 60) % 60,
        s: secs % 60,
        wd: (days + 4).rem_euclid(7) as u32,
        yday: (days - days_from_civil(y, 1, 1)) as u32,
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

fn num(s: &str) -> Option<u32> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// Parses a date field into a unix time: `YYYY-MM-DD`, optionally followed by ` HH:MM[:SS]`
/// or `THH:MM[:SS][.frac][Z|±HH:MM]`, or a plain unix time.
pub fn parse(value: &str) -> Option<i64> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    if let Some(digits) = v.strip_prefix('-').or(Some(v))
        && !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && digits.len() > 4
    {
        return v.parse().ok();
    }
    let (date, time) = match v.find(['T', 't', ' ']) {
        Some(i) => (&v[..i], v[i + 1..].trim()),
        None => (v, ""),
    };
    let mut parts = date.splitn(3, '-');
    let y: i64 = i64::from(num(parts.next()?)?);
    let m = num(parts.next()?)?;
    let d = num(parts.next()?)?;
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    let mut secs = 0i64;
    let mut offset = 0i64;
    if !time.is_empty() {
        // Split off an offset: `Z`, `+02:00`, `-0500`.
        let (clock, zone) = match time.find(['Z', 'z', '+', '-']) {
            Some(i) => (&time[..i], &time[i..]),
            None => (time, ""),
        };
        let clock = clock.split('.').next().unwrap_or("");
        let mut hms = clock.split(':');
        let h = num(hms.next()?)?;
        let mi = num(hms.next().unwrap_or("0"))?;
        let s = num(hms.next().unwrap_or("0"))?;
        if h > 23 || mi > 59 || s > 60 {
            return None;
        }
        secs = i64::from(h * 3600 + mi * 60 + s);
        if let Some(sign) = zone.chars().next().filter(|c| matches!(c, '+' | '-')) {
            let digits: String = zone[1..].chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 {
                return None;
            }
            let oh = i64::from(num(&digits[..2])?);
            let om = i64::from(num(&digits[2..])?);
            offset = (oh * 3600 + om * 60) * if sign == '-' { -1 } else { 1 };
        } else if !zone.is_empty() && !zone.eq_ignore_ascii_case("z") {
            return None;
        }
    }
    Some(days_from_civil(y, m, d) * 86_400 + secs - offset)
}

const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Formats a unix time with PHP `date()` characters (UTC). `\` escapes the next character;
/// characters without a meaning are copied.
pub fn format(ts: i64, fmt: &str) -> String {
    let c = civil(ts);
    let mut out = String::new();
    let mut chars = fmt.chars();
    let h12 = if c.h.is_multiple_of(12) { 12 } else { c.h % 12 };
    while let Some(ch) = chars.next() {
        match ch {
            '\\' => {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            'd' => out.push_str(&format!("{:02}", c.d)),
            'D' => out.push_str(&DAYS[c.wd as usize][..3]),
            'j' => out.push_str(&c.d.to_string()),
            'l' => out.push_str(DAYS[c.wd as usize]),
            'N' => out.push_str(&(if c.wd == 0 { 7 } else { c.wd }).to_string()),
            'S' => out.push_str(match (c.d % 10, c.d) {
                (_, 11..=13) => "th",
                (1, _) => "st",
                (2, _) => "nd",
                (3, _) => "rd",
                _ => "th",
            }),
            'w' => out.push_str(&c.wd.to_string()),
            'z' => out.push_str(&c.yday.to_string()),
            'F' => out.push_str(MONTHS[(c.m - 1) as usize]),
            'M' => out.push_str(&MONTHS[(c.m - 1) as usize][..3]),
            'm' => out.push_str(&format!("{:02}", c.m)),
            'n' => out.push_str(&c.m.to_string()),
            't' => out.push_str(&days_in_month(c.y, c.m).to_string()),
            'L' => out.push(if is_leap(c.y) { '1' } else { '0' }),
            'Y' => out.push_str(&format!("{:04}", c.y)),
            'y' => out.push_str(&format!("{:02}", c.y.rem_euclid(100))),
            'a' => out.push_str(if c.h < 12 { "am" } else { "pm" }),
            'A' => out.push_str(if c.h < 12 { "AM" } else { "PM" }),
            'g' => out.push_str(&h12.to_string()),
            'G' => out.push_str(&c.h.to_string()),
            'h' => out.push_str(&format!("{h12:02}")),
            'H' => out.push_str(&format!("{:02}", c.h)),
            'i' => out.push_str(&format!("{:02}", c.mi)),
            's' => out.push_str(&format!("{:02}", c.s)),
            'e' | 'T' => out.push_str("UTC"),
            'P' => out.push_str("+00:00"),
            'O' => out.push_str("+0000"),
            'Z' => out.push('0'),
            'c' => out.push_str(&format(ts, "Y-m-d\\TH:i:sP")),
            'r' => out.push_str(&format(ts, "D, d M Y H:i:s O")),
            'U' => out.push_str(&ts.to_string()),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kirby_dates() {
        assert_eq!(parse("1970-01-01"), Some(0));
        assert_eq!(parse("2025-03-01"), Some(1_740_787_200));
        assert_eq!(parse("2025-03-01 12:30"), Some(1_740_787_200 + 45_000));
        assert_eq!(
            parse("2025-03-01T12:30:00+01:00"),
            Some(1_740_787_200 + 41_400)
        );
        assert_eq!(parse("2025-03-01T12:30:00Z"), Some(1_740_787_200 + 45_000));
        assert_eq!(parse("1740787200"), Some(1_740_787_200));
        assert_eq!(parse("2025-02-30"), None);
        assert_eq!(parse("soon"), None);
        assert_eq!(parse(""), None);
    }

    #[test]
    fn formats_like_php_date() {
        let t = parse("2025-03-01 09:05:07").unwrap();
        assert_eq!(format(t, "d.m.Y"), "01.03.2025");
        assert_eq!(format(t, "j F Y"), "1 March 2025");
        assert_eq!(format(t, "D, jS M y"), "Sat, 1st Mar 25");
        assert_eq!(format(t, "l g:i a"), "Saturday 9:05 am");
        assert_eq!(format(t, "c"), "2025-03-01T09:05:07+00:00");
        assert_eq!(format(t, "\\Y\\e\\a\\r: Y"), "Year: 2025");
        assert_eq!(format(t, "z t L"), "59 31 0");
        assert_eq!(format(parse("2024-12-31").unwrap(), "z L"), "365 1");
    }
}
