//! Java's `SimpleDateFormat` in UTC with the US English locale, as TimestampConverter and
//! TimestampRouter use it: every pattern letter formats (`G y Y M L w W D d F E u a H k K h
//! m s S z Z X`), quoted text and `''` included. Parsing is lenient like Java's (field values
//! out of range roll over, trailing text is ignored) and reads `y M d H k K h m s S a E G z Z
//! X`; the week-based letters (`Y w W F u D`) are rejected when parsing, with a message saying
//! so. A letter Java does not know is a configuration error, as in Java.

use std::time::{SystemTime, UNIX_EPOCH};

use super::civil::{civil_from_days, days_from_civil, split_millis};

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
const DAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const LETTERS: &str = "GyYMLwWDdFEuaHkKhmsSzZX";

#[derive(Clone, Debug, PartialEq)]
enum Item {
    Literal(String),
    Field(char, usize),
}

/// A compiled pattern.
#[derive(Clone, Debug)]
pub(crate) struct DateFormat {
    pattern: String,
    items: Vec<Item>,
}

impl DateFormat {
    /// Compiles `pattern`; the error is Java's ("Illegal pattern character 'x'").
    pub(crate) fn new(pattern: &str) -> Result<Self, String> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut items = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == '\'' {
                let mut lit = String::new();
                i += 1;
                loop {
                    match (chars.get(i), chars.get(i + 1)) {
                        (None, _) => return Err("Unterminated quote".into()),
                        (Some('\''), Some('\'')) => {
                            lit.push('\'');
                            i += 2;
                        }
                        (Some('\''), _) => {
                            i += 1;
                            break;
                        }
                        (Some(ch), _) => {
                            lit.push(*ch);
                            i += 1;
                        }
                    }
                }
                // `''` outside quotes is a single quote.
                push_literal(&mut items, if lit.is_empty() { "'".into() } else { lit });
            } else if c.is_ascii_alphabetic() {
                if !LETTERS.contains(c) {
                    return Err(format!("Illegal pattern character '{c}'"));
                }
                let n = chars[i..].iter().take_while(|&&x| x == c).count();
                items.push(Item::Field(c, n));
                i += n;
            } else {
                push_literal(&mut items, c.to_string());
                i += 1;
            }
        }
        Ok(Self { pattern: pattern.to_owned(), items })
    }

    /// The pattern as given.
    pub(crate) fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Formats milliseconds since the epoch.
    pub(crate) fn format(&self, ms: i64) -> String {
        let (days, ms_of_day) = split_millis(ms);
        let (y, m, d) = civil_from_days(days);
        let dow = (days + 4).rem_euclid(7); // 0 = Sunday; 1970-01-01 was a Thursday
        let hour = ms_of_day / 3_600_000;
        let mut out = String::new();
        for item in &self.items {
            let (c, n) = match item {
                Item::Literal(s) => {
                    out.push_str(s);
                    continue;
                }
                Item::Field(c, n) => (*c, *n),
            };
            let num = |v: i64| pad(v, n);
            let text = match c {
                'G' => (if y > 0 { "AD" } else { "BC" }).to_owned(),
                'y' if n == 2 => pad(y.rem_euclid(100), 2),
                'y' => num(if y > 0 { y } else { 1 - y }),
                'Y' => {
                    let wy = week_of_year(days, y).0;
                    if n == 2 { pad(wy.rem_euclid(100), 2) } else { num(wy) }
                }
                'M' | 'L' if n >= 4 => MONTHS[(m - 1) as usize].to_owned(),
                'M' | 'L' if n == 3 => MONTHS[(m - 1) as usize][..3].to_owned(),
                'M' | 'L' => num(m),
                'w' => num(week_of_year(days, y).1),
                'W' => num((d - 1 + (days - (d - 1) + 4).rem_euclid(7)) / 7 + 1),
                'D' => num(days - days_from_civil(y, 1, 1) + 1),
                'd' => num(d),
                'F' => num((d - 1) / 7 + 1),
                'E' if n >= 4 => DAYS[dow as usize].to_owned(),
                'E' => DAYS[dow as usize][..3].to_owned(),
                'u' => num(if dow == 0 { 7 } else { dow }),
                'a' => (if hour < 12 { "AM" } else { "PM" }).to_owned(),
                'H' => num(hour),
                'k' => num(if hour == 0 { 24 } else { hour }),
                'K' => num(hour % 12),
                'h' => num(if hour % 12 == 0 { 12 } else { hour % 12 }),
                'm' => num(ms_of_day / 60_000 % 60),
                's' => num(ms_of_day / 1000 % 60),
                'S' => num(ms_of_day % 1000),
                'z' if n >= 4 => "Coordinated Universal Time".to_owned(),
                'z' => "UTC".to_owned(),
                'Z' => "+0000".to_owned(),
                _ => "Z".to_owned(), // 'X': ISO 8601 zone, UTC
            };
            out.push_str(&text);
        }
        out
    }

    /// Parses `text` leniently, as `SimpleDateFormat.parse(String)`; `None` when it does not
    /// match (Kafka's "does not match pattern" error), `Err` for letters Tributary cannot parse.
    pub(crate) fn parse(&self, text: &str) -> Result<Option<i64>, String> {
        let chars: Vec<char> = text.chars().collect();
        let mut f = Fields::default();
        let mut pos = 0;
        for (idx, item) in self.items.iter().enumerate() {
            match item {
                Item::Literal(lit) => {
                    for lc in lit.chars() {
                        if chars.get(pos) != Some(&lc) {
                            return Ok(None);
                        }
                        pos += 1;
                    }
                }
                Item::Field(c, n) => {
                    let abutting =
                        matches!(self.items.get(idx + 1), Some(Item::Field(next, nn)) if is_numeric(*next, *nn));
                    if !f.read(*c, *n, &chars, &mut pos, abutting)? {
                        return Ok(None);
                    }
                }
            }
        }
        Ok(Some(f.millis()))
    }
}

fn push_literal(items: &mut Vec<Item>, s: String) {
    match items.last_mut() {
        Some(Item::Literal(prev)) => prev.push_str(&s),
        _ => items.push(Item::Literal(s)),
    }
}

fn pad(v: i64, width: usize) -> String {
    if v < 0 { format!("-{:0width$}", -v, width = width.saturating_sub(1)) } else { format!("{v:0width$}") }
}

fn is_numeric(c: char, n: usize) -> bool {
    !(matches!(c, 'G' | 'E' | 'a' | 'z' | 'Z' | 'X') || (matches!(c, 'M' | 'L') && n >= 3))
}

/// The US week-based year and week (weeks start on Sunday; week 1 holds January 1st).
fn week_of_year(days: i64, y: i64) -> (i64, i64) {
    let week_start = |day: i64| day - (day + 4).rem_euclid(7);
    let start = week_start(days);
    let next_jan1 = days_from_civil(y + 1, 1, 1);
    if start + 6 >= next_jan1 {
        return (y + 1, 1);
    }
    (y, (start - week_start(days_from_civil(y, 1, 1))) / 7 + 1)
}

#[derive(Default)]
struct Fields {
    year: Option<i64>,
    month: i64,
    day: Option<i64>,
    hour: i64,
    minute: i64,
    second: i64,
    milli: i64,
    pm: Option<bool>,
    hour12: bool,
    offset_ms: i64,
    bc: bool,
}

impl Fields {
    fn millis(&self) -> i64 {
        let mut year = self.year.unwrap_or(1970);
        if self.bc {
            year = 1 - year;
        }
        let m0 = self.month - 1;
        let (y, m) = (year + m0.div_euclid(12), m0.rem_euclid(12) + 1);
        let days = days_from_civil(y, m, 1) + self.day.unwrap_or(1) - 1;
        let mut hour = self.hour;
        if self.hour12 && self.pm == Some(true) {
            hour += 12;
        }
        (((days * 24 + hour) * 60 + self.minute) * 60 + self.second) * 1000 + self.milli - self.offset_ms
    }

    fn read(&mut self, c: char, n: usize, s: &[char], pos: &mut usize, abutting: bool) -> Result<bool, String> {
        match c {
            'M' | 'L' if n >= 3 => return Ok(self.month_name(s, pos)),
            'E' => return Ok(name(s, pos, &DAYS).is_some()),
            'a' => {
                return Ok(match name(s, pos, &["AM", "PM"]) {
                    Some(i) => {
                        self.pm = Some(i == 1);
                        true
                    }
                    None => false,
                });
            }
            'G' => {
                return Ok(match name(s, pos, &["BC", "AD"]) {
                    Some(i) => {
                        self.bc = i == 0;
                        true
                    }
                    None => false,
                });
            }
            'z' | 'Z' | 'X' => return Ok(self.zone(s, pos)),
            'Y' | 'w' | 'W' | 'D' | 'F' | 'u' => {
                return Err(format!("Tributary cannot parse dates with the week-based pattern letter '{c}'"));
            }
            _ => {}
        }
        let Some(v) = number(s, pos, if abutting { n } else { usize::MAX }) else { return Ok(false) };
        match c {
            'y' => self.year = Some(if n <= 2 && v.1 <= 2 { two_digit_year(v.0) } else { v.0 }),
            'M' | 'L' => self.month = v.0,
            'd' => self.day = Some(v.0),
            'H' => self.hour = v.0,
            'k' => self.hour = if v.0 == 24 { 0 } else { v.0 },
            'K' => (self.hour, self.hour12) = (v.0, true),
            'h' => (self.hour, self.hour12) = (if v.0 == 12 { 0 } else { v.0 }, true),
            'm' => self.minute = v.0,
            's' => self.second = v.0,
            _ => self.milli = v.0, // 'S'
        }
        Ok(true)
    }

    fn month_name(&mut self, s: &[char], pos: &mut usize) -> bool {
        match name(s, pos, &MONTHS) {
            Some(i) => {
                self.month = i as i64 + 1;
                true
            }
            None => false,
        }
    }

    fn zone(&mut self, s: &[char], pos: &mut usize) -> bool {
        let rest: String = s[*pos..].iter().collect();
        if rest.starts_with('Z') {
            *pos += 1;
            return true;
        }
        for utc in ["UTC", "GMT"] {
            if let Some(after) = rest.strip_prefix(utc) {
                *pos += utc.len();
                if !after.starts_with(['+', '-']) {
                    return true;
                }
            }
        }
        let sign = match s.get(*pos) {
            Some('+') => 1,
            Some('-') => -1,
            _ => return false,
        };
        *pos += 1;
        let digits: String =
            s[*pos..].iter().filter(|c| **c != ':').take(4).take_while(|c| c.is_ascii_digit()).collect();
        let consumed = s[*pos..].iter().take_while(|c| c.is_ascii_digit() || **c == ':').count();
        let (h, m) = match digits.len() {
            2 => (digits.parse::<i64>().unwrap_or(0), 0),
            4 => (digits[..2].parse::<i64>().unwrap_or(0), digits[2..].parse::<i64>().unwrap_or(0)),
            _ => return false,
        };
        *pos += consumed;
        self.offset_ms = sign * (h * 60 + m) * 60_000;
        true
    }
}

/// Reads an optionally signed number of at most `max` digits: (value, digits read).
fn number(s: &[char], pos: &mut usize, max: usize) -> Option<(i64, usize)> {
    let mut i = *pos;
    let negative = s.get(i) == Some(&'-');
    if negative {
        i += 1;
    }
    let start = i;
    while i < s.len() && i - start < max && s[i].is_ascii_digit() {
        i += 1;
    }
    if i == start {
        return None;
    }
    let v: i64 = s[start..i].iter().collect::<String>().parse().ok()?;
    let digits = i - start;
    *pos = i;
    Some((if negative { -v } else { v }, digits))
}

/// Matches the longest full or three-letter name at `pos`, case-insensitively.
fn name(s: &[char], pos: &mut usize, names: &[&str]) -> Option<usize> {
    let rest: String = s[*pos..].iter().collect::<String>().to_lowercase();
    let mut best: Option<(usize, usize)> = None;
    for (i, n) in names.iter().enumerate() {
        for cand in [n.to_lowercase(), n.to_lowercase().chars().take(3).collect()] {
            if rest.starts_with(&cand) && best.is_none_or(|(_, len)| cand.chars().count() > len) {
                best = Some((i, cand.chars().count()));
            }
        }
    }
    let (i, len) = best?;
    *pos += len;
    Some(i)
}

/// Java's default century for two-digit years: within 80 years before and 20 after now.
fn two_digit_year(yy: i64) -> i64 {
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
    let (days, _) = split_millis(now_ms);
    let this_year = civil_from_days(days).0;
    let start = this_year - 80;
    let candidate = start - start.rem_euclid(100) + yy;
    if candidate < start { candidate + 100 } else { candidate }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(p: &str, ms: i64) -> String {
        DateFormat::new(p).unwrap().format(ms)
    }

    #[test]
    fn formats_like_simple_date_format_in_utc() {
        let t = 1_700_000_000_123; // 2023-11-14T22:13:20.123Z, a Tuesday
        assert_eq!(fmt("yyyy-MM-dd'T'HH:mm:ss.SSSZ", t), "2023-11-14T22:13:20.123+0000");
        assert_eq!(fmt("EEE, d MMM yyyy hh:mm:ss a", t), "Tue, 14 Nov 2023 10:13:20 PM");
        assert_eq!(fmt("yyyyMMdd", t), "20231114");
        assert_eq!(fmt("YYYY-ww-u D", t), "2023-46-2 318");
        assert_eq!(fmt("yy-M-d H:m:s.S", 5), "70-1-1 0:0:0.5");
        assert_eq!(fmt("'it''s' ''", 0), "it's '");
    }

    #[test]
    fn parses_leniently_and_rejects_what_does_not_match() {
        let f = DateFormat::new("yyyy-MM-dd HH:mm:ss").unwrap();
        assert_eq!(f.parse("2023-11-14 22:13:20").unwrap(), Some(1_700_000_000_000));
        assert_eq!(f.parse("2023-11-14 22:13:20 trailing").unwrap(), Some(1_700_000_000_000));
        assert_eq!(DateFormat::new("dd/MM/yyyy").unwrap().parse("2023-11-14").unwrap(), None);
        assert_eq!(
            DateFormat::new("yyyyMMddHHmmss").unwrap().parse("20231114221320").unwrap(),
            Some(1_700_000_000_000)
        );
    }

    #[test]
    fn unknown_letters_are_configuration_errors() {
        assert_eq!(DateFormat::new("yyyy-bb").unwrap_err(), "Illegal pattern character 'b'");
    }
}
