//! Java's `toString` of numbers and dates, for Cast to string: `Float.toString`,
//! `Double.toString` (shortest digits, JDK 19+), `BigDecimal.toString`, and Connect's
//! `Values.dateFormatFor` formats.

use super::date_format::DateFormat;

/// Java's `Double.toString`.
pub(crate) fn double(v: f64) -> String {
    java_float(v.is_nan(), v.is_infinite(), v.is_sign_negative(), format!("{v:e}"), v.abs())
}

/// Java's `Float.toString`.
pub(crate) fn float(v: f32) -> String {
    java_float(v.is_nan(), v.is_infinite(), v.is_sign_negative(), format!("{v:e}"), f64::from(v.abs()))
}

fn java_float(nan: bool, inf: bool, negative: bool, sci: String, abs: f64) -> String {
    if nan {
        return "NaN".into();
    }
    if inf {
        return if negative { "-Infinity" } else { "Infinity" }.into();
    }
    let sign = if negative { "-" } else { "" };
    let sci = sci.trim_start_matches('-');
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if abs == 0.0 {
        return format!("{sign}0.0");
    }
    if (1e-3..1e7).contains(&abs) {
        let point = exp + 1;
        let (int, frac) = if point <= 0 {
            ("0".to_owned(), format!("{}{digits}", "0".repeat((-point) as usize)))
        } else {
            let p = point as usize;
            let padded = format!("{digits:0<p$}");
            (padded[..p].to_owned(), padded[p..].to_owned())
        };
        let frac = if frac.is_empty() { "0".to_owned() } else { frac };
        return format!("{sign}{int}.{frac}");
    }
    let (first, rest) = digits.split_at(1);
    format!("{sign}{first}.{}E{exp}", if rest.is_empty() { "0" } else { rest })
}

/// Java's `BigDecimal.toString` of a two's complement unscaled value and a scale; `None` when
/// the unscaled value is wider than 128 bits.
pub(crate) fn big_decimal(unscaled: &[u8], scale: i32) -> Option<String> {
    let n = unscaled_i128(unscaled)?;
    let digits = n.unsigned_abs().to_string();
    let sign = if n < 0 { "-" } else { "" };
    let adjusted = -i64::from(scale) + (digits.len() as i64 - 1);
    if scale == 0 {
        return Some(format!("{sign}{digits}"));
    }
    if scale > 0 && adjusted >= -6 {
        let scale = scale as usize;
        let s = if digits.len() > scale {
            format!("{}.{}", &digits[..digits.len() - scale], &digits[digits.len() - scale..])
        } else {
            format!("0.{}{digits}", "0".repeat(scale - digits.len()))
        };
        return Some(format!("{sign}{s}"));
    }
    let (first, rest) = digits.split_at(1);
    let point = if rest.is_empty() { String::new() } else { format!(".{rest}") };
    Some(format!("{sign}{first}{point}E{}{adjusted}", if adjusted >= 0 { "+" } else { "" }))
}

/// The unscaled value of a Decimal, if it fits 128 bits.
pub(crate) fn unscaled_i128(bytes: &[u8]) -> Option<i128> {
    if bytes.is_empty() || bytes.len() > 16 {
        return None;
    }
    let fill = if bytes[0] & 0x80 != 0 { 0xff } else { 0 };
    let mut buf = [fill; 16];
    buf[16 - bytes.len()..].copy_from_slice(bytes);
    Some(i128::from_be_bytes(buf))
}

/// Connect's `Values.dateFormatFor(date).format(date)`: a time of day for values under one
/// day, a date for whole days, else a timestamp (the choice follows the value, as in Kafka).
pub(crate) fn connect_date(ms: i64) -> String {
    let pattern = if ms < 86_400_000 {
        "HH:mm:ss.SSS'Z'"
    } else if ms % 86_400_000 == 0 {
        "yyyy-MM-dd"
    } else {
        "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"
    };
    DateFormat::new(pattern).map(|f| f.format(ms)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_java_prints_them() {
        assert_eq!(float(1.5e10), "1.5E10");
        assert_eq!(double(0.1), "0.1");
        assert_eq!(double(100.0), "100.0");
        assert_eq!(double(1.0e-5), "1.0E-5");
        assert_eq!(double(-12.5), "-12.5");
        assert_eq!(double(0.001), "0.001");
        assert_eq!(big_decimal(&[0x30, 0x39], 2).unwrap(), "123.45");
        assert_eq!(big_decimal(&[0xfb, 0x32], 3).unwrap(), "-1.230");
        assert_eq!(big_decimal(&[0x0f], -399).unwrap(), "1.5E+400");
    }

    #[test]
    fn dates_follow_the_value() {
        assert_eq!(connect_date(45_296_789), "12:34:56.789Z");
        assert_eq!(connect_date(86_400_000), "1970-01-02");
        assert_eq!(connect_date(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }
}
