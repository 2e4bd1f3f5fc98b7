//! Decimal values as text: Connect carries a Decimal as the big-endian two's complement bytes of
//! its unscaled integer (Java's `BigInteger.toByteArray`); `decimal.format=NUMERIC` writes and
//! reads it as a JSON number, the way Java's `BigDecimal.toString` prints it for the scales
//! Connect uses (plain notation, exactly `scale` fraction digits).

/// `unscaled` (two's complement, big-endian) with `scale` fraction digits, e.g. `-0.01`.
pub(crate) fn to_text(unscaled: &[u8], scale: i32) -> String {
    let negative = unscaled.first().is_some_and(|b| b & 0x80 != 0);
    let mut magnitude: Vec<u8> = if negative { negate(unscaled) } else { unscaled.to_vec() };
    let mut digits = Vec::new();
    while magnitude.iter().any(|b| *b != 0) {
        let mut rem = 0u32;
        for b in magnitude.iter_mut() {
            let cur = (rem << 8) | u32::from(*b);
            *b = (cur / 10) as u8;
            rem = cur % 10;
        }
        digits.push(b'0' + rem as u8);
    }
    if digits.is_empty() {
        digits.push(b'0');
    }
    digits.reverse();
    let mut out = String::with_capacity(digits.len() + 3);
    if negative {
        out.push('-');
    }
    let text = String::from_utf8(digits).unwrap_or_default();
    if scale <= 0 {
        out.push_str(&text);
        out.extend(std::iter::repeat_n('0', (-scale) as usize));
        return out;
    }
    let scale = scale as usize;
    if text.len() <= scale {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', scale - text.len()));
        out.push_str(&text);
    } else {
        let (int, frac) = text.split_at(text.len() - scale);
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// The unscaled two's complement bytes of decimal `text` at `scale`; `None` if `text` is not a
/// plain decimal number or has more fraction digits than `scale` allows without rounding.
pub(crate) fn from_text(text: &str, scale: i32) -> Option<Vec<u8>> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], body[i + 1..].parse::<i32>().ok()?),
        None => (body, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty() || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    // value = digits * 10^(exp - frac.len()); we need digits * 10^(exp - frac.len() + scale).
    let mut digits: String = format!("{int}{frac}");
    let shift = exp - frac.len() as i32 + scale;
    if shift >= 0 {
        digits.extend(std::iter::repeat_n('0', shift as usize));
    } else {
        let cut = (-shift) as usize;
        let keep = digits.len().saturating_sub(cut);
        if digits[keep..].chars().any(|c| c != '0') {
            return None;
        }
        digits.truncate(keep);
    }
    let mut magnitude: Vec<u8> = vec![0];
    for d in digits.bytes() {
        let mut carry = u32::from(d - b'0');
        for b in magnitude.iter_mut().rev() {
            let cur = u32::from(*b) * 10 + carry;
            *b = (cur & 0xff) as u8;
            carry = cur >> 8;
        }
        while carry > 0 {
            magnitude.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    // Minimal two's complement, as BigInteger.toByteArray.
    while magnitude.len() > 1 && magnitude[0] == 0 && magnitude[1] & 0x80 == 0 {
        magnitude.remove(0);
    }
    if magnitude[0] & 0x80 != 0 {
        magnitude.insert(0, 0);
    }
    if negative && magnitude.iter().any(|b| *b != 0) {
        let mut n = negate(&magnitude);
        while n.len() > 1 && n[0] == 0xff && n[1] & 0x80 != 0 {
            n.remove(0);
        }
        return Some(n);
    }
    Some(magnitude)
}

fn negate(bytes: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = bytes.iter().map(|b| !b).collect();
    for b in out.iter_mut().rev() {
        let (v, overflow) = b.overflowing_add(1);
        *b = v;
        if !overflow {
            break;
        }
    }
    if bytes.first().is_some_and(|b| b & 0x80 != 0) && out.first().is_some_and(|b| b & 0x80 != 0) {
        out.insert(0, 0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_big_decimal_to_string() {
        assert_eq!(to_text(&[0x30, 0x39], 2), "123.45");
        assert_eq!(to_text(&[0xff], 2), "-0.01");
        assert_eq!(to_text(&[0], 2), "0.00");
        assert_eq!(to_text(&[0x80], 0), "-128");
    }

    #[test]
    fn parses_back_to_the_same_bytes() {
        for (bytes, scale) in
            [(vec![0x30, 0x39], 2), (vec![0xff], 2), (vec![0x80], 0), (vec![0x00, 0x80], 1), (vec![0], 3)]
        {
            let text = to_text(&bytes, scale);
            assert_eq!(from_text(&text, scale), Some(bytes.clone()), "{text}");
        }
        assert_eq!(from_text("1.5e2", 1), Some(vec![0x05, 0xdc]));
        assert_eq!(from_text("0.001", 2), None, "would need rounding");
        assert_eq!(from_text("abc", 2), None);
    }
}
